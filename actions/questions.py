"""Questions for the team: the patient's question is passed on to the staff console, the bot goes on.

The clinic's text and config don't answer these (aftercare, causes, coming back, children, pregnancy,
cancer), so the bot never does: it offers to pass the question on (domain/clinic_answers.yml) and, on
yes, sets `team_question` to the patient's words. The console's index reads that slot and lists the
conversation in its "Needs a person" inbox marked as a question; a staff reply there reaches the
patient's channel. Unlike a handoff (actions/handoff.py) the conversation is not paused.
"""

from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from clinic.contract import Intent, Slot

TEAM_QUESTION_SLOT = Slot.TEAM_QUESTION
# The intents whose answer offers to pass the question on (data/rules/clinic_answers.yml).
TEAM_QUESTION_INTENTS = frozenset({
    Intent.ASK_AFTERCARE, Intent.ASK_CAUSE, Intent.ASK_RECURRENCE, Intent.ASK_CHILDREN, Intent.ASK_PREGNANCY,
    Intent.ASK_CANCER,
})
MAX_QUESTION_CHARS = 500


def question_asked(events: List[Dict[str, Any]]) -> Optional[str]:
    """The patient's latest question for the team (their words), or None if there is none to pass on.

    Only messages since the offer's question count: the latest user message before the yes must be it.
    """
    users = [e for e in events if e.get("event") == "user"]
    for event in reversed(users[:-1]):  # the last one is the yes itself
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        text = (event.get("text") or "").strip()
        if intent in TEAM_QUESTION_INTENTS and text and not text.startswith("/"):
            return text[:MAX_QUESTION_CHARS]
        return None
    return None


class ActionPassQuestionOn(Action):
    """Pass the patient's question to the team (the console's inbox), without pausing the bot."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_pass_question_on"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `team_question` to the patient's words and tell them the team will reply here."""
        question = question_asked(list(tracker.events))
        if question is None:
            dispatcher.utter_message(response="utter_question_not_found")
            return []
        dispatcher.utter_message(response="utter_question_passed_on")
        return [SlotSet(TEAM_QUESTION_SLOT, question)]
