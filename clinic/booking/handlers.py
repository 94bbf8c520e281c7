"""What the assistant, the CLI and the staff console do with bookings (the service layer).

Each function takes a unit-of-work factory (one session per unit of work) and, where time matters,
`now`. Results are `BookingView`s, plain frozen snapshots that outlive the session.

Messages: a booking made, moved or cancelled writes its confirmation (and reminder) into the outbox in
the same transaction (`uow.outbox`), so a message exists exactly when the change committed.

Double booking: `book` and `reschedule_booking` insert the practitioner's held cells in the same
transaction as the booking; the database's primary key on (practitioner, cell) lets only one of two
racing transactions commit, and the loser gets `SlotTaken` ("that time was just taken").

Rules: every booking rule is decided here (or in the pure `availability` it calls), never again in an
action: who may book, move or wait online (`needs_doctor_first`, `may_join_waitlist`, ...), which
bookings can still change (`why_unchangeable`), whether a time or a day can be booked (`check_time`,
`day_request`) and which times to offer instead (`TimeHint`, `offer_instead`, `times_to_offer`). The
actions turn the typed results into responses.

Cancelling: a patient's cancellation, the clinic's, an X to a reminder and the erasure of a patient's
data all go through `_cancel` (the time freed and offered to the waitlist, the reminder withdrawn).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from sqlalchemy.exc import IntegrityError

from clinic.booking import availability
from clinic.booking.availability import FreeTime, Held, Problem, Schedule, ServiceInfo, Verdict
from clinic.booking.contact import Contact, InvalidContact, parse_contact
from clinic.booking.reference import find_reference, new_reference
from clinic.booking.schedule import ScheduleConfig
from clinic.booking.time_hint import HintKind, TimeHint
from clinic.booking.unit_of_work import SqlAlchemyUnitOfWork, UnitOfWorkFactory
from clinic.contract import STANDING_STATUSES, BookingStatus, ReminderAnswer, Slot, TriageResult
from clinic.db.booking import Booking
from clinic.db.outbox import REMINDER_REPLIES, OutboxMessage
from clinic.db.waitlist import WaitlistEntry

logger = logging.getLogger(__name__)

# The triage slots a booking keeps, as the columns of `bookings` are named.
TRIAGE_FIELDS = tuple(
    s.value for s in (Slot.TRIAGE_RESULT, Slot.BUMP_HARDNESS, Slot.BUMP_FLUID, Slot.BUMP_LOCATION)
)
INSERT_ATTEMPTS = 3
# An SMS reminder takes a reply (C, X, R) this long after it was sent, while its appointment is to come.
REMINDER_REPLY_WINDOW = timedelta(hours=48)


class BookingError(Exception):
    """A booking operation that cannot be done, with a reason the caller can word."""


class UnknownService(BookingError):
    """No active service with that code."""


class SlotUnavailable(BookingError):
    """The requested time cannot be booked (`verdict.problem` says why)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.problem.value if verdict.problem else "unavailable")
        self.verdict = verdict

    @property
    def instead(self) -> TimeHint:
        """What to offer instead: the time went for another reason (schedule, notice), so the earliest."""
        return TimeHint.earliest()


class SlotTaken(SlotUnavailable):
    """That time was just taken by someone else."""

    @property
    def instead(self) -> TimeHint:
        """What to offer instead: the free times nearest the one just taken."""
        return TimeHint.near(self.verdict.start)


class BookingNotFound(BookingError):
    """No booking with that reference and contact (the two are never told apart)."""


class Unchangeable(str, enum.Enum):
    """Why a booking can no longer be cancelled or moved by the patient."""

    CANCELLED = "cancelled"
    PAST = "past"  # its time has come, or it was attended or missed


class BookingNotChangeable(BookingError):
    """The booking is cancelled, attended, no-show or already past (`reason` says which)."""

    def __init__(self, booking: BookingView, reason: Optional[Unchangeable] = None) -> None:
        super().__init__(booking.status)
        self.booking = booking
        self.reason = reason  # None: refused for the clinic's own reasons (marking, cancelling as the clinic)


@dataclass(frozen=True)
class BookingRequest:
    """A patient's confirmed request."""

    service_code: str
    starts_at: datetime
    name: str
    contact: Contact
    sender_id: Optional[str] = None
    triage: Mapping[str, Optional[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class BookingView:
    """A booking as the patient, the CLI and the staff console see it (times in the clinic's zone)."""

    reference: str
    status: str
    service_code: str
    service_name: str
    practitioner: str
    patient_name: str
    contact: str
    contact_kind: str
    starts_at: datetime
    ends_at: datetime
    sender_id: Optional[str]
    triage_result: Optional[str]
    bump_hardness: Optional[str]
    bump_fluid: Optional[str]
    bump_location: Optional[str]
    created_at: datetime
    cancelled_at: Optional[datetime]
    cancelled_by: Optional[str]
    practitioner_code: str = ""  # the staff calendar's column
    confirmed_at: Optional[datetime] = None  # the patient confirmed it (a reply to the SMS reminder)

    def as_dict(self) -> Dict[str, Any]:
        """JSON-ready (ISO 8601 times with their offset)."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ScheduleSync:
    """What `sync_schedule` did, and bookings the clinic should look at."""

    services: int
    practitioners: int
    warnings: Tuple[str, ...]


def view(booking: Booking, schedule: Schedule) -> BookingView:
    """Snapshot of a booking, times on the clinic's clock."""
    local = schedule.local
    return BookingView(
        reference=booking.reference,
        status=booking.status,
        service_code=booking.service.code,
        service_name=booking.service.name,
        practitioner=booking.practitioner.name,
        patient_name=booking.patient.name,
        contact=booking.patient.contact,
        contact_kind=booking.patient.contact_kind,
        starts_at=local(booking.starts_at),
        ends_at=local(booking.ends_at),
        sender_id=booking.sender_id,
        triage_result=booking.triage_result,
        bump_hardness=booking.bump_hardness,
        bump_fluid=booking.bump_fluid,
        bump_location=booking.bump_location,
        created_at=local(booking.created_at),
        cancelled_at=local(booking.cancelled_at) if booking.cancelled_at else None,
        cancelled_by=booking.cancelled_by,
        practitioner_code=booking.practitioner.code,
        confirmed_at=local(booking.confirmed_at) if booking.confirmed_at else None,
    )


# --- the schedule ----------------------------------------------------------------------------


def sync_schedule(uow_factory: UnitOfWorkFactory, config: ScheduleConfig, now: datetime) -> ScheduleSync:
    """Load the clinic's file into the database; warn about bookings the new schedule doesn't fit."""
    with uow_factory() as uow:
        uow.bookings.replace_schedule(config)
        schedule = uow.bookings.schedule()
        warnings = []
        for booking in uow.bookings.active_after(now):
            service = schedule.services.get(booking.service.code)
            start = booking.starts_at
            if service is None:
                problem = "its service is no longer offered"
            elif schedule.is_closed(schedule.local(start).date()):
                problem = "the clinic is now closed that day"
            elif not availability.fits_opening(schedule, service, start):
                problem = "it is now outside opening hours"
            elif booking.practitioner_id not in schedule.practitioners:
                problem = "its practitioner is no longer listed"
            else:
                continue
            warnings.append(f"{booking.reference} on {schedule.local(start):%a %d %b %H:%M}: {problem}")
        uow.commit()
        return ScheduleSync(len(schedule.services), len(schedule.practitioners), tuple(warnings))


def current_schedule(uow_factory: UnitOfWorkFactory) -> Schedule:
    """The schedule as stored now."""
    with uow_factory() as uow:
        return uow.bookings.schedule()


def online_services(schedule: Schedule) -> List[ServiceInfo]:
    """The services patients can book online, in the clinic's order."""
    return [service for service in schedule.services.values() if service.online]


def online_service(schedule: Schedule, code: Optional[str]) -> Optional[ServiceInfo]:
    """The service with this code, if patients can book it online."""
    service = schedule.services.get(code or "")
    return service if service is not None and service.online else None


def _service(schedule: Schedule, code: str) -> ServiceInfo:
    service = online_service(schedule, code)
    if service is None:
        raise UnknownService(code)
    return service


# --- who may book, move and wait online -------------------------------------------------------

# A waitlist entry waits at most this many days from today (the booking horizon caps it too).
MAX_WAITLIST_DAYS = 60


def needs_doctor_first(triage_result: Optional[str], red_flags: Optional[Sequence[str]] = None) -> bool:
    """An urgent triage or a red flag: no booking, move or waitlist online (cancelling stays possible)."""
    return triage_result == TriageResult.URGENT or bool(red_flags)


def may_join_waitlist(
    service_code: Optional[str], triage_result: Optional[str], red_flags: Optional[Sequence[str]] = None
) -> bool:
    """The waitlist is for the service being booked (so one is chosen), and not before a doctor."""
    return bool(service_code) and not needs_doctor_first(triage_result, red_flags)


def waitlist_offered(rescheduling: Optional[str]) -> bool:
    """Whether "no time suits" offers the waitlist: not while moving a booking (it keeps its time)."""
    return not rescheduling


def waitlist_days_ok(days: int) -> bool:
    """A waitlist entry waits 1 to MAX_WAITLIST_DAYS days."""
    return 1 <= days <= MAX_WAITLIST_DAYS


def waitlist_contact_ok(contact: Contact) -> bool:
    """Waitlist offers are texted: the contact must be a mobile number."""
    return contact.kind == "phone"


def why_unchangeable(status: str, starts_at: datetime, now: datetime) -> Optional[Unchangeable]:
    """Why the patient can no longer cancel or move a booking (None: they can: booked, still to come)."""
    if status == BookingStatus.CANCELLED:
        return Unchangeable.CANCELLED
    if status != BookingStatus.BOOKED or starts_at <= now:
        return Unchangeable.PAST
    return None


# The problems whose nearest free times are offered instead (the day itself is bookable).
NEAR_PROBLEMS = frozenset({Problem.TAKEN, Problem.OUTSIDE_HOURS, Problem.NOT_ON_GRID})


def offer_instead(schedule: Schedule, problem: Problem, start: datetime) -> TimeHint:
    """Which times to offer instead of `start` (or its whole day), which can't be booked for `problem`.

    A closed day: the earliest from that day on; outside the hours, off the grid or taken: the nearest free
    times; past, too soon or too far ahead: the earliest.
    """
    local = schedule.local(start)
    if problem is Problem.CLOSED:
        return TimeHint.from_day(local.date())
    if problem in NEAR_PROBLEMS:
        return TimeHint.near(local)
    return TimeHint.earliest()


@dataclass(frozen=True)
class DayCheck:
    """`day_request`'s answer: why the day can't be booked (None: it can), and the times to offer."""

    start: datetime  # the day's first moment on the clinic's clock
    problem: Optional[Problem]
    offer: TimeHint


def day_request(schedule: Schedule, day: date, window: Optional[str], now: datetime) -> DayCheck:
    """A day asked for without a time ("next Tuesday afternoon"): its times, or why not and what instead."""
    start = schedule.at(day, time(0, 0))
    problem = availability.day_problem(schedule, day, now)
    if problem is None:
        return DayCheck(start, None, TimeHint.on_day(day, window))
    return DayCheck(start, problem, offer_instead(schedule, problem, start))


def _held_around(uow: SqlAlchemyUnitOfWork, schedule: Schedule, first: date, last: date, now: datetime,
                 except_booking_id: Optional[int] = None) -> Held:
    start = schedule.at(first, time(0, 0))
    end = schedule.at(last + timedelta(days=1), time(0, 0))
    return uow.bookings.held(start, end, except_booking_id, now=now)


# --- availability ----------------------------------------------------------------------------


def offer_times(
    uow_factory: UnitOfWorkFactory,
    service_code: str,
    now: datetime,
    day: Optional[date] = None,
    window: Optional[str] = None,
    limit: int = 4,
    from_day: Optional[date] = None,
) -> Tuple[Schedule, List[FreeTime]]:
    """The next free times (from `from_day`), or on `day` only (in `window`), more densely."""
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        service = _service(schedule, service_code)
        first = day or max(from_day or date.min, schedule.local(now).date())
        last = day or schedule.last_day(now)
        held = _held_around(uow, schedule, first, last, now)
    if day is None:
        return schedule, availability.free_times(schedule, service, held, now, first_day=first, limit=limit)
    return schedule, availability.free_times(
        schedule, service, held, now, first_day=day, last_day=day, window=window,
        limit=limit, per_day=limit, spacing=timedelta(hours=1),
    )


class TimeCheck(NamedTuple):
    """`check_time`'s answer: the schedule it read, the verdict, and the free times to offer if it is no."""

    schedule: Schedule
    verdict: Verdict
    alternatives: List[FreeTime]

    @property
    def instead(self) -> Optional[TimeHint]:
        """Which times to offer instead (None: the time is free)."""
        problem = self.verdict.problem
        return None if problem is None else offer_instead(self.schedule, problem, self.verdict.start)


def _free_times_for(
    schedule: Schedule, service: ServiceInfo, held: Held, now: datetime, hint: TimeHint, limit: int
) -> List[FreeTime]:
    """The free times a NEAR, FROM or EARLIEST hint names."""
    if hint.kind is HintKind.NEAR and hint.start is not None:
        return availability.nearest_free_times(schedule, service, held, now, hint.start, limit)
    first = hint.day if hint.kind is HintKind.FROM else None
    return availability.free_times(schedule, service, held, now, first_day=first, limit=limit)


def check_time(
    uow_factory: UnitOfWorkFactory, service_code: str, start: datetime, now: datetime,
    reference: Optional[str] = None, limit: int = 4,
) -> TimeCheck:
    """Whether `start` is free; otherwise the times to offer instead (`instead`), the nearest first."""
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        service = _service(schedule, service_code)
        own = uow.bookings.get(reference) if reference else None
        day = schedule.local(start).date()
        today = schedule.local(now).date()
        last = max(day, today) + timedelta(days=14)
        held = _held_around(uow, schedule, min(day, today), last, now, own.id if own else None)
    checked = TimeCheck(schedule, availability.check(schedule, service, start, now, held), [])
    instead = checked.instead
    if instead is None:
        return checked
    return checked._replace(alternatives=_free_times_for(schedule, service, held, now, instead, limit))


class Offer(str, enum.Enum):
    """Which free times `times_to_offer` found (the action words each its own way)."""

    NEXT = "next"  # the earliest, or the earliest from a day on
    ON_DAY = "on_day"  # on the day asked for (in its part of the day)
    DAY_FULL = "day_full"  # nothing that day: the earliest from it
    NEAREST = "nearest"  # nearest the time asked for (it first, if free again)


@dataclass(frozen=True)
class TimesOffer:
    """`times_to_offer`'s answer."""

    schedule: Schedule
    offer: Offer
    times: List[FreeTime]
    hint: TimeHint


def times_to_offer(
    uow_factory: UnitOfWorkFactory, service_code: str, hint: TimeHint, now: datetime
) -> TimesOffer:
    """The free times `hint` (left by the booking form) names: on a day, near a time, from a day, or next."""
    if hint.kind is HintKind.DAY and hint.day is not None:
        schedule, times = offer_times(uow_factory, service_code, now, day=hint.day, window=hint.window)
        if times:
            return TimesOffer(schedule, Offer.ON_DAY, times, hint)
        schedule, times = offer_times(uow_factory, service_code, now, from_day=hint.day)
        return TimesOffer(schedule, Offer.DAY_FULL, times, hint)
    if hint.kind is HintKind.NEAR and hint.start is not None:
        checked = check_time(uow_factory, service_code, hint.start, now)
        times = list(checked.alternatives)
        if checked.verdict.ok:
            times.insert(0, FreeTime(checked.verdict.start, checked.verdict.practitioner_ids))
        return TimesOffer(checked.schedule, Offer.NEAREST, times, hint)
    first = hint.day if hint.kind is HintKind.FROM else None
    schedule, times = offer_times(uow_factory, service_code, now, from_day=first)
    return TimesOffer(schedule, Offer.NEXT, times, hint)


# --- booking ---------------------------------------------------------------------------------


def book(uow_factory: UnitOfWorkFactory, request: BookingRequest, now: datetime) -> BookingView:
    """Book `request`; SlotTaken if someone else got the time first, SlotUnavailable if never free."""
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        service = _service(schedule, request.service_code)
        start = request.starts_at
        held = uow.bookings.held(start, start + service.duration, now=now)
    verdict = availability.check(schedule, service, start, now, held)
    if verdict.problem is Problem.TAKEN:
        raise SlotTaken(verdict)
    if not verdict.ok:
        raise SlotUnavailable(verdict)
    cells = availability.cells(start, service.duration_minutes, schedule.slot_minutes)
    triage = {name: _short(request.triage.get(name)) for name in TRIAGE_FIELDS}
    for practitioner_id in verdict.practitioner_ids:
        for _attempt in range(INSERT_ATTEMPTS):
            try:
                with uow_factory() as uow:
                    booking = Booking(
                        reference=new_reference(),
                        service_id=service.id,
                        practitioner_id=practitioner_id,
                        patient=uow.bookings.patient_for(request.name, request.contact),
                        starts_at=start,
                        ends_at=start + service.duration,
                        status=BookingStatus.BOOKED,
                        sender_id=(request.sender_id or None) and request.sender_id[:255],
                        **triage,
                    )
                    uow.bookings.add(booking, cells)
                    booked = view(booking, schedule)
                    uow.outbox.booked(booked, now)  # its confirmation and reminder commit with it
                    uow.commit()
                    return booked
            except IntegrityError:
                if _cells_taken(uow_factory, practitioner_id, cells):
                    break  # someone else holds this practitioner's time: try the next one
                logger.warning("booking insert collided on something other than the slot; retrying")
    raise SlotTaken(Verdict(start, Problem.TAKEN))


def _cells_taken(uow_factory: UnitOfWorkFactory, practitioner_id: int, cells: List[datetime]) -> bool:
    with uow_factory() as uow:
        return uow.bookings.any_held(practitioner_id, cells)


def _short(value: Any) -> Optional[str]:
    return None if value in (None, "") else str(value)[:20]


# --- finding, cancelling, moving -------------------------------------------------------------


def _patients_booking(uow: SqlAlchemyUnitOfWork, reference_text: str, contact_text: str) -> Booking:
    """The booking with this reference whose patient booked with this contact."""
    reference = find_reference(reference_text)
    booking = uow.bookings.get(reference) if reference else None
    try:
        contact = parse_contact(contact_text)
    except InvalidContact:
        contact = None
    if booking is None or contact is None or booking.patient.contact != contact.value:
        raise BookingNotFound(reference_text)
    return booking


def find_booking(uow_factory: UnitOfWorkFactory, reference_text: str, contact_text: str) -> BookingView:
    """The patient's booking, by reference and the contact used to book."""
    with uow_factory() as uow:
        booking = _patients_booking(uow, reference_text, contact_text)
        return view(booking, uow.bookings.schedule())


def find_changeable_booking(
    uow_factory: UnitOfWorkFactory, reference_text: str, contact_text: str, now: datetime
) -> BookingView:
    """The patient's booking, if they can still cancel or move it (BookingNotChangeable says why not)."""
    with uow_factory() as uow:
        booking = _patients_booking(uow, reference_text, contact_text)
        schedule = uow.bookings.schedule()
        _ensure_changeable(booking, schedule, now)
        return view(booking, schedule)


def _ensure_changeable(booking: Booking, schedule: Schedule, now: datetime) -> None:
    reason = why_unchangeable(booking.status, booking.starts_at, now)
    if reason is not None:
        raise BookingNotChangeable(view(booking, schedule), reason)


def _cancel(
    uow: SqlAlchemyUnitOfWork, booking: Booking, schedule: Schedule, by: str, now: datetime,
    notify: bool = True,
) -> BookingView:
    """The one cancellation (caller commits): the time freed and offered to the waitlist, reminder withdrawn.

    With `notify` the cancellation is queued for the patient too.
    """
    freed = Freed.of(booking)
    booking.status, booking.cancelled_at, booking.cancelled_by = BookingStatus.CANCELLED, now, by
    uow.bookings.release(booking)
    offer_freed_time(uow, schedule, freed, now)  # the waitlist's first match, same transaction
    cancelled = view(booking, schedule)
    uow.outbox.cancelled(cancelled, now, notify=notify)
    return cancelled


def cancel_booking(
    uow_factory: UnitOfWorkFactory, reference_text: str, contact_text: str, now: datetime
) -> BookingView:
    """The patient cancels their booking; its time becomes free again."""
    with uow_factory() as uow:
        booking = _patients_booking(uow, reference_text, contact_text)
        schedule = uow.bookings.schedule()
        _ensure_changeable(booking, schedule, now)
        cancelled = _cancel(uow, booking, schedule, "patient", now)
        uow.commit()
        return cancelled


def cancel_for_erasure(uow_factory: UnitOfWorkFactory, sender_id: str, now: datetime) -> List[BookingView]:
    """A patient's data is being erased: the bookings of their conversation still to come are cancelled.

    The same cancellation as the patient's own (`cancel_booking`: by the patient, the time freed and offered
    to the waitlist, the reminder withdrawn), but nothing is sent to them: they asked to be forgotten. The
    eraser (clinic.booking.erasure) runs it on its own session (`SessionUnitOfWork`), so it commits with the
    rest of the erasure.
    """
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        cancelled = [
            _cancel(uow, booking, schedule, "patient", now, notify=False)
            for booking in uow.bookings.for_sender(sender_id)
            if why_unchangeable(booking.status, booking.starts_at, now) is None
        ]
        uow.commit()
        return cancelled


def reschedule_booking(
    uow_factory: UnitOfWorkFactory, reference_text: str, contact_text: str, new_start: datetime, now: datetime
) -> BookingView:
    """Move the patient's booking (same reference) to `new_start`; the old time is freed atomically."""
    with uow_factory() as uow:
        booking = _patients_booking(uow, reference_text, contact_text)
        schedule = uow.bookings.schedule()
        _ensure_changeable(booking, schedule, now)
        reference, service = booking.reference, _service(schedule, booking.service.code)
        held = uow.bookings.held(new_start, new_start + service.duration, booking.id, now=now)
    verdict = availability.check(schedule, service, new_start, now, held)
    if verdict.problem is Problem.TAKEN:
        raise SlotTaken(verdict)
    if not verdict.ok:
        raise SlotUnavailable(verdict)
    cells = availability.cells(new_start, service.duration_minutes, schedule.slot_minutes)
    for practitioner_id in verdict.practitioner_ids:
        try:
            with uow_factory() as uow:
                current = uow.bookings.get(reference)
                if current is None:  # bookings are never deleted: not expected
                    raise BookingNotFound(reference)
                booking = current
                _ensure_changeable(booking, schedule, now)
                freed = Freed.of(booking)
                booking.starts_at, booking.ends_at = new_start, new_start + service.duration
                uow.bookings.move(booking, practitioner_id, cells)
                moved = view(booking, schedule)
                uow.outbox.moved(moved, now)
                offer_freed_time(uow, schedule, freed, now)
                uow.commit()
                return moved
        except IntegrityError:
            continue
    raise SlotTaken(Verdict(new_start, Problem.TAKEN))


# --- replies to SMS reminders -----------------------------------------------------------------


def _awaiting_reply(
    uow: SqlAlchemyUnitOfWork, phone: str, now: datetime
) -> Optional[Tuple[OutboxMessage, Booking]]:
    """The newest unanswered SMS reminder to `phone` (sent in the window) whose booking can still change."""
    for reminder in uow.outbox.sent_reminders(phone, now - REMINDER_REPLY_WINDOW):
        booking = uow.bookings.get(reminder.booking_reference)
        if booking is not None and why_unchangeable(booking.status, booking.starts_at, now) is None \
                and booking.patient.contact == phone:
            return reminder, booking
    return None


def reminder_awaiting_reply(uow_factory: UnitOfWorkFactory, phone: str, now: datetime) -> Optional[datetime]:
    """When the reminder that a reply from `phone` would answer was sent, or None if there is none."""
    with uow_factory() as uow:
        found = _awaiting_reply(uow, phone, now)
        return found[0].sent_at if found else None


def answer_reminder(uow_factory: UnitOfWorkFactory, phone: str, answer: str, now: datetime) -> BookingView:
    """The patient's reply to their SMS reminder, from the number it was sent to (the number is the contact).

    confirm: the booking is marked confirmed; cancel: cancelled as if by the patient (its cancellation queued
    in the outbox); reschedule: nothing changes yet (the assistant's move flow asks the new time). In each
    case the reminder is recorded as `replied`, in the same transaction. BookingNotFound if no reminder to
    `phone` awaits a reply (none sent in the window, already answered, or its booking no longer to come).
    """
    if answer not in REMINDER_REPLIES:
        raise ValueError(f"unknown reminder reply {answer!r}")
    with uow_factory() as uow:
        found = _awaiting_reply(uow, phone, now)
        if found is None:
            raise BookingNotFound(phone)
        reminder, booking = found
        if not uow.outbox.mark_replied(reminder.id, answer, now):
            raise BookingNotFound(phone)  # another reply got there first
        schedule = uow.bookings.schedule()
        if answer == ReminderAnswer.CANCEL:
            answered = _cancel(uow, booking, schedule, "patient", now)
        else:
            if answer == ReminderAnswer.CONFIRM:
                booking.confirmed_at = now
            answered = view(booking, schedule)
        uow.commit()
        return answered


# --- the waitlist -----------------------------------------------------------------------------


class WaitlistNeedsMobile(BookingError):
    """Waitlist offers are texted: the contact must be a mobile number."""


@dataclass(frozen=True)
class Freed:
    """A time a booking no longer holds (cancelled, or moved away from it)."""

    service_code: str
    practitioner_id: int
    starts_at: datetime
    ends_at: datetime
    reference: str
    contact: str

    @classmethod
    def of(cls, booking: Booking) -> Freed:
        """The time `booking` holds now."""
        return cls(booking.service.code, booking.practitioner_id, booking.starts_at, booking.ends_at,
                   booking.reference, booking.patient.contact)


@dataclass(frozen=True)
class WaitlistView:
    """A waitlist entry as the patient and staff see it (times on the clinic's clock)."""

    id: int
    service_code: str
    patient_name: str
    contact: str
    first_day: date
    last_day: date
    status: str
    offer_starts_at: Optional[datetime]
    offer_expires_at: Optional[datetime]
    booking_reference: Optional[str]


def _waitlist_view(entry: WaitlistEntry, schedule: Schedule) -> WaitlistView:
    local = schedule.local
    return WaitlistView(entry.id, entry.service_code, entry.patient_name, entry.contact, entry.first_day,
                        entry.last_day, entry.status,
                        local(entry.offer_starts_at) if entry.offer_starts_at else None,
                        local(entry.offer_expires_at) if entry.offer_expires_at else None,
                        entry.booking_reference)


def join_waitlist(
    uow_factory: UnitOfWorkFactory, service_code: str, days: int, name: str, contact: Contact,
    sender_id: Optional[str], now: datetime,
) -> WaitlistView:
    """Wait for a time for `service_code` in the next `days` days, from today.

    An entry already waiting for that service with that number is updated instead of a second one made.
    """
    if not waitlist_contact_ok(contact):
        raise WaitlistNeedsMobile(contact.kind)
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        _service(schedule, service_code)
        today = schedule.local(now).date()
        last = min(today + timedelta(days=max(1, days) - 1), schedule.last_day(now))
        entry = uow.bookings.waiting_entry(contact.value, service_code)
        if entry is None:
            entry = WaitlistEntry(service_code=service_code, contact=contact.value, status="waiting",
                                  offers=0, created_at=now)
        entry.patient_name, entry.first_day, entry.last_day = name[:100], today, max(today, last)
        entry.sender_id = (sender_id or None) and sender_id[:255]
        uow.bookings.add_to_waitlist(entry)
        joined = _waitlist_view(entry, schedule)
        uow.commit()
        return joined


def offer_freed_time(
    uow: SqlAlchemyUnitOfWork, schedule: Schedule, freed: Freed, now: datetime
) -> Optional[WaitlistEntry]:
    """Offer a freed time to the first waiting patient it suits, held WAITLIST_HOLD_MINUTES (caller commits).

    Only a time still bookable when the hold ends is offered (opening hours, notice, not taken since).
    """
    service = schedule.services.get(freed.service_code)
    if service is None:
        return None
    hold = timedelta(minutes=uow.outbox.policy.waitlist_hold_minutes)
    held = uow.bookings.held(freed.starts_at, freed.ends_at, now=now)
    verdict = availability.check(schedule, service, freed.starts_at, now + hold, held)
    if not verdict.ok or freed.practitioner_id not in verdict.practitioner_ids:
        return None
    day = schedule.local(freed.starts_at).date()
    entry = uow.bookings.next_waiting(service.code, day, freed.starts_at, freed.practitioner_id,
                                      freed.contact)
    if entry is None:
        return None
    entry.status, entry.offers = "offered", (entry.offers or 0) + 1
    entry.offer_starts_at, entry.offer_ends_at = freed.starts_at, freed.starts_at + service.duration
    entry.offer_practitioner_id, entry.offer_expires_at = freed.practitioner_id, now + hold
    entry.offered_from = freed.reference
    uow.outbox.waitlist_offer(freed.reference, entry.contact, entry.patient_name, service.name,
                              schedule.local(freed.starts_at), schedule.local(entry.offer_ends_at), now)
    uow.session.flush()
    return entry


def offer_awaiting_reply(uow_factory: UnitOfWorkFactory, phone: str, now: datetime) -> Optional[datetime]:
    """When the live waitlist offer to `phone` was made (None: no offer awaits an answer)."""
    with uow_factory() as uow:
        entry = uow.bookings.offer_for(phone, now)
        if entry is None:
            return None
        made: datetime = entry.offer_expires_at - timedelta(minutes=uow.outbox.policy.waitlist_hold_minutes)
        return made


def _passed_on(entry: WaitlistEntry) -> Freed:
    return Freed(entry.service_code, entry.offer_practitioner_id, entry.offer_starts_at, entry.offer_ends_at,
                 entry.offered_from or "", entry.contact)


def answer_waitlist_offer(
    uow_factory: UnitOfWorkFactory, phone: str, accept: bool, now: datetime
) -> Tuple[WaitlistView, Optional[BookingView]]:
    """The patient's yes (book the held time, same rules as any booking) or no (offered to the next).

    BookingNotFound if no offer to `phone` is live; SlotTaken if the time can't be booked after all
    (the entry waits again). A declined offer goes to the next waiting patient in the same transaction.
    """
    with uow_factory() as uow:
        entry = uow.bookings.offer_for(phone, now)
        if entry is None:
            raise BookingNotFound(phone)
        schedule = uow.bookings.schedule()
        if not accept:
            entry.status = "waiting"
            offer_freed_time(uow, schedule, _passed_on(entry), now)
            declined = _waitlist_view(entry, schedule)
            uow.commit()
            return declined, None
        service = _service(schedule, entry.service_code)
        start = entry.offer_starts_at
        held = uow.bookings.held(start, start + service.duration, now=now, except_offer_id=entry.id)
        verdict = availability.check(schedule, service, start, now, held)
        if not verdict.ok:
            entry.status = "waiting"
            uow.commit()
            raise SlotTaken(verdict)
        practitioners = sorted(verdict.practitioner_ids, key=lambda p: p != entry.offer_practitioner_id)
        cells = availability.cells(start, service.duration_minutes, schedule.slot_minutes)
        booking = Booking(
            reference=new_reference(), service_id=service.id, practitioner_id=practitioners[0],
            patient=uow.bookings.patient_for(entry.patient_name, Contact("phone", phone)),
            starts_at=start, ends_at=start + service.duration, status=BookingStatus.BOOKED,
            sender_id=entry.sender_id or phone,
        )
        try:
            uow.bookings.add(booking, cells)
        except IntegrityError as error:
            raise SlotTaken(Verdict(start, Problem.TAKEN)) from error
        booked = view(booking, schedule)
        uow.outbox.booked(booked, now)
        entry.status, entry.booking_reference = "booked", booked.reference
        answered = _waitlist_view(entry, schedule)
        uow.commit()
        return answered, booked


def expire_waitlist_offers(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Offers not answered in time: the patient waits again, the time is offered to the next (the worker)."""
    with uow_factory() as uow:
        expired = uow.bookings.expired_offers(now)
        if not expired:
            return 0
        schedule = uow.bookings.schedule()
        for entry in expired:
            entry.status = "waiting"
            uow.session.flush()
            offer_freed_time(uow, schedule, _passed_on(entry), now)
        uow.commit()
        return len(expired)


def _by_reference(uow: SqlAlchemyUnitOfWork, reference_text: str) -> Booking:
    reference = find_reference(reference_text)
    booking = uow.bookings.get(reference) if reference else None
    if booking is None:
        raise BookingNotFound(reference_text)
    return booking


def clinic_may_cancel(status: str) -> bool:
    """Whether the clinic may cancel a booking: only one still booked (the console's Cancel button too)."""
    return status == BookingStatus.BOOKED


def clinic_may_mark(status: str, starts_at: datetime, now: datetime) -> bool:
    """Whether the clinic may mark a booking attended or a no-show: it stands and its time has come."""
    return status in STANDING_STATUSES and starts_at <= now


def cancel_by_clinic(uow_factory: UnitOfWorkFactory, reference_text: str, now: datetime) -> BookingView:
    """The clinic cancels a booking (CLI, staff console)."""
    with uow_factory() as uow:
        booking = _by_reference(uow, reference_text)
        schedule = uow.bookings.schedule()
        if not clinic_may_cancel(booking.status):
            raise BookingNotChangeable(view(booking, schedule))
        cancelled = _cancel(uow, booking, schedule, "clinic", now)
        uow.commit()
        return cancelled


def _mark(uow_factory: UnitOfWorkFactory, reference_text: str, status: str, now: datetime) -> BookingView:
    with uow_factory() as uow:
        booking = _by_reference(uow, reference_text)
        schedule = uow.bookings.schedule()
        if not clinic_may_mark(booking.status, booking.starts_at, now):
            raise BookingNotChangeable(view(booking, schedule))
        booking.status = status
        marked = view(booking, schedule)
        uow.commit()
        return marked


def mark_attended(uow_factory: UnitOfWorkFactory, reference_text: str, now: datetime) -> BookingView:
    """The patient came (only once the appointment has started)."""
    return _mark(uow_factory, reference_text, BookingStatus.ATTENDED, now)


def mark_no_show(uow_factory: UnitOfWorkFactory, reference_text: str, now: datetime) -> BookingView:
    """The patient didn't come; the time stays held (it has passed)."""
    return _mark(uow_factory, reference_text, BookingStatus.NO_SHOW, now)


# --- listing (CLI, staff console) -------------------------------------------------------------


def bookings_between(
    uow_factory: UnitOfWorkFactory, first_day: date, last_day: date, include_cancelled: bool = True
) -> List[BookingView]:
    """Bookings on the clinic's local days first_day..last_day, earliest first."""
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        statuses = None if include_cancelled else STANDING_STATUSES
        start = schedule.at(first_day, time(0, 0))
        rows = uow.bookings.between(start, schedule.at(last_day + timedelta(days=1), time(0, 0)), statuses)
        return [view(b, schedule) for b in rows]


def bookings_on(
    uow_factory: UnitOfWorkFactory, day: date, include_cancelled: bool = True
) -> List[BookingView]:
    """One day's schedule."""
    return bookings_between(uow_factory, day, day, include_cancelled)


def bookings_in_week(
    uow_factory: UnitOfWorkFactory, day: date, include_cancelled: bool = True
) -> List[BookingView]:
    """The week (Monday to Sunday) containing `day`."""
    monday = day - timedelta(days=day.weekday())
    return bookings_between(uow_factory, monday, monday + timedelta(days=6), include_cancelled)


@dataclass(frozen=True)
class Calendar:
    """What the staff calendar shows: the schedule, the period's bookings, the next ones to come."""

    schedule: Schedule
    bookings: List[BookingView]  # first_day..last_day, cancelled included, earliest first
    upcoming: List[BookingView]  # the next bookings from now, not cancelled
    today: date  # on the clinic's clock


def calendar(
    uow_factory: UnitOfWorkFactory, first_day: date, last_day: date, now: datetime, upcoming: int = 8
) -> Calendar:
    """The clinic's days first_day..last_day and its next `upcoming` bookings, in one unit of work."""
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        start = schedule.at(first_day, time(0, 0))
        rows = uow.bookings.between(start, schedule.at(last_day + timedelta(days=1), time(0, 0)))
        coming = uow.bookings.active_after(now, limit=upcoming) if upcoming else []
        return Calendar(
            schedule=schedule,
            bookings=[view(b, schedule) for b in rows],
            upcoming=[view(b, schedule) for b in coming],
            today=schedule.local(now).date(),
        )


def messages_for_bookings(uow_factory: UnitOfWorkFactory, references: List[str]) -> Dict[str, List[Any]]:
    """Each booking's outbox messages (confirmation, reminder, cancellation) and their status, for staff."""
    with uow_factory() as uow:
        return uow.outbox.for_references(references)


def practitioner_bookings(
    uow_factory: UnitOfWorkFactory, practitioner_id: int, since: datetime
) -> List[BookingView]:
    """A practitioner's bookings that end after `since`, cancelled ones included (their calendar feed)."""
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        return [view(b, schedule) for b in uow.bookings.for_practitioner(practitioner_id, since)]


def bookings_for_sender(uow_factory: UnitOfWorkFactory, sender_id: str) -> List[BookingView]:
    """Bookings made in one conversation (for the staff console and data requests)."""
    with uow_factory() as uow:
        schedule = uow.bookings.schedule()
        return [view(b, schedule) for b in uow.bookings.for_sender(sender_id)]
