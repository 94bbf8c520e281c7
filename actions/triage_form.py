"""The triage form: asks only what it doesn't know, reads typed answers and negations."""

import re
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import screening
from actions.screening import intent_of, typed_text
from clinic import findings

# Intents whose text may answer the form's question.
ANSWER_INTENTS = frozenset({"inform", "describe_bump", "affirm", "deny"})

SLOT_KIND = {"bump_hardness": "hardness", "bump_fluid": "fluid", "bump_location": "location"}
TEXT_READERS = {
    "bump_hardness": findings.hardness_from_text,
    "bump_fluid": findings.fluid_from_text,
    "bump_location": findings.location_from_text,
}


# What a third unreadable answer in a row records: a professional looks at the bump anyway.
GIVEN_UP = {"bump_hardness": "unsure", "bump_fluid": "unsure", "bump_location": "other"}
# "on my kneecap", "behind his ear": a place the lexicon doesn't name, said in answer to "where is it?"
SOME_PLACE = re.compile(
    r"\b(?:on|under|near|by|next to|beside|behind|above|below|around|in|inside|at)\s+"
    r"(?:my|his|her|their|the|our|your)\s+[a-z]{3,}",
    re.IGNORECASE,
)


class ValidateTriageForm(FormValidationAction):
    """Fill and check hardness, fluid and location; stop early on a red flag."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "validate_triage_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Validate; a bump described after an earlier assessment starts a fresh triage."""
        restart: List[EventType] = []
        if screening.intent_of(tracker) in screening.TEXT_REPLIES:
            return []  # a reply to the clinic's text: the rules end the form and answer it
        if tracker.get_slot("triage_result") is not None:
            restart = self._forget_previous_triage(tracker)
        return restart + await screening.extract_and_validate(self, dispatcher, tracker, domain)

    @staticmethod
    def _forget_previous_triage(tracker: Tracker) -> List[EventType]:
        """Keep only what the latest message says; forget the previous bump's answers."""
        latest = {e.get("entity"): e.get("value") for e in tracker.latest_message.get("entities", [])}
        fresh = {
            "bump_hardness": findings.normalise("hardness", latest.get("hardness")),
            "bump_fluid": findings.normalise("fluid", latest.get("fluid")),
            "bump_location": findings.normalise("location", latest.get("location")),
            "red_flags": [latest["red_flag"]] if latest.get("red_flag") else None,
            "triage_result": None,
            "near_eye": None,
        }
        tracker.slots.update(fresh)
        return [SlotSet(slot, value) for slot, value in fresh.items()]

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        """Ask nothing more once a red flag is known: the doctor advice comes first."""
        if tracker.get_slot("red_flags"):
            return []
        return domain_slots

    def _read(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        """Read the slot from the typed words, in the light of the question asked.

        The answer to the question asked is read whatever the intent classifier made of it ("bone dry"
        to the fluid question is fluid, "on my kneecap" to the location question a place); an
        unreadable answer climbs the never-loop ladder (actions/screening.py).
        """
        text = typed_text(tracker)
        intent = intent_of(tracker)
        if text is None:
            return {}
        asked = tracker.get_slot("requested_slot") == slot
        if findings.asks_what_it_means(text) and not screening.said_again(tracker):
            return self._explain(slot, dispatcher, tracker) if asked else {}  # no answer in it
        value = TEXT_READERS[slot](text)
        if value == "unsure" and not asked:
            value = None  # "not sure" answers the question that was asked, not the others
        if value is None and asked and slot == "bump_fluid":  # a yes/no question: "nothing", "nowt", "aye"
            value = findings.bare_yes_no(text) or {"affirm": "yes", "deny": "no"}.get(intent)
        if value is None and asked and slot == "bump_location" and SOME_PLACE.search(text):
            value = "other"
        if value is not None:
            if asked:
                return {slot: value, **screening.ANSWERED}
            return {slot: value} if intent in ANSWER_INTENTS else {}
        if not asked or tracker.get_slot(slot) is not None or self._entity_in_message(slot, tracker):
            return {}
        if screening.interrupted(tracker):
            return {}  # a question instead of an answer: the rules answer it, then the form asks again
        events = screening.missed(slot, dispatcher, tracker)
        if screening.gave_up(events):
            dispatcher.utter_message(response="utter_noted_unsure")
            events[slot] = GIVEN_UP[slot]
        return events

    async def extract_warning_signs(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """The screening answer: none; unreadable is asked again (with help), then taken as a yes-maybe."""
        # still unclear after the help: a yes-maybe, so a doctor first (urgent)
        return screening.screening_events(dispatcher, tracker, {"warning_signs": screening.UNCLEAR})

    @staticmethod
    def _explain(slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        """"What do you mean by fluid?": say what the question means; it is then asked once more.

        It counts as the first miss, so the question is never asked a third time in a row.
        """
        if screening.misses_so_far(tracker, slot) >= 1:  # explained or helped already: move on
            dispatcher.utter_message(response="utter_noted_unsure")
            return {slot: GIVEN_UP[slot], **screening.ANSWERED}
        dispatcher.utter_message(response=f"utter_explain_{slot}")
        return {slot: None, "question_misses": 1.0, "missed_question": slot, "needs_answer_help": False}

    @staticmethod
    def _entity_in_message(slot: str, tracker: Tracker) -> bool:
        kind = SLOT_KIND[slot]
        return any(e.get("entity") == kind for e in (tracker.latest_message or {}).get("entities", []))

    async def extract_bump_hardness(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Hardness from typed words ("not soft" is hard)."""
        return self._read("bump_hardness", dispatcher, tracker)

    async def extract_bump_fluid(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Fluid from typed words ("no pus" is no; "yes"/"nope" answer the question)."""
        return self._read("bump_fluid", dispatcher, tracker)

    async def extract_bump_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Location from typed words ("lash line" is eye_area)."""
        return self._read("bump_location", dispatcher, tracker)

    def _validate(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[str, Any]:
        if value is None:  # cleared by the extraction, which already asked again
            return {slot: None}
        canonical = findings.normalise(SLOT_KIND[slot], value)
        if canonical is None and slot == "bump_location" and value:
            canonical = "other"
        if canonical is None:
            dispatcher.utter_message(response="utter_answer_not_understood")
        return {slot: canonical}

    def validate_bump_hardness(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep hard, soft or unsure."""
        return self._validate("bump_hardness", slot_value, dispatcher)

    def validate_bump_fluid(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep yes, no or unsure."""
        return self._validate("bump_fluid", slot_value, dispatcher)

    def validate_bump_location(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep one of the contract's locations (anything named but unknown is "other")."""
        return self._validate("bump_location", slot_value, dispatcher)
