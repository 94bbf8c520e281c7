"""The conversation contract: every intent, entity, slot and value name the code shares with domain/.

README "The conversation contract" describes it; tests/unit/test_contract.py checks these enums against
domain/*.yml both ways (and the README's triage results and values), so a name that is renamed or added
on one side only fails there. Every other module uses these names, never the strings.

Each enum is a `str`: a member equals, hashes and prints as its value (`Slot.TRIAGE_RESULT ==
"triage_result"`, `f"{Hardness.HARD}"` is "hard"), so slot values from Rasa and rows from the database
compare with members directly. Pure Python: this module imports nothing of the clinic (any layer may use it).
"""

from __future__ import annotations

from enum import Enum
from typing import Dict, Tuple, Type


class Name(str, Enum):
    """A contract name: a `str` whose str() and format() are its value (as 3.11's StrEnum)."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str.__str__(self), spec)

    @classmethod
    def values(cls) -> Tuple[str, ...]:
        """The members' values, as plain strings, in the order they are declared."""
        return tuple(member.value for member in cls)


class Intent(Name):
    """The domain's intents (domain/*.yml `intents:`)."""

    GREET = "greet"
    GOODBYE = "goodbye"
    AFFIRM = "affirm"
    DENY = "deny"
    THANK = "thank"
    BOT_CHALLENGE = "bot_challenge"
    OUT_OF_SCOPE = "out_of_scope"
    DESCRIBE_BUMP = "describe_bump"
    INFORM = "inform"
    REPORT_RED_FLAG = "report_red_flag"
    ASK_SQUEEZE = "ask_squeeze"
    ASK_SELF_EXTRACT = "ask_self_extract"
    ASK_WHAT_IS_MILIA = "ask_what_is_milia"
    ASK_MILIA_VS_PUSTULE = "ask_milia_vs_pustule"
    ASK_EXTRACTION_PROCEDURE = "ask_extraction_procedure"
    ASK_PAIN = "ask_pain"
    ASK_FACIALS = "ask_facials"
    BOOK_APPOINTMENT = "book_appointment"
    CANCEL_APPOINTMENT = "cancel_appointment"
    CHOOSE_TIME = "choose_time"
    HUMAN_HANDOFF = "human_handoff"
    DELETE_MY_DATA = "delete_my_data"
    REMINDER_REPLY = "reminder_reply"
    JOIN_WAITLIST = "join_waitlist"
    WAITLIST_REPLY = "waitlist_reply"
    # The clinic's own answers (issue 15).
    ASK_OPENING_HOURS = "ask_opening_hours"
    ASK_LOCATION = "ask_location"
    ASK_PRICES = "ask_prices"
    ASK_WHO = "ask_who"
    ASK_SOMETHING_ELSE = "ask_something_else"
    # Questions for the team (slot `team_question`).
    ASK_AFTERCARE = "ask_aftercare"
    ASK_CAUSE = "ask_cause"
    ASK_RECURRENCE = "ask_recurrence"
    ASK_CHILDREN = "ask_children"
    ASK_PREGNANCY = "ask_pregnancy"
    ASK_CANCER = "ask_cancer"


# Rasa's own intent (the FallbackClassifier's), not in the domain.
NLU_FALLBACK = "nlu_fallback"


class Entity(Name):
    """The domain's entities (domain/*.yml `entities:`)."""

    HARDNESS = "hardness"
    FLUID = "fluid"
    LOCATION = "location"
    RED_FLAG = "red_flag"
    BOOKING_SERVICE = "booking_service"
    BOOKING_TIME = "booking_time"
    REMINDER_ANSWER = "reminder_answer"
    WAITLIST_ANSWER = "waitlist_answer"
    WAITLIST_DAYS = "waitlist_days"


# The four entities of the triage, whose values the lexicon (data/lookups/) spells out.
TRIAGE_ENTITIES: Tuple[Entity, ...] = (Entity.HARDNESS, Entity.FLUID, Entity.LOCATION, Entity.RED_FLAG)
# The entities that describe the bump (a red flag is a warning sign, not a description).
DESCRIBING_ENTITIES = frozenset({Entity.HARDNESS, Entity.FLUID, Entity.LOCATION})


class Slot(Name):
    """The domain's slots (domain/*.yml `slots:`)."""

    # Triage (domain/core.yml, domain/triage.yml).
    BUMP_HARDNESS = "bump_hardness"
    BUMP_FLUID = "bump_fluid"
    BUMP_LOCATION = "bump_location"
    RED_FLAGS = "red_flags"
    WARNING_SIGNS = "warning_signs"
    TRIAGE_RESULT = "triage_result"
    NEAR_EYE = "near_eye"
    URGENT_SINCE = "urgent_since"
    NEEDS_ANSWER_HELP = "needs_answer_help"
    # Booking (domain/booking.yml).
    BOOKING_BLOCKED = "booking_blocked"
    BOOKING_OUTCOME = "booking_outcome"
    BOOKING_SERVICE = "booking_service"
    BOOKING_TIME = "booking_time"
    BOOKING_TIME_HINT = "booking_time_hint"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_REFERENCE = "booking_reference"
    PATIENT_NAME = "patient_name"
    PATIENT_CONTACT = "patient_contact"
    RESCHEDULING = "rescheduling"
    MANAGE_CHOICE = "manage_choice"
    MANAGE_OUTCOME = "manage_outcome"
    # Reminders and the waiting list.
    REMINDER_ANSWER = "reminder_answer"
    REMINDER_OUTCOME = "reminder_outcome"
    WAITLIST_ANSWER = "waitlist_answer"
    WAITLIST_BLOCKED = "waitlist_blocked"
    WAITLIST_DAYS = "waitlist_days"
    WAITLIST_OUTCOME = "waitlist_outcome"
    # The clinic's answers and questions for the team.
    TEAM_QUESTION = "team_question"
    MISSED_QUESTION = "missed_question"
    QUESTION_MISSES = "question_misses"


# Rasa's own slot (the question a form asked), not in the domain.
REQUESTED_SLOT = "requested_slot"


# --- the values of the categorical slots ----------------------------------------------------------
class Hardness(Name):
    """`hardness` -> `bump_hardness`."""

    HARD = "hard"
    SOFT = "soft"
    UNSURE = "unsure"


class Fluid(Name):
    """`fluid` -> `bump_fluid`."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class Location(Name):
    """`location` -> `bump_location`."""

    EYE_AREA = "eye_area"
    NOSE = "nose"
    CHEEK = "cheek"
    FOREHEAD = "forehead"
    CHIN = "chin"
    LIP_MOUTH = "lip_mouth"
    NECK = "neck"
    BODY = "body"
    OTHER = "other"


class RedFlag(Name):
    """`red_flag` -> `red_flags` (a list slot): the warning signs that make a triage urgent."""

    BLEEDING = "bleeding"
    FAST_GROWTH = "fast_growth"
    COLOUR_CHANGE = "colour_change"
    SPREADING_REDNESS = "spreading_redness"
    FEVER = "fever"
    SEVERE_PAIN = "severe_pain"
    VISION_CHANGES = "vision_changes"
    SWOLLEN_EYE = "swollen_eye"


class WarningSigns(Name):
    """`warning_signs`: the screening question's answer when it named no sign."""

    NONE = "none"
    UNCLEAR = "unclear"


class TriageResult(Name):
    """`triage_result`: the outcome of a triage."""

    MILIA = "milia"
    PUSTULE = "pustule"
    UNCERTAIN = "uncertain"
    URGENT = "urgent"


class BookingOutcome(Name):
    """`booking_outcome`, set by action_submit_booking (the rules branch on it)."""

    BOOKED = "booked"
    TAKEN = "taken"
    DECLINED = "declined"
    FAILED = "failed"


class ManageChoice(Name):
    """`manage_choice`: what to do with the booking found."""

    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    KEEP = "keep"


class ManageOutcome(Name):
    """`manage_outcome`, set by action_manage_booking (or the manage form)."""

    CANCELLED = "cancelled"
    KEPT = "kept"
    RESCHEDULE = "reschedule"
    NOT_FOUND = "not_found"
    NOT_CHANGEABLE = "not_changeable"
    FAILED = "failed"


class ReminderAnswer(Name):
    """`reminder_answer` (entity and slot): the patient's reply to a reminder."""

    CONFIRM = "confirm"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"


class ReminderOutcome(Name):
    """`reminder_outcome`, set by action_answer_reminder."""

    DONE = "done"
    RESCHEDULE = "reschedule"


class WaitlistAnswer(Name):
    """`waitlist_answer` (entity and slot): the patient's reply to a freed time offered."""

    ACCEPT = "accept"
    DECLINE = "decline"


class WaitlistOutcome(Name):
    """`waitlist_outcome`."""

    FAILED = "failed"


# Each categorical slot's values (the test checks this against the domain's `values:`).
CATEGORICAL: Dict[Slot, Type[Name]] = {
    Slot.BUMP_HARDNESS: Hardness,
    Slot.BUMP_FLUID: Fluid,
    Slot.BUMP_LOCATION: Location,
    Slot.WARNING_SIGNS: WarningSigns,
    Slot.TRIAGE_RESULT: TriageResult,
    Slot.BOOKING_OUTCOME: BookingOutcome,
    Slot.MANAGE_CHOICE: ManageChoice,
    Slot.MANAGE_OUTCOME: ManageOutcome,
    Slot.REMINDER_ANSWER: ReminderAnswer,
    Slot.REMINDER_OUTCOME: ReminderOutcome,
    Slot.WAITLIST_ANSWER: WaitlistAnswer,
    Slot.WAITLIST_OUTCOME: WaitlistOutcome,
}
# The slot each triage entity fills, and the values it takes.
SLOT_OF_ENTITY: Dict[Entity, Slot] = {
    Entity.HARDNESS: Slot.BUMP_HARDNESS,
    Entity.FLUID: Slot.BUMP_FLUID,
    Entity.LOCATION: Slot.BUMP_LOCATION,
    Entity.RED_FLAG: Slot.RED_FLAGS,
}
VALUES_OF_ENTITY: Dict[Entity, Type[Name]] = {
    Entity.HARDNESS: Hardness,
    Entity.FLUID: Fluid,
    Entity.LOCATION: Location,
    Entity.RED_FLAG: RedFlag,
}


# --- the bookings table ---------------------------------------------------------------------------
class BookingStatus(Name):
    """A booking's `status` (clinic/db/booking.py's check constraint)."""

    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


# A booking that stands (what conversion counts): every status but cancelled.
STANDING_STATUSES: Tuple[BookingStatus, ...] = (
    BookingStatus.BOOKED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW,
)
