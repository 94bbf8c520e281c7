"""Opening of every conversation: the disclaimer, without waiting for an answer."""

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clinic.handoff import paused_at_end


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
        session stays paused (and in the staff console's inbox), and they are told so.
        """
        if paused_at_end(event.get("event", "") for event in tracker.events):
            dispatcher.utter_message(response="utter_handoff_still_waiting")
            return [SessionStarted(), ConversationPaused(), ActionExecuted("action_listen")]
        dispatcher.utter_message(response="utter_disclaimer")
        events: List[Dict[str, Any]] = [SessionStarted()]
        events.append(ActionExecuted("action_listen"))
        return events
