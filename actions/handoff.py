"""Handoff to a person: the patient is told someone will reply, and the bot pauses.

The conversation then waits in the staff console's "Needs a person" inbox; staff reply from
there and hand it back to the bot (which appends ConversationResumed through Rasa's HTTP API).
"""

from typing import List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionHandoff(Action):
    """Tell the patient a person will reply here, then pause the bot for this conversation."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Say a person is coming, then pause."""
        dispatcher.utter_message(response="utter_handoff_waiting")
        return [ConversationPaused()]
