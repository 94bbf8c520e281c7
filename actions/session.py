"""Opening of every conversation: the disclaimer, without waiting for an answer."""

import time
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clinic.contract import Slot, TriageResult
from clinic.handoff import paused_at_end
from clinic.safety import still_urgent

# Carried into a new session while the conversation is still urgent (clinic/safety.py, 14 days).
URGENT_SLOTS = (Slot.TRIAGE_RESULT, Slot.RED_FLAGS, Slot.URGENT_SINCE)


def carried_urgency(tracker: Tracker, now: float) -> List[EventType]:
    """The urgent slots of the session that ended, if its red flag is recent enough to still hold."""
    if tracker.get_slot(Slot.TRIAGE_RESULT) != TriageResult.URGENT:
        return []
    if not still_urgent(tracker.get_slot(Slot.URGENT_SINCE), now):
        return []
    return [SlotSet(name, tracker.get_slot(name)) for name in URGENT_SLOTS]


class ActionSessionStart(Action):
    """Start a session with the information-not-diagnosis disclaimer."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Open the session, show the disclaimer, then listen.

        A patient who was waiting for a person when the last session ended keeps waiting: the new
        session stays paused (and in the staff console's inbox), and they are told so. A red flag
        of the last 14 days keeps the new session urgent (no extraction booked, "see a doctor first").
        """
        urgent = carried_urgency(tracker, time.time())
        if paused_at_end(event.get("event", "") for event in tracker.events):
            dispatcher.utter_message(response="utter_handoff_still_waiting")
            return [SessionStarted(), *urgent, ConversationPaused(), ActionExecuted("action_listen")]
        dispatcher.utter_message(response="utter_disclaimer")
        events: List[Dict[str, Any]] = [SessionStarted(), *urgent]
        events.append(ActionExecuted("action_listen"))
        return events
