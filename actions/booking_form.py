"""The booking form and the manage-booking form: read and check what the patient types.

Each bad answer gets its own short explanation (a response in domain/booking.yml) and the question
again; a second bad answer in a row to the same question ends the form instead of asking a third
time: the patient is given the clinic's number and the offer of a person (`utter_booking_gave_up`).
A question to the bot instead of an answer (an interruption) is left to the rules, which answer it
and come back. If the booking database fails, the patient is told to call the clinic and the form
ends. Either way its `*_outcome` slot says "failed".

The forms read and word; the service layer (`clinic.booking.handlers`) decides: which services are online,
whether a day or a time can be booked and which times to offer instead (a `TimeHint`, stored in
`booking_time_hint`), whether a booking can still change, whether the waitlist is offered.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import booking_support as support
from actions import screening
from actions.booking_support import QUESTIONS, BookingSystemDown, intent_of, is_interruption, typed_text
from actions.screening import slot_after
from clinic.booking import handlers
from clinic.booking.availability import Problem, Schedule
from clinic.booking.contact import InvalidContact, InvalidName, parse_contact, parse_name
from clinic.booking.handlers import Unchangeable
from clinic.booking.parsing import ImpossibleDate, UnreadableWhen, parse_when
from clinic.booking.reference import find_reference
from clinic.booking.time_hint import TimeHint
from clinic.config import get_settings
from clinic.contract import (
    REQUESTED_SLOT,
    BookingOutcome,
    Intent,
    ManageChoice,
    ManageOutcome,
    Slot,
)

logger = logging.getLogger(__name__)

# Words patients use for each service (codes as in config/clinic.yml).
SERVICE_WORDS = {
    "facial": re.compile(r"\b(facials?|image skincare|anti.?wrinkle)\b", re.IGNORECASE),
    "consultation": re.compile(r"\b(consult\w*|look at it|check.?up|assessment)\b", re.IGNORECASE),
    "extraction": re.compile(
        r"\b(extract\w*|de.?roof\w*|remov\w*|take (it|them) out|milia|millium|lancet)\b", re.IGNORECASE
    ),
}


# An answer to the time question asking for an earlier time than those offered: the waitlist is offered.
SOONER = re.compile(
    r"\b(sooner|wait(ing)?\s?list|(any|got|have|are there)( any)? cancellations?|"
    r"(anything|something|nothing|any time|a time) earlier\b(?! in the| than| on)|"
    r"earlier (appointment|slot|time|date)s?\b|none of (these|those|them) (suit|work)|nothing (suits|works))",
    re.IGNORECASE)

WAITLIST_BUTTON = {"title": "Join the waitlist", "payload": f"/{Intent.JOIN_WAITLIST}"}
# The slot value that offers the earliest free times.
EARLIEST = TimeHint.earliest().to_slot()
# `utter_booking_not_changeable`'s {status}: why the booking found can't change any more.
UNCHANGEABLE_WORDS = {Unchangeable.CANCELLED: "already cancelled", Unchangeable.PAST: "already in the past"}


def offer_waitlist(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The waitlist offer with its button, where the service layer offers it (not while moving a booking)."""
    if not handlers.waitlist_offered(tracker.get_slot(Slot.RESCHEDULING)):
        return
    dispatcher.utter_message(response="utter_waitlist_offer",
                             hold_minutes=str(get_settings().waitlist_hold_minutes))


def service_from_text(text: Optional[str]) -> Optional[str]:
    """The service named in the patient's words, if exactly one is."""
    named = [code for code, words in SERVICE_WORDS.items() if text and words.search(text)]
    return named[0] if len(named) == 1 else None


def say_problem(
    dispatcher: CollectingDispatcher, schedule: Schedule, problem: Problem, start: datetime
) -> None:
    """Tell the patient why a time (or the day of `start`) can't be booked."""
    local = schedule.local(start)
    day = support.day_text(local.date())
    if problem is Problem.PAST:
        dispatcher.utter_message(response="utter_booking_time_past")
    elif problem is Problem.TOO_SOON:
        hours = max(1, round(schedule.min_notice_minutes / 60))
        dispatcher.utter_message(
            response="utter_booking_time_too_soon", notice=f"{hours} hour{'s' if hours > 1 else ''}"
        )
    elif problem is Problem.TOO_FAR:
        dispatcher.utter_message(response="utter_booking_time_too_far", days=str(schedule.horizon_days))
    elif problem is Problem.CLOSED:
        reason = schedule.closed_days.get(local.date())
        dispatcher.utter_message(
            response="utter_booking_day_closed", day=day + (f" ({reason})" if reason else "")
        )
    elif problem is Problem.OUTSIDE_HOURS:
        dispatcher.utter_message(
            response="utter_booking_time_outside_hours",
            day=day,
            hours=support.hours_text(schedule, local.date()),
            time=support.clock_text(local.time()),
        )
    elif problem is Problem.NOT_ON_GRID:
        dispatcher.utter_message(
            response="utter_booking_time_not_on_grid", minutes=str(schedule.slot_minutes),
            time=support.clock_text(local.time()),
        )
    else:
        dispatcher.utter_message(response="utter_booking_time_taken", when=support.when_text(local))


class BookingFormBase(FormValidationAction, ABC):
    """Shared by both booking forms: contact reading, and a safe answer when the database fails."""

    outcome_slot: str = Slot.BOOKING_OUTCOME
    failed: str = BookingOutcome.FAILED  # the outcome slot's value when the form ends without a result

    @abstractmethod
    def name(self) -> str:
        """Name of the action in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Extract and validate (keeping helper slots the extractors set); on failure, end the form."""
        try:
            events = await screening.extract_and_validate(self, dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001  (BookingSystemDown, or a bug: never leave the patient in silence)
            logger.exception("%s failed", self.name())
            dispatcher.utter_message(response="utter_booking_unavailable")
            return [SlotSet(self.outcome_slot, self.failed), SlotSet(REQUESTED_SLOT, None)]
        if slot_after(tracker, events, self.outcome_slot) == self.failed:  # gave up after a second bad answer
            kept = [e for e in events if e.get("name") != REQUESTED_SLOT]
            return kept + [SlotSet(REQUESTED_SLOT, None)]
        missed = slot_after(tracker, events, Slot.MISSED_QUESTION)
        if missed and slot_after(tracker, events, missed) is not None:  # that question has its answer now
            events += [SlotSet(name, value) for name, value in screening.ANSWERED.items()]
        return events

    def missed(
        self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, response: str, **values: Any
    ) -> Dict[str, Any]:
        """A bad answer to `slot`'s question: explain, ask once more; a second in a row ends the form."""
        misses = screening.misses_so_far(tracker, slot) + 1
        if misses >= screening.MISS_LIMIT:
            dispatcher.utter_message(response="utter_booking_gave_up")
            return {slot: None, **screening.ANSWERED, self.outcome_slot: self.failed}
        dispatcher.utter_message(response=response, **values)
        return {slot: None, Slot.QUESTION_MISSES: float(misses), Slot.MISSED_QUESTION: slot}

    async def extract_patient_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A mobile number (stored in E.164) or an email, from the answer to the contact question."""
        text = typed_text(tracker)
        if text is None or tracker.get_slot(REQUESTED_SLOT) != Slot.PATIENT_CONTACT:
            return {}
        try:
            return {Slot.PATIENT_CONTACT: parse_contact(text).value}
        except InvalidContact as error:
            if is_interruption(tracker):
                return {}
            said = f"utter_patient_contact_{error.reason}"
            return self.missed(Slot.PATIENT_CONTACT, dispatcher, tracker, said)

    def validate_patient_contact(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep only a normalised contact (a pre-filled value is checked again)."""
        if slot_value is None:
            return {Slot.PATIENT_CONTACT: None}
        try:
            return {Slot.PATIENT_CONTACT: parse_contact(str(slot_value)).value}
        except InvalidContact:
            return {Slot.PATIENT_CONTACT: None}


class ValidateBookingForm(BookingFormBase):
    """Service, time, name, contact and the final yes of a booking."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "validate_booking_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        """Nothing more to ask once the screening answer stayed unclear: the booking is not made."""
        if tracker.get_slot(Slot.BOOKING_CONFIRMED) is False and tracker.get_slot(Slot.WARNING_SIGNS) is None:
            return []
        return domain_slots

    async def extract_warning_signs(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Only a clear "none of these" lets a booking go on; a maybe is asked again, then stops it."""
        return screening.screening_events(
            dispatcher, tracker, {Slot.WARNING_SIGNS: None, Slot.BOOKING_CONFIRMED: False}
        )

    async def extract_booking_service(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A service named in words ("the facial"), when asked which appointment."""
        text = typed_text(tracker)
        if text is None or tracker.get_slot(REQUESTED_SLOT) != Slot.BOOKING_SERVICE:
            return {}
        code = service_from_text(text)
        if code:
            return {Slot.BOOKING_SERVICE: code}
        if is_interruption(tracker):
            return {}
        return self.missed(Slot.BOOKING_SERVICE, dispatcher, tracker, "utter_booking_service_not_understood")

    async def validate_booking_service(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep a service the clinic offers online."""
        if slot_value is None:
            return {Slot.BOOKING_SERVICE: None}
        schedule = await support.run_db(handlers.current_schedule)
        service = handlers.online_service(schedule, str(slot_value))
        if service is None:
            dispatcher.utter_message(response="utter_booking_service_not_understood")
            return {Slot.BOOKING_SERVICE: None}
        return {Slot.BOOKING_SERVICE: service.code}

    async def extract_booking_time(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A typed day and time: an exact time is checked by `validate_booking_time`, a day is offered."""
        text = typed_text(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)
        intent = intent_of(tracker)
        asked = requested == Slot.BOOKING_TIME
        # A new time is also read when booking starts ("Friday at 3pm?") and at the summary.
        changing = intent in (Intent.CHOOSE_TIME, Intent.BOOK_APPOINTMENT) \
            and requested in (None, Slot.BOOKING_CONFIRMED)
        if text is None or not (asked or changing):
            return {}
        if asked and SOONER.search(text) and handlers.waitlist_offered(tracker.get_slot(Slot.RESCHEDULING)):
            offer_waitlist(dispatcher, tracker)  # then the earliest times are offered again
            return {Slot.BOOKING_TIME: None, Slot.BOOKING_TIME_HINT: EARLIEST}
        schedule = await support.run_db(handlers.current_schedule)
        now = support.now()
        try:
            when = parse_when(text, schedule.local(now))
        except ImpossibleDate as error:
            if not asked:
                dispatcher.utter_message(response="utter_booking_date_impossible", said=error.text)
                return {Slot.BOOKING_TIME: None, Slot.BOOKING_TIME_HINT: EARLIEST}
            missed = self.missed(
                Slot.BOOKING_TIME, dispatcher, tracker, "utter_booking_date_impossible", said=error.text)
            return {**missed, Slot.BOOKING_TIME_HINT: EARLIEST}
        except UnreadableWhen:
            if not asked or is_interruption(tracker):
                return {}
            return self.missed(Slot.BOOKING_TIME, dispatcher, tracker, "utter_booking_time_not_understood")
        if when.day is None:  # "as soon as possible"
            return {Slot.BOOKING_TIME: None, Slot.BOOKING_TIME_HINT: EARLIEST}
        start = when.start(schedule.tz)
        if start is not None:
            return {Slot.BOOKING_TIME: start.isoformat()}
        day = handlers.day_request(schedule, when.day, when.window, now)
        if day.problem is not None:
            say_problem(dispatcher, schedule, day.problem, day.start)
        return {Slot.BOOKING_TIME: None, Slot.BOOKING_TIME_HINT: day.offer.to_slot()}

    async def validate_booking_time(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep a time that is free now; otherwise say why and offer the nearest free times."""
        if slot_value is None:
            return {Slot.BOOKING_TIME: None}
        start = support.parse_iso(slot_value)
        if start is None:
            dispatcher.utter_message(response="utter_booking_time_not_understood")
            return {Slot.BOOKING_TIME: None}
        service = tracker.get_slot(Slot.BOOKING_SERVICE)
        if not service:  # the service comes first; its times are then offered on that day
            return {Slot.BOOKING_TIME: None, Slot.BOOKING_TIME_HINT: TimeHint.on_day(start.date()).to_slot()}
        checked = await support.run_db(
            handlers.check_time, service, start, support.now(), reference=tracker.get_slot(Slot.RESCHEDULING)
        )
        schedule, problem = checked.schedule, checked.verdict.problem
        if problem is None:
            local = schedule.local(start)
            if typed_text(tracker) is not None and not tracker.get_slot(Slot.RESCHEDULING):
                # Typed words were read as a day and time: say which, before asking for the name.
                dispatcher.utter_message(response="utter_booking_time_free", when=support.when_text(local))
            return {Slot.BOOKING_TIME: local.isoformat(), Slot.BOOKING_TIME_HINT: None}
        say_problem(dispatcher, schedule, problem, start)
        instead = checked.instead or TimeHint.earliest()  # (always set when the time can't be booked)
        return {Slot.BOOKING_TIME: None, Slot.BOOKING_TIME_HINT: instead.to_slot()}

    async def extract_patient_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """The patient's name, from the answer to the name question."""
        text = typed_text(tracker)
        if text is None or tracker.get_slot(REQUESTED_SLOT) != Slot.PATIENT_NAME:
            return {}
        if is_interruption(tracker, QUESTIONS):
            return {}
        try:
            return {Slot.PATIENT_NAME: parse_name(text)}
        except InvalidName as error:
            # "no thanks, I've changed my mind"; a name like "Noor" may read as "no" but is kept above.
            if is_interruption(tracker):
                return {}
            reason = "too_long" if error.reason == "too_long" else "invalid"
            return self.missed(Slot.PATIENT_NAME, dispatcher, tracker, f"utter_patient_name_{reason}")

    def validate_patient_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep only a tidy name (a pre-filled value is checked again)."""
        if slot_value is None:
            return {Slot.PATIENT_NAME: None}
        try:
            return {Slot.PATIENT_NAME: parse_name(str(slot_value))}
        except InvalidName:
            return {Slot.PATIENT_NAME: None}


class ValidateManageBookingForm(BookingFormBase):
    """Reference and contact of an existing booking, then: cancel, move or keep it."""

    outcome_slot = Slot.MANAGE_OUTCOME
    failed = ManageOutcome.FAILED

    def name(self) -> str:
        """Name of the action in the domain."""
        return "validate_manage_booking_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Once reference and contact are known, find the booking; end the form if it isn't theirs."""
        events = await super().run(dispatcher, tracker, domain)
        reference = slot_after(tracker, events, Slot.BOOKING_REFERENCE)
        contact = slot_after(tracker, events, Slot.PATIENT_CONTACT)
        outcome = slot_after(tracker, events, Slot.MANAGE_OUTCOME)
        choice = slot_after(tracker, events, Slot.MANAGE_CHOICE)
        if not reference or not contact or outcome or choice:
            return events
        try:
            await support.run_db(handlers.find_changeable_booking, reference, contact, support.now())
        except handlers.BookingNotFound:
            dispatcher.utter_message(response="utter_booking_not_found")
            return events + [SlotSet(Slot.MANAGE_OUTCOME, ManageOutcome.NOT_FOUND),
                             SlotSet(Slot.BOOKING_REFERENCE, None), SlotSet(Slot.PATIENT_CONTACT, None),
                             SlotSet(REQUESTED_SLOT, None)]
        except handlers.BookingNotChangeable as error:
            dispatcher.utter_message(
                response="utter_booking_not_changeable", reference=error.booking.reference,
                status=UNCHANGEABLE_WORDS[error.reason or Unchangeable.PAST],
            )
            return events + [SlotSet(Slot.MANAGE_OUTCOME, ManageOutcome.NOT_CHANGEABLE),
                             SlotSet(REQUESTED_SLOT, None)]
        except BookingSystemDown:
            dispatcher.utter_message(response="utter_booking_unavailable")
            return events + [SlotSet(Slot.MANAGE_OUTCOME, self.failed), SlotSet(REQUESTED_SLOT, None)]
        return events

    async def extract_booking_reference(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A reference like VW-7KM3QD, typed in any case, with or without the dash."""
        text = typed_text(tracker)
        if text is None:
            return {}
        reference = find_reference(text)
        if reference:
            return {Slot.BOOKING_REFERENCE: reference}
        if tracker.get_slot(REQUESTED_SLOT) != Slot.BOOKING_REFERENCE or is_interruption(tracker):
            return {}
        return self.missed(
            Slot.BOOKING_REFERENCE, dispatcher, tracker, "utter_booking_reference_not_understood"
        )

    def validate_booking_reference(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Keep only a well-formed reference."""
        return {Slot.BOOKING_REFERENCE: find_reference(str(slot_value)) if slot_value else None}

    async def extract_manage_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """Cancel, move (reschedule) or keep: from the buttons or the patient's words."""
        if tracker.get_slot(REQUESTED_SLOT) != Slot.MANAGE_CHOICE:
            return {}
        text = (typed_text(tracker) or "").lower()
        intent = intent_of(tracker)
        if re.search(r"\b(move|reschedul\w*|change|another|different|later|earlier|rebook)\b", text) or (
            intent == Intent.CHOOSE_TIME
        ):
            return {Slot.MANAGE_CHOICE: ManageChoice.RESCHEDULE}
        cancelling = re.search(r"\b(cancel\w*|call it off|can'?t make|cannot make)\b", text)
        if cancelling or intent == Intent.CANCEL_APPOINTMENT:
            return {Slot.MANAGE_CHOICE: ManageChoice.CANCEL}
        if re.search(r"\b(keep|leave)\b", text) or intent == Intent.DENY:
            return {Slot.MANAGE_CHOICE: ManageChoice.KEEP}
        if is_interruption(tracker):
            return {}
        return self.missed(Slot.MANAGE_CHOICE, dispatcher, tracker, "utter_manage_choice_not_understood")

