"""The triage assessment: stores the result; `utter_assessment` words it for the patient."""

from typing import List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

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
            tracker.get_slot("bump_hardness"),
            tracker.get_slot("bump_fluid"),
            tracker.get_slot("red_flags") or [],
        )
        return [
            SlotSet("triage_result", result.value),
            SlotSet("near_eye", tracker.get_slot("bump_location") == "eye_area"),
        ]
