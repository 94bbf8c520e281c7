"""The service layer's booking rules (clinic/booking/handlers.py): pure ones, then on a real SQLite database.

The clock is Monday 3 June 2030, 08:00 in London; the test schedule is open Monday to Saturday, closed on
Sunday and on Wednesday 5 June (clinic/testing/booking.py).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import pytest
from sqlalchemy import select

from clinic.booking import handlers
from clinic.booking.availability import FreeTime, Problem
from clinic.booking.contact import Contact
from clinic.booking.erasure import erase_sender
from clinic.booking.handlers import Offer, Unchangeable
from clinic.booking.time_hint import TimeHint
from clinic.booking.unit_of_work import UnitOfWorkFactory, unit_of_work_factory
from clinic.db.booking import BookedSlot, Booking
from clinic.db.engine import session_factory
from clinic.db.outbox import OutboxMessage
from clinic.db.waitlist import WaitlistEntry
from clinic.testing.booking import (
    MONDAY,
    NOW,
    SUNDAY,
    TUESDAY,
    WEDNESDAY_CLOSED,
    at,
    config,
    request,
    schedule,
)

SCHEDULE = schedule()
ANA, BEN = 1, 2


# --- who may book, move and wait online (pure) ------------------------------------------------


@pytest.mark.parametrize(
    "triage_result, red_flags, barred",
    [("urgent", None, True), ("urgent", [], True), (None, ["bleeding"], True), ("milia", ["fever"], True),
     ("milia", None, False), ("pustule", [], False), ("uncertain", None, False), (None, None, False)],
)
def test_an_urgent_triage_or_a_red_flag_needs_a_doctor_first(triage_result, red_flags, barred):
    assert handlers.needs_doctor_first(triage_result, red_flags) is barred


@pytest.mark.parametrize(
    "service, triage_result, red_flags, allowed",
    [("extraction", "milia", None, True), ("consultation", None, None, True), (None, "milia", None, False),
     ("", None, None, False), ("extraction", "urgent", None, False), ("extraction", None, ["fever"], False)],
)
def test_the_waitlist_needs_a_service_and_no_doctor_first(service, triage_result, red_flags, allowed):
    assert handlers.may_join_waitlist(service, triage_result, red_flags) is allowed


def test_no_waitlist_is_offered_while_moving_a_booking():
    assert handlers.waitlist_offered(None) and handlers.waitlist_offered("")
    assert not handlers.waitlist_offered("VW-7KM3QD")


@pytest.mark.parametrize(
    "days, ok", [(0, False), (1, True), (14, True), (60, True), (61, False), (-3, False)])
def test_the_waitlist_waits_one_to_sixty_days(days, ok):
    assert handlers.waitlist_days_ok(days) is ok


def test_the_waitlist_texts_so_it_needs_a_mobile():
    assert handlers.waitlist_contact_ok(Contact("phone", "+447911123456"))
    assert not handlers.waitlist_contact_ok(Contact("email", "jane@example.com"))


@pytest.mark.parametrize(
    "status, starts_at, reason",
    [
        ("booked", at(TUESDAY, 10), None),
        ("booked", NOW, Unchangeable.PAST),  # its time has come
        ("booked", at(MONDAY, 7), Unchangeable.PAST),
        ("cancelled", at(TUESDAY, 10), Unchangeable.CANCELLED),
        ("cancelled", at(MONDAY, 7), Unchangeable.CANCELLED),
        ("attended", at(MONDAY, 7), Unchangeable.PAST),
        ("no_show", at(MONDAY, 7), Unchangeable.PAST),
    ],
)
def test_only_a_booked_time_still_to_come_can_change(status, starts_at, reason):
    assert handlers.why_unchangeable(status, starts_at, NOW) is reason


def test_only_services_someone_offers_are_bookable_online():
    services = {**SCHEDULE.services, "laser": replace(SCHEDULE.services["facial"], code="laser",
                                                      practitioner_ids=())}
    offered = replace(SCHEDULE, services=services)
    assert [s.code for s in handlers.online_services(offered)] == ["extraction", "consultation", "facial"]
    assert handlers.online_service(offered, "laser") is None
    assert handlers.online_service(offered, None) is None
    assert handlers.online_service(offered, "facial") == SCHEDULE.services["facial"]


# --- which times to offer instead (pure) ------------------------------------------------------


@pytest.mark.parametrize(
    "problem, hint",
    [
        (Problem.PAST, TimeHint.earliest()),
        (Problem.TOO_SOON, TimeHint.earliest()),
        (Problem.TOO_FAR, TimeHint.earliest()),
        (Problem.CLOSED, TimeHint.from_day(TUESDAY)),
        (Problem.OUTSIDE_HOURS, TimeHint.near(at(TUESDAY, 20))),
        (Problem.NOT_ON_GRID, TimeHint.near(at(TUESDAY, 20))),
        (Problem.TAKEN, TimeHint.near(at(TUESDAY, 20))),
    ],
)
def test_each_problem_offers_its_own_alternatives(problem, hint):
    in_utc = at(TUESDAY, 20).astimezone(timezone.utc)  # read on the clinic's clock
    offered = handlers.offer_instead(SCHEDULE, problem, in_utc)
    assert offered == hint and offered.to_slot() == hint.to_slot()


@pytest.mark.parametrize(
    "day, window, problem, hint",
    [
        (TUESDAY, "afternoon", None, TimeHint.on_day(TUESDAY, "afternoon")),
        (MONDAY, None, None, TimeHint.on_day(MONDAY)),  # today, though 08:00 is before opening
        (MONDAY - timedelta(days=1), None, Problem.PAST, TimeHint.earliest()),
        (SUNDAY, "morning", Problem.CLOSED, TimeHint.from_day(SUNDAY)),
        (WEDNESDAY_CLOSED, None, Problem.CLOSED, TimeHint.from_day(WEDNESDAY_CLOSED)),
        (MONDAY + timedelta(days=31), None, Problem.TOO_FAR, TimeHint.earliest()),
    ],
)
def test_a_day_without_a_time_is_checked_whole(day, window, problem, hint):
    checked = handlers.day_request(SCHEDULE, day, window, NOW)
    assert (checked.problem, checked.offer) == (problem, hint)
    assert checked.start == at(day, 0)


# --- on a real database -----------------------------------------------------------------------


@pytest.fixture
def uow(database_url: str) -> UnitOfWorkFactory:
    factory = unit_of_work_factory(database_url)
    handlers.sync_schedule(factory, config(), NOW)
    return factory


def test_check_time_says_what_to_offer_instead(uow):
    free = handlers.check_time(uow, "extraction", at(TUESDAY, 10), NOW)
    assert free.verdict.ok and free.instead is None and free.alternatives == []
    handlers.book(uow, request(at(MONDAY, 14)), NOW)
    taken = handlers.check_time(uow, "extraction", at(MONDAY, 14), NOW)
    assert taken.verdict.problem is Problem.TAKEN and taken.instead == TimeHint.near(at(MONDAY, 14))
    assert [t.start for t in taken.alternatives[:2]] == [at(MONDAY, 13, 30), at(MONDAY, 14, 30)]
    closed = handlers.check_time(uow, "extraction", at(SUNDAY, 10), NOW)
    assert closed.instead == TimeHint.from_day(SUNDAY)
    assert closed.alternatives[0].start == at(SUNDAY + timedelta(days=1), 9)
    schedule_read, verdict, alternatives = closed  # still unpacks as before
    assert (verdict, alternatives) == (closed.verdict, closed.alternatives)


def test_a_failed_booking_says_what_to_offer_instead(uow):
    handlers.book(uow, request(at(MONDAY, 14)), NOW)
    with pytest.raises(handlers.SlotTaken) as taken:
        handlers.book(uow, request(at(MONDAY, 14), name="Sam Roe", phone="+447911654321"), NOW)
    assert taken.value.instead == TimeHint.near(at(MONDAY, 14))
    with pytest.raises(handlers.SlotUnavailable) as gone:
        handlers.book(uow, request(at(MONDAY, 7)), NOW)
    assert gone.value.instead == TimeHint.earliest()


def test_times_to_offer_follow_the_hint(uow):
    next_times = handlers.times_to_offer(uow, "extraction", TimeHint.earliest(), NOW)
    assert next_times.offer is Offer.NEXT
    assert [t.start for t in next_times.times] == [
        at(MONDAY, 9), at(MONDAY, 11), at(TUESDAY, 9), at(TUESDAY, 11)]
    afternoon = handlers.times_to_offer(uow, "extraction", TimeHint.on_day(TUESDAY, "afternoon"), NOW)
    assert afternoon.offer is Offer.ON_DAY and afternoon.times[0].start == at(TUESDAY, 12)
    full = handlers.times_to_offer(uow, "extraction", TimeHint.on_day(WEDNESDAY_CLOSED), NOW)
    assert full.offer is Offer.DAY_FULL and full.times[0].start == at(WEDNESDAY_CLOSED + timedelta(days=1), 9)
    after_sunday = handlers.times_to_offer(uow, "extraction", TimeHint.from_day(SUNDAY), NOW)
    assert after_sunday.offer is Offer.NEXT
    assert after_sunday.times[0].start == at(SUNDAY + timedelta(days=1), 9)
    near_free = handlers.times_to_offer(uow, "extraction", TimeHint.near(at(TUESDAY, 10)), NOW)
    assert near_free.offer is Offer.NEAREST and near_free.times == [FreeTime(at(TUESDAY, 10), (ANA, BEN))]
    handlers.book(uow, request(at(MONDAY, 14)), NOW)
    near_taken = handlers.times_to_offer(uow, "extraction", TimeHint.near(at(MONDAY, 14)), NOW)
    assert [t.start for t in near_taken.times[:2]] == [at(MONDAY, 13, 30), at(MONDAY, 14, 30)]


def test_a_booking_to_change_must_be_booked_and_still_to_come(uow):
    booked = handlers.book(uow, request(at(TUESDAY, 10)), NOW)
    found = handlers.find_changeable_booking(uow, booked.reference, "07911 123456", NOW)
    assert found.reference == booked.reference
    with pytest.raises(handlers.BookingNotChangeable) as past:
        handlers.find_changeable_booking(uow, booked.reference, "07911 123456", at(TUESDAY, 10))
    assert past.value.reason is Unchangeable.PAST
    handlers.cancel_booking(uow, booked.reference, "07911 123456", NOW)
    with pytest.raises(handlers.BookingNotChangeable) as cancelled:
        handlers.find_changeable_booking(uow, booked.reference, "07911 123456", NOW)
    assert cancelled.value.reason is Unchangeable.CANCELLED and cancelled.value.booking.status == "cancelled"
    with pytest.raises(handlers.BookingNotFound):
        handlers.find_changeable_booking(uow, booked.reference, "07911 000000", NOW)


# --- erasure cancels as the patient does ------------------------------------------------------

PATIENT, WAITING = "+447911123456", "+447911123401"
LATER = NOW + timedelta(minutes=5)
FRIDAY = MONDAY + timedelta(days=4)  # only Ana works; its reminder is due on Thursday


def _booked_with_someone_waiting(url: str) -> Tuple[UnitOfWorkFactory, str]:
    uow = unit_of_work_factory(url)
    handlers.sync_schedule(uow, config(), NOW)
    booked = handlers.book(uow, request(at(FRIDAY, 10), phone=PATIENT), NOW)  # sender "test-sender"
    handlers.join_waitlist(uow, "extraction", 7, "Fay First", Contact("phone", WAITING), "sms-fay", NOW)
    return uow, booked.reference


def _after(url: str, uow: UnitOfWorkFactory, reference: str) -> Dict[str, Any]:
    """What a cancellation changes: the booking, its time, the waitlist, the reminder, the time's verdict."""
    with session_factory(url)() as db:
        booking = db.scalar(select(Booking).where(Booking.reference == reference))
        held = db.scalars(select(BookedSlot).where(BookedSlot.booking_id == booking.id)).all()
        waiting = [(e.contact, e.status, e.offer_starts_at, e.offer_expires_at, e.offered_from == reference)
                   for e in db.scalars(select(WaitlistEntry))]
        messages: List[Tuple[str, str, str, str]] = [
            (m.kind, m.status, m.last_error or "", m.body if m.kind == "waitlist_offer" else "")
            for m in db.scalars(select(OutboxMessage)
                                .where(OutboxMessage.kind.in_(["reminder", "waitlist_offer"]))
                                .order_by(OutboxMessage.kind))
        ]
        state = {
            "booking": (booking.status, booking.cancelled_by, booking.cancelled_at),
            "held": len(held), "waitlist": waiting, "messages": messages,
        }
    after_the_hold = LATER + timedelta(minutes=31)
    state["during the hold"] = handlers.check_time(uow, "extraction", at(FRIDAY, 10), LATER).verdict
    state["after the hold"] = handlers.check_time(uow, "extraction", at(FRIDAY, 10), after_the_hold).verdict
    return state


def test_erasure_cancels_and_frees_the_time_exactly_as_the_patient_cancelling_does(tmp_path,
                                                                                    migrated_database):

    urls = []
    for name in ("cancelled.db", "erased.db"):
        shutil.copy(migrated_database, tmp_path / name)
        urls.append(f"sqlite:///{tmp_path / name}")
    cancelled_url, erased_url = urls

    uow, reference = _booked_with_someone_waiting(cancelled_url)
    handlers.cancel_booking(uow, reference, PATIENT, LATER)
    cancelled = _after(cancelled_url, uow, reference)

    uow, erased_reference = _booked_with_someone_waiting(erased_url)
    with session_factory(erased_url)() as db:
        erase_sender(db, "test-sender", now=LATER)
        db.commit()
    erased = _after(erased_url, uow, erased_reference)

    assert erased == cancelled
    assert cancelled["booking"] == ("cancelled", "patient", LATER.astimezone(timezone.utc))
    assert cancelled["held"] == 0
    hold_ends = LATER + timedelta(minutes=30)
    assert cancelled["waitlist"] == [(WAITING, "offered", at(FRIDAY, 10), hold_ends, True)]
    assert [m[:3] for m in cancelled["messages"]] == [
        ("reminder", "cancelled", "the booking was cancelled"), ("waitlist_offer", "queued", "")]
    assert cancelled["during the hold"].problem is Problem.TAKEN  # held for Fay
    assert cancelled["after the hold"].ok
    # The one difference: the patient who cancelled is told; the erased patient is sent nothing, and what
    # was sent to them keeps no contact.
    assert _to_patient(cancelled_url) == [("cancellation", "queued"), ("confirmation", "queued")]
    assert _to_patient(erased_url) == []


def _to_patient(url: str) -> List[Tuple[str, str]]:
    with session_factory(url)() as db:
        return sorted((m.kind, m.status) for m in db.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == PATIENT,
                                        OutboxMessage.kind.in_(["confirmation", "cancellation"]))))


def test_erasure_leaves_past_and_cancelled_bookings_as_they_are(uow, database_url):
    past = handlers.book(uow, request(at(MONDAY, 9)), NOW)
    gone = handlers.book(uow, request(at(MONDAY, 11)), NOW)
    handlers.cancel_booking(uow, gone.reference, "07911 123456", NOW)
    after_the_first = datetime(2030, 6, 3, 9, 30, tzinfo=timezone.utc)
    assert handlers.cancel_for_erasure(uow, "test-sender", after_the_first) == []
    with session_factory(database_url)() as db:
        statuses = dict(db.execute(select(Booking.reference, Booking.status)).all())
    assert statuses == {past.reference: "booked", gone.reference: "cancelled"}


def test_erasing_the_waiting_patient_forgets_the_offer_texted_to_them(tmp_path, migrated_database):
    shutil.copy(migrated_database, tmp_path / "offer.db")
    url = f"sqlite:///{tmp_path / 'offer.db'}"
    uow, reference = _booked_with_someone_waiting(url)
    handlers.cancel_booking(uow, reference, PATIENT, LATER)  # the freed time is offered to Fay
    with session_factory(url)() as db:
        offer = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer"))
        assert offer.recipient == WAITING  # her number: what is at stake
        offer.status = "sent"  # one already sent, and a second still queued
        columns = {c.name: getattr(offer, c.name) for c in OutboxMessage.__table__.columns}
        db.add(OutboxMessage(**{**columns, "id": "queued-offer", "status": "queued"}))
        db.commit()
    with session_factory(url)() as db:
        erase_sender(db, "sms-fay", now=LATER)
        db.commit()
    with session_factory(url)() as db:
        offers = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer")).all()
        assert {(m.recipient, m.body, m.status) for m in offers} == {
            ("(erased)", "", "sent"), ("(erased)", "", "cancelled")}
        assert db.scalars(select(WaitlistEntry)).all() == []
