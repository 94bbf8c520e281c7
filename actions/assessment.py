"""The triage assessment: stores the result; `utter_assessment` words it for the patient."""

import time
from typing import List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clinic.triage import TriageResult, assess


class ActionGiveAssessment(Action):
    """Tell milia from pustules, or send to a doctor, from the triage slots."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_give_assessment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `triage_result` and `near_eye`, which pick the variant of `utter_assessment`."""
        result = assess(
            tracker.get_slot("bump_hardness"),
            tracker.get_slot("bump_fluid"),
            tracker.get_slot("red_flags") or [],
            warning_signs_unclear=tracker.get_slot("warning_signs") == "unclear",
        )
        events: List[EventType] = [
            SlotSet("triage_result", result.value),
            SlotSet("near_eye", tracker.get_slot("bump_location") == "eye_area"),
        ]
        if result is TriageResult.URGENT and tracker.get_slot("urgent_since") is None:
            events.append(SlotSet("urgent_since", time.time()))  # urgent lasts (clinic/safety.py)
        return events
