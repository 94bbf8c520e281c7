"""The triage form: asks only what it doesn't know, reads typed answers and negations."""

import re
from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import screening
from actions.screening import intent_of, typed_text
from clinic import findings
from clinic.contract import (
    DESCRIBING_ENTITIES,
    REQUESTED_SLOT,
    SLOT_OF_ENTITY,
    Entity,
    Fluid,
    Hardness,
    Intent,
    Location,
    Slot,
    TriageResult,
)

# Intents whose text may answer the form's question.
ANSWER_INTENTS = frozenset({Intent.INFORM, Intent.DESCRIBE_BUMP, Intent.AFFIRM, Intent.DENY})

SLOT_KIND: Dict[str, str] = {
    slot: entity for entity, slot in SLOT_OF_ENTITY.items() if entity in DESCRIBING_ENTITIES
}
TEXT_READERS: Dict[str, Callable[[str], Optional[str]]] = {
    Slot.BUMP_HARDNESS: findings.hardness_from_text,
    Slot.BUMP_FLUID: findings.fluid_from_text,
    Slot.BUMP_LOCATION: findings.location_from_text,
}


# What a third unreadable answer in a row records: a professional looks at the bump anyway.
# The fluid question's Yes / No, from the intent when the words say neither.
# (keyed by the latest intent, None when there is none)
YES_NO: Dict[Optional[str], str] = {Intent.AFFIRM: Fluid.YES, Intent.DENY: Fluid.NO}
GIVEN_UP: Dict[str, str] = {
    Slot.BUMP_HARDNESS: Hardness.UNSURE, Slot.BUMP_FLUID: Fluid.UNSURE, Slot.BUMP_LOCATION: Location.OTHER,
}
# "on my kneecap", "behind his ear": a place the lexicon doesn't name, said in answer to "where is it?"
SOME_PLACE = re.compile(
    r"\b(?:on|under|near|by|next to|beside|behind|above|below|around|in|inside|at)\s+"
    r"(?:my|his|her|their|the|our|your)\s+[a-z]{3,}",
    re.IGNORECASE,
)


def _latest_entity(tracker: Tracker, kind: str) -> Any:
    """The value of the latest message's `kind` entity (the last one when the message names two)."""
    values = list(tracker.get_latest_entity_values(kind))
    return values[-1] if values else None


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
        if self._assessed_before(tracker):
            restart = self._forget_previous_bump(tracker)
            # When Rasa activates the form it sends the slots already filled (the first bump's answers) as
            # candidates, SlotSet events at the end of the tracker that `Tracker.slots_to_validate()` hands
            # to validate_<slot>. Added after them, the restart's events are the candidates that count.
            tracker.add_slots(restart)
        return restart + await screening.extract_and_validate(self, dispatcher, tracker, domain)

    @staticmethod
    def _assessed_before(tracker: Tracker) -> bool:
        """Whether this conversation has had an assessment that a new bump replaces.

        An urgent one is never replaced: urgent lasts (clinic/safety.py), and the form ends on it again.
        """
        result = tracker.get_slot(Slot.TRIAGE_RESULT)
        return result is not None and result != TriageResult.URGENT

    @staticmethod
    def _forget_previous_bump(tracker: Tracker) -> List[EventType]:
        """Keep only what the latest message says of the bump; forget the previous bump's answers.

        The screening answer stands for the conversation (actions/screening.py); the red-flag slots are
        not touched (a conversation with a red flag is urgent, and never restarted).
        """
        fresh: Dict[str, Any] = {
            Slot.BUMP_HARDNESS: findings.normalise(Entity.HARDNESS, _latest_entity(tracker, Entity.HARDNESS)),
            Slot.BUMP_FLUID: findings.normalise(Entity.FLUID, _latest_entity(tracker, Entity.FLUID)),
            Slot.BUMP_LOCATION: findings.normalise(Entity.LOCATION, _latest_entity(tracker, Entity.LOCATION)),
            Slot.TRIAGE_RESULT: None,
            Slot.NEAR_EYE: None,
        }
        return [SlotSet(slot, value) for slot, value in fresh.items()]

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        """Ask nothing more once a red flag is known: the doctor advice comes first."""
        if tracker.get_slot(Slot.RED_FLAGS):
            return []
        return domain_slots

    def _read(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        """Read the slot from the typed words, in the light of the question asked.

        The answer to the question asked is read whatever the intent classifier made of it ("bone dry"
        to the fluid question is fluid, "on my kneecap" to the location question a place); an
        unreadable answer climbs the never-loop ladder (actions/screening.py).
        """
        text = typed_text(tracker)
        # the parse's `intent` field, not get_intent_of_latest_message() (why: actions/screening.py)
        intent = intent_of(tracker)
        if text is None:
            return {}
        asked = tracker.get_slot(REQUESTED_SLOT) == slot
        if findings.asks_what_it_means(text) and not screening.said_again(tracker):
            return self._explain(slot, dispatcher, tracker) if asked else {}  # no answer in it
        value = TEXT_READERS[slot](text)
        if value == Hardness.UNSURE and not asked:  # (or Fluid.UNSURE)
            value = None  # "not sure" answers the question that was asked, not the others
        if value is None and asked and slot == Slot.BUMP_FLUID:  # a yes/no question: "nothing", "nowt", "aye"
            value = findings.bare_yes_no(text) or YES_NO.get(intent)
        if value is None and asked and slot == Slot.BUMP_LOCATION and SOME_PLACE.search(text):
            value = Location.OTHER
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
        return screening.screening_events(dispatcher, tracker, {Slot.WARNING_SIGNS: screening.UNCLEAR})

    @staticmethod
    def _explain(slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
        """"What do you mean by fluid?": say what the question means; it is then asked once more.

        It counts as the first miss, so the question is never asked a third time in a row.
        """
        if screening.misses_so_far(tracker, slot) >= 1:  # explained or helped already: move on
            dispatcher.utter_message(response="utter_noted_unsure")
            return {slot: GIVEN_UP[slot], **screening.ANSWERED}
        dispatcher.utter_message(response=f"utter_explain_{slot}")
        return {slot: None, Slot.QUESTION_MISSES: 1.0, Slot.MISSED_QUESTION: slot,
                Slot.NEEDS_ANSWER_HELP: False}

    @staticmethod
    def _entity_in_message(slot: str, tracker: Tracker) -> bool:
        return any(True for _ in tracker.get_latest_entity_values(SLOT_KIND[slot]))

    async def extract_bump_hardness(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Hardness from typed words ("not soft" is hard)."""
        return self._read(Slot.BUMP_HARDNESS, dispatcher, tracker)

    async def extract_bump_fluid(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Fluid from typed words ("no pus" is no; "yes"/"nope" answer the question)."""
        return self._read(Slot.BUMP_FLUID, dispatcher, tracker)

    async def extract_bump_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Location from typed words ("lash line" is eye_area)."""
        return self._read(Slot.BUMP_LOCATION, dispatcher, tracker)

    def _validate(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> Dict[str, Any]:
        if value is None:  # cleared by the extraction, which already asked again
            return {slot: None}
        canonical = findings.normalise(SLOT_KIND[slot], value)
        if canonical is None and slot == Slot.BUMP_LOCATION and value:
            canonical = Location.OTHER
        if canonical is None:
            dispatcher.utter_message(response="utter_answer_not_understood")
        return {slot: canonical}

    def validate_bump_hardness(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep hard, soft or unsure."""
        return self._validate(Slot.BUMP_HARDNESS, slot_value, dispatcher)

    def validate_bump_fluid(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep yes, no or unsure."""
        return self._validate(Slot.BUMP_FLUID, slot_value, dispatcher)

    def validate_bump_location(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep one of the contract's locations (anything named but unknown is "other")."""
        return self._validate(Slot.BUMP_LOCATION, slot_value, dispatcher)
