"""The triage assessment: stores the result; `utter_assessment` words it for the patient."""

import time
from typing import List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clinic.contract import Location, Slot, TriageResult, WarningSigns
from clinic.triage import assess


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
            tracker.get_slot(Slot.BUMP_HARDNESS),
            tracker.get_slot(Slot.BUMP_FLUID),
            tracker.get_slot(Slot.RED_FLAGS) or [],
            warning_signs_unclear=tracker.get_slot(Slot.WARNING_SIGNS) == WarningSigns.UNCLEAR,
        )
        events: List[EventType] = [
            SlotSet(Slot.TRIAGE_RESULT, result.value),
            SlotSet(Slot.NEAR_EYE, tracker.get_slot(Slot.BUMP_LOCATION) == Location.EYE_AREA),
        ]
        if result is TriageResult.URGENT and tracker.get_slot(Slot.URGENT_SINCE) is None:
            events.append(SlotSet(Slot.URGENT_SINCE, time.time()))  # urgent lasts (clinic/safety.py)
        return events
