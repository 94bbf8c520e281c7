"""Shared by the forms: the screening question and the never-loop ladder for unreadable answers.

- The screening question (`warning_signs`) is asked once per conversation before an assessment or a
  booking. "None of these" (or the button) is `none`; an answer it can't read is `unclear`, a maybe:
  the patient is told to see a doctor if any sign is happening, and nothing is booked until it is
  clear. A yes (the button, "the second one") or red-flag words are a red flag: the SafetyPolicy
  answers those before any form runs (clinic/safety.py).
- No question is asked more than twice in a row: after a miss it is asked once more, saying what it
  can take (`needs_answer_help` picks that variant: "tap a button, or say 'not sure'"); after a second
  miss the form moves on with "not sure" (the triage) or a yes-maybe (the screening question).
  A question asked instead of an answer is answered by the
  rules and does not count, unless the patient sends the same words again (that would loop).

The latest message is read here only (`typed_text`, `latest_intent`), through rasa-sdk's public
`Tracker.latest_message`; entities through `Tracker.get_latest_entity_values`. The intent is the parse's
`intent`, as Rasa's policies and clinic/nlu's intent rules see it, not
`Tracker.get_intent_of_latest_message()`: that reads `intent_ranking` (absent from external and
hand-built messages) and skips past `nlu_fallback`, which the forms treat as an answer they couldn't read.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from clinic import findings
from clinic.contract import REQUESTED_SLOT, Intent, Slot, WarningSigns

WARNING_SIGNS = Slot.WARNING_SIGNS
NONE, UNCLEAR = WarningSigns.NONE, WarningSigns.UNCLEAR
MISS_LIMIT = 2  # the second unreadable answer in a row moves on: a question is asked twice at most

# The patient asked something else: the rules answer it, then the form asks again.
INTERRUPTIONS = frozenset({
    Intent.ASK_SQUEEZE, Intent.ASK_SELF_EXTRACT, Intent.ASK_WHAT_IS_MILIA, Intent.ASK_MILIA_VS_PUSTULE,
    Intent.ASK_EXTRACTION_PROCEDURE, Intent.ASK_PAIN, Intent.ASK_FACIALS, Intent.REPORT_RED_FLAG,
    Intent.HUMAN_HANDOFF, Intent.ASK_OPENING_HOURS, Intent.ASK_LOCATION, Intent.ASK_PRICES, Intent.ASK_WHO,
    Intent.ASK_AFTERCARE, Intent.ASK_CAUSE, Intent.ASK_RECURRENCE, Intent.ASK_CHILDREN, Intent.ASK_PREGNANCY,
    Intent.ASK_CANCER,
    Intent.CANCEL_APPOINTMENT, Intent.BOOK_APPOINTMENT, Intent.GOODBYE, Intent.BOT_CHALLENGE,
    Intent.DELETE_MY_DATA,
})

# Replies to a text the clinic sent (an SMS reminder, a waitlist offer), set by the Twilio channel: never an
# answer to the form's question. The form takes nothing from them, so Rasa rejects its turn and the rules
# in data/rules/reminders.yml end the form and answer the reply.
TEXT_REPLIES = frozenset({Intent.REMINDER_REPLY, Intent.WAITLIST_REPLY})

ANSWERED: Dict[str, Any] = {
    Slot.QUESTION_MISSES: None, Slot.MISSED_QUESTION: None, Slot.NEEDS_ANSWER_HELP: False,
}


def typed_text(tracker: Tracker) -> Optional[str]:
    """The patient's latest words, or None for a button payload like /inform{...}."""
    text = tracker.latest_message.get("text") or ""
    return None if text.startswith("/") else text


def latest_intent(tracker: Tracker) -> Tuple[Optional[str], float]:
    """The latest message's intent and its confidence (0 when none is given)."""
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def intent_of(tracker: Tracker) -> Optional[str]:
    """The latest message's intent."""
    return latest_intent(tracker)[0]


def slot_after(tracker: Tracker, events: List[EventType], name: str) -> Any:
    """A slot's value once `events` (an action's answer) are applied: the last SlotSet for it, else now."""
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == name:
            return event.get("value")
    return tracker.get_slot(name)


def said_again(tracker: Tracker) -> bool:
    """Whether the patient's latest words repeat their previous message (the same interruption again)."""
    texts = []
    # Not get_last_event_for("user", skip=1): its applied_events() drops what action_default_fallback rewinds.
    for event in reversed(tracker.events):  # the last two messages only, not the whole conversation
        if event.get("event") == "user":
            texts.append((event.get("text") or "").strip().lower())
            if len(texts) == 2:
                return texts[0] == texts[1]
    return False


# A change of course rather than a question: taken as one only when the classifier is fairly sure, so
# "she won't let me near it" (cancel_appointment at 0.49) is an answer it couldn't read, not a cancellation.
CHANGES_OF_COURSE = frozenset({
    Intent.CANCEL_APPOINTMENT, Intent.BOOK_APPOINTMENT, Intent.GOODBYE, Intent.BOT_CHALLENGE,
    Intent.DELETE_MY_DATA, Intent.HUMAN_HANDOFF,
})
CHANGE_OF_COURSE_CONFIDENCE = 0.6


def interrupted(tracker: Tracker) -> bool:
    """A question instead of an answer, which the rules answer before the form asks again.

    Said again word for word, it counts as an unreadable answer: the rules' answer and the form's
    question would otherwise follow each other for ever.
    """
    intent, confidence = latest_intent(tracker)
    if intent not in INTERRUPTIONS or said_again(tracker):
        return False
    unsure_guess = confidence < CHANGE_OF_COURSE_CONFIDENCE
    return not (intent in CHANGES_OF_COURSE and unsure_guess)


def misses_so_far(tracker: Tracker, slot: str) -> int:
    """Unreadable answers in a row to the question for `slot`."""
    if tracker.get_slot(Slot.MISSED_QUESTION) != slot:
        return 0
    return int(tracker.get_slot(Slot.QUESTION_MISSES) or 0)


def missed(slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[str, Any]:
    """One more unreadable answer to `slot`'s question: ask again, saying what it can take.

    The help variant of the question opens with "I couldn't tell from that". Returns the slots to set;
    at MISS_LIMIT the caller decides how to move on (see `gave_up`).
    """
    misses = misses_so_far(tracker, slot) + 1
    if misses >= MISS_LIMIT:
        return {**ANSWERED, Slot.QUESTION_MISSES: float(misses), Slot.MISSED_QUESTION: slot}
    return {slot: None, Slot.QUESTION_MISSES: float(misses), Slot.MISSED_QUESTION: slot,
            Slot.NEEDS_ANSWER_HELP: True}


def gave_up(events: Dict[str, Any]) -> bool:
    """Whether `missed()` reached the limit."""
    return (events.get(Slot.QUESTION_MISSES) or 0) >= MISS_LIMIT


def read_warning_signs(tracker: Tracker) -> Optional[str]:
    """none, unclear, or None when the form should not fill it (not asked, a question, a red flag).

    The words decide, not the intent classifier: "hmm" read as affirm is not a yes, "no idea" read as deny
    is not a no.
    """
    if tracker.get_slot(REQUESTED_SLOT) != WARNING_SIGNS:
        return None
    intent = intent_of(tracker)
    text = typed_text(tracker)
    if text is None:  # a button: "No, none of these" (deny) or "Yes" (the SafetyPolicy's red flag)
        return NONE if intent == Intent.DENY else None
    answer = findings.screening_answer(text)
    if answer == NONE:  # "no, just a bit red where I squeezed": the rules warn, and the answer counts
        return NONE
    if interrupted(tracker):
        return None

    if answer == "present":
        return None  # the SafetyPolicy has answered it as a red flag
    if intent == Intent.DENY and findings.unsure_in(text) is False:
        return NONE
    return UNCLEAR


async def extract_and_validate(
    form: FormValidationAction, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> List[EventType]:
    """What rasa-sdk's FormValidationAction.run does, keeping the helper slots the extractors set.

    rasa-sdk returns only the validated form slots; the never-loop counters (`question_misses`, ...)
    and hints like `booking_time_hint` are set by extractors, so they go first and the validators win.
    Public rasa-sdk methods only. A reply to a text the clinic sent fills nothing (TEXT_REPLIES).
    """
    if intent_of(tracker) in TEXT_REPLIES:
        return []
    extraction_events = await form.get_extraction_events(dispatcher, tracker, domain)
    tracker.add_slots(extraction_events)
    validation_events = await form.get_validation_events(dispatcher, tracker, domain)
    tracker.add_slots(validation_events)
    next_slot = await form.next_requested_slot(dispatcher, tracker, domain)  # a form that overrides
    if next_slot:  # required_slots (a red flag, an unclear screening) says what it asks next itself
        validation_events.append(next_slot)
    required = set(form.domain_slots(domain))
    helpers = [event for event in extraction_events if event["name"] not in required]
    return helpers + validation_events


def screening_events(
    dispatcher: CollectingDispatcher, tracker: Tracker, given_up: Dict[str, Any]
) -> Dict[str, Any]:
    """The slots a form sets from an answer to the screening question.

    "None of these" fills it; an unreadable answer says why it matters (once) and climbs the ladder;
    at the top, `given_up` says how that form moves on (the triage: a yes-maybe; a booking: not made).
    """
    answer = read_warning_signs(tracker)
    if answer is None:
        return {}
    if answer == NONE:
        return {WARNING_SIGNS: NONE, **ANSWERED}
    if misses_so_far(tracker, WARNING_SIGNS) == 0:
        dispatcher.utter_message(response="utter_warning_signs_unclear")
    events = missed(WARNING_SIGNS, dispatcher, tracker)
    return {**events, **given_up} if gave_up(events) else events
