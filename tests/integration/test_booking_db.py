"""The booking service layer on a real database: SQLite and PostgreSQL (the `clinic_db` fixture)."""

import json
from datetime import timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from clinic.booking import handlers
from clinic.booking.availability import Problem
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.cli import main
from clinic.db.booking import BookedSlot, Booking, Patient
from clinic.db.engine import engine_for
from clinic.testing.booking import MONDAY, NOW, SUNDAY, TUESDAY, at, request

pytestmark = pytest.mark.integration


@pytest.fixture
def uow(clinic_db):
    return unit_of_work_factory(clinic_db)


def count(url, model):
    with engine_for(url).connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def test_book_attaches_triage_and_is_listed(uow):
    booked = handlers.book(uow, request(at(MONDAY, 10), triage_result="milia", bump_hardness="hard",
                                        bump_fluid="no", bump_location="eye_area"), NOW)
    assert booked.reference.startswith("VW-") and booked.status == "booked"
    assert (booked.starts_at, booked.ends_at) == (at(MONDAY, 10), at(MONDAY, 10, 30))
    assert (booked.triage_result, booked.bump_hardness, booked.bump_fluid, booked.bump_location) == (
        "milia", "hard", "no", "eye_area")
    assert booked.practitioner == "Ana" and booked.contact == "+447911123456"
    listed = handlers.bookings_on(uow, MONDAY)
    assert [b.reference for b in listed] == [booked.reference]
    assert handlers.bookings_in_week(uow, SUNDAY)[0] == listed[0]
    assert handlers.bookings_for_sender(uow, "test-sender") == listed


def test_the_database_refuses_overlaps_and_the_time_is_offered_no_more(uow, clinic_db):
    handlers.book(uow, request(at(MONDAY, 10), service="facial"), NOW)  # Ana, 10:00-11:00
    with pytest.raises(handlers.SlotTaken):
        handlers.book(uow, request(at(MONDAY, 10, 30), name="Other Person", phone="+447911654321"), NOW)
    _, offered = handlers.offer_times(uow, "extraction", NOW, day=MONDAY)
    assert all(not (at(MONDAY, 9, 45) <= t.start < at(MONDAY, 11)) for t in offered)
    # Even bypassing the service layer, the database itself refuses a second holder of a cell.
    with engine_for(clinic_db).connect() as connection, pytest.raises(IntegrityError):
        with connection.begin():
            booking_id = connection.execute(select(Booking.id)).scalar_one()
            connection.execute(BookedSlot.__table__.insert().values(
                practitioner_id=1, starts_at=at(MONDAY, 10, 15), booking_id=booking_id))
    assert count(clinic_db, BookedSlot) == 4


def test_two_practitioners_two_bookings_then_taken(uow):
    first = handlers.book(uow, request(at(TUESDAY, 10)), NOW)
    second = handlers.book(uow, request(at(TUESDAY, 10), name="Sam Lee", phone="+447911000111"), NOW)
    assert {first.practitioner, second.practitioner} == {"Ana", "Ben"}
    with pytest.raises(handlers.SlotTaken):
        handlers.book(uow, request(at(TUESDAY, 10), name="Third", phone="+447911000222"), NOW)


@pytest.mark.parametrize(
    "start, problem",
    [(at(MONDAY, 7), Problem.PAST), (at(SUNDAY, 11), Problem.CLOSED),
     (at(MONDAY, 18), Problem.OUTSIDE_HOURS)],
)
def test_unbookable_times_are_refused_with_alternatives(uow, clinic_db, start, problem):
    with pytest.raises(handlers.SlotUnavailable) as error:
        handlers.book(uow, request(start), NOW)
    assert error.value.verdict.problem is problem and not isinstance(error.value, handlers.SlotTaken)
    _, verdict, alternatives = handlers.check_time(uow, "extraction", start, NOW)
    assert verdict.problem is problem and len(alternatives) == 4
    assert all(a.start > NOW for a in alternatives)
    assert count(clinic_db, Booking) == 0


def test_cancel_needs_the_contact_used_to_book_and_frees_the_time(uow, clinic_db):
    booked = handlers.book(uow, request(at(MONDAY, 10)), NOW)
    for reference, contact in [(booked.reference, "07911 999999"), ("VW-XXXX99", "07911 123456"),
                               (booked.reference, "' OR '1'='1"), ("'; DELETE FROM bookings; --", "x")]:
        with pytest.raises(handlers.BookingNotFound):
            handlers.cancel_booking(uow, reference, contact, NOW)
    cancelled = handlers.cancel_booking(uow, booked.reference.lower(), "07911 123456", NOW)
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "patient")
    assert count(clinic_db, BookedSlot) == 0
    again = handlers.book(uow, request(at(MONDAY, 10), name="Next Patient", phone="+447911222333"), NOW)
    assert again.reference != booked.reference
    with pytest.raises(handlers.BookingNotChangeable):
        handlers.cancel_booking(uow, booked.reference, "+447911123456", NOW)


def test_reschedule_keeps_the_reference_and_moves_atomically(uow, clinic_db):
    booked = handlers.book(uow, request(at(MONDAY, 10)), NOW)
    blocker = handlers.book(uow, request(at(MONDAY, 14), name="Blocker", phone="+447911000333"), NOW)
    with pytest.raises(handlers.SlotTaken):
        handlers.reschedule_booking(uow, booked.reference, "07911 123456", at(MONDAY, 14), NOW)
    assert handlers.find_booking(uow, booked.reference, "07911123456").starts_at == at(MONDAY, 10)
    moved = handlers.reschedule_booking(uow, booked.reference, "07911 123456", at(MONDAY, 10, 15), NOW)
    assert (moved.reference, moved.starts_at) == (booked.reference, at(MONDAY, 10, 15))  # overlaps itself
    assert count(clinic_db, BookedSlot) == 4 and blocker.status == "booked"
    assert [b.starts_at for b in handlers.bookings_on(uow, MONDAY)] == [at(MONDAY, 10, 15), at(MONDAY, 14)]


def test_clinic_cancels_and_marks_attendance(uow):
    booked = handlers.book(uow, request(at(MONDAY, 10)), NOW)
    later = NOW + timedelta(hours=3)
    assert handlers.mark_attended(uow, booked.reference, later).status == "attended"
    assert handlers.mark_no_show(uow, booked.reference, later).status == "no_show"
    with pytest.raises(handlers.BookingNotChangeable):
        handlers.mark_attended(uow, booked.reference, NOW)  # not started yet... and not booked
    other = handlers.book(uow, request(at(MONDAY, 11), name="Other", phone="+447911000444"), NOW)
    assert handlers.cancel_by_clinic(uow, other.reference, NOW).cancelled_by == "clinic"
    with pytest.raises(handlers.BookingNotFound):
        handlers.cancel_by_clinic(uow, "VW-AAAA44", NOW)


def test_sql_looking_text_is_stored_as_text(uow, clinic_db):
    name = "Robert'); DROP TABLE bookings;--"
    handlers.book(uow, request(at(MONDAY, 10), name=name), NOW)
    with engine_for(clinic_db).connect() as connection:
        assert connection.execute(select(Patient.name)).scalar_one() == name
        assert connection.execute(text("SELECT count(*) FROM bookings")).scalar_one() == 1


def test_schedule_sync_warns_about_bookings_the_new_schedule_does_not_fit(uow):
    from clinic.testing.booking import config

    handlers.book(uow, request(at(MONDAY, 16)), NOW)
    changed = config()
    hours = dict(changed.opening_hours)
    hours[0] = hours[0][:1]
    from dataclasses import replace
    from datetime import time

    hours[0] = ((time(9), time(12)),)
    result = handlers.sync_schedule(uow, replace(changed, opening_hours=hours), NOW.astimezone(timezone.utc))
    assert len(result.warnings) == 1 and "outside opening hours" in result.warnings[0]


def test_cli_lists_json_and_cancels(uow, clinic_db, monkeypatch, capsys):
    booked = handlers.book(uow, request(at(MONDAY, 10), triage_result="milia"), NOW)
    monkeypatch.setenv("DATABASE_URL", clinic_db)

    def clinic(*args):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = clinic("bookings", "list", "--date", MONDAY.isoformat(), "--json")
    assert code == 0
    assert [(r["reference"], r["starts_at"], r["triage_result"]) for r in json.loads(out)] == [
        (booked.reference, "2030-06-03T10:00:00+01:00", "milia")]
    code, out, _ = clinic("bookings", "list", "--date", MONDAY.isoformat(), "--week")
    assert booked.reference in out and "Jane Doe" in out
    code, out, _ = clinic("bookings", "cancel", booked.reference)
    assert code == 0 and "cancelled" in out
    code, _, err = clinic("bookings", "cancel", booked.reference)
    assert code == 1 and "is cancelled" in err
    code, _, err = clinic("bookings", "cancel", "VW-NOPE77")
    assert code == 1 and "No booking" in err
    code, out, _ = clinic("schedule", "show")
    assert code == 0 and "Milia extraction (de-roofing)" in out and "Training day" in out
