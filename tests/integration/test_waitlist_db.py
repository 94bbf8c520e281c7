"""The waitlist in the service layer, on real SQLite and PostgreSQL: offers, holds, yes, no, no answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from clinic.booking import handlers
from clinic.booking.contact import Contact
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.db.engine import session_factory
from clinic.db.outbox import OutboxMessage
from clinic.db.waitlist import WaitlistEntry
from clinic.testing.booking import NOW, TUESDAY, at, request

pytestmark = pytest.mark.integration

CANCELLER = "+447911123400"
FIRST, SECOND, THIRD = "+447911123401", "+447911123402", "+447911123403"


def join(uow, phone, name, days=7, service="extraction", now=NOW):
    return handlers.join_waitlist(uow, service, days, name, Contact("phone", phone), f"sms-{phone}", now)


def entries(url):
    with session_factory(url)() as db:
        return {e.contact: e.status for e in db.scalars(select(WaitlistEntry))}


def offers_to(url, phone):
    with session_factory(url)() as db:
        return [(m.kind, m.status, m.booking_reference) for m in db.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == phone).order_by(OutboxMessage.created_at))]


def offer_text(url, phone):
    with session_factory(url)() as db:
        return db.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == phone,
                                                           OutboxMessage.kind == "waitlist_offer")).all()


def test_a_cancelled_time_is_offered_held_and_booked_by_the_first_waiting_patient(clinic_db):
    uow = unit_of_work_factory(clinic_db)
    freed = handlers.book(uow, request(at(TUESDAY, 10), phone=CANCELLER), NOW)
    join(uow, FIRST, "Fay First")
    join(uow, SECOND, "Sid Second")
    join(uow, THIRD, "Tom Facial", service="facial")  # another service: never offered this time
    later = NOW + timedelta(minutes=5)
    handlers.cancel_booking(uow, freed.reference, CANCELLER, later)
    assert entries(clinic_db) == {FIRST: "offered", SECOND: "waiting", THIRD: "waiting"}
    assert offers_to(clinic_db, FIRST) == [("waitlist_offer", "queued", freed.reference)]
    [text] = offer_text(clinic_db, FIRST)
    assert "Tue 4 Jun 10:00am" in text and "Reply YES within 30 min" in text and len(text) <= 160
    assert handlers.offer_awaiting_reply(uow, FIRST, later + timedelta(minutes=1)) == later

    # Held: nobody else gets that practitioner's time while the offer stands (Ben is free at 10:00 too).
    other = handlers.book(uow, request(at(TUESDAY, 10), phone="+447911123499", name="Other"),
                          later + timedelta(minutes=2))
    assert other.practitioner == "Ben"
    with pytest.raises(handlers.SlotTaken):
        handlers.book(uow, request(at(TUESDAY, 10), phone="+447911123498", name="Another"),
                      later + timedelta(minutes=2))
    booked_view, booking = handlers.answer_waitlist_offer(uow, FIRST, True, later + timedelta(minutes=10))
    assert booking.starts_at == at(TUESDAY, 10) and booking.contact == FIRST and booking.practitioner == "Ana"
    assert booked_view.status == "booked" and booked_view.booking_reference == booking.reference
    assert entries(clinic_db)[FIRST] == "booked"
    kinds = [k for k, _, _ in offers_to(clinic_db, FIRST)]
    assert kinds == ["waitlist_offer", "confirmation", "reminder"]  # booked like any booking
    with pytest.raises(handlers.BookingNotFound):  # answered: nothing left to say yes to
        handlers.answer_waitlist_offer(uow, FIRST, True, later + timedelta(minutes=11))


def test_no_or_no_answer_passes_the_time_to_the_next_patient(clinic_db):
    uow = unit_of_work_factory(clinic_db)
    freed = handlers.book(uow, request(at(TUESDAY, 11), phone=CANCELLER), NOW)
    join(uow, FIRST, "Fay First")
    join(uow, SECOND, "Sid Second")
    join(uow, THIRD, "Tia Third")
    handlers.cancel_booking(uow, freed.reference, CANCELLER, NOW)
    declined, booking = handlers.answer_waitlist_offer(uow, FIRST, False, NOW + timedelta(minutes=3))
    assert booking is None and declined.status == "waiting"
    assert entries(clinic_db) == {FIRST: "waiting", SECOND: "offered", THIRD: "waiting"}
    assert handlers.expire_waitlist_offers(uow, NOW + timedelta(minutes=32)) == 0  # SECOND's hold: 3 + 30
    assert handlers.expire_waitlist_offers(uow, NOW + timedelta(minutes=34)) == 1
    assert entries(clinic_db) == {FIRST: "waiting", SECOND: "waiting", THIRD: "offered"}
    with pytest.raises(handlers.BookingNotFound):  # too late
        handlers.answer_waitlist_offer(uow, SECOND, True, NOW + timedelta(minutes=35))
    assert [len(offer_text(clinic_db, p)) for p in (FIRST, SECOND, THIRD)] == [1, 1, 1]
    handlers.expire_waitlist_offers(uow, NOW + timedelta(minutes=70))  # nobody left who wasn't offered it
    assert entries(clinic_db) == {FIRST: "waiting", SECOND: "waiting", THIRD: "waiting"}
    # Free again for anyone once no offer holds it: both practitioners' 11:00 can be booked.
    walk_ins = [handlers.book(uow, request(at(TUESDAY, 11), phone=f"+44791112349{i}", name=f"Walk In{i}"),
                              NOW + timedelta(minutes=71)).practitioner for i in range(2)]
    assert sorted(walk_ins) == ["Ana", "Ben"]


def test_a_moved_booking_offers_its_old_time_and_days_out_of_range_are_not_offered(clinic_db):
    uow = unit_of_work_factory(clinic_db)
    freed = handlers.book(uow, request(at(TUESDAY, 14), phone=CANCELLER), NOW)
    join(uow, FIRST, "Fay First", days=1)  # only today (Monday): Tuesday's time is not for them
    join(uow, SECOND, "Sid Second", days=2)
    handlers.reschedule_booking(uow, freed.reference, CANCELLER, at(TUESDAY, 15), NOW)
    assert entries(clinic_db) == {FIRST: "waiting", SECOND: "offered"}
    with session_factory(clinic_db)() as db:
        entry = db.scalars(select(WaitlistEntry).where(WaitlistEntry.contact == SECOND)).one()
        assert entry.offer_starts_at == at(TUESDAY, 14) and entry.offered_from == freed.reference


def test_the_waitlist_takes_mobiles_only_and_one_entry_per_service(clinic_db):
    uow = unit_of_work_factory(clinic_db)
    with pytest.raises(handlers.WaitlistNeedsMobile):
        handlers.join_waitlist(uow, "extraction", 7, "Eve Mail", Contact("email", "eve@example.com"), None,
                               NOW)
    first = join(uow, FIRST, "Fay First", days=3)
    again = join(uow, FIRST, "Fay First", days=10)
    assert again.id == first.id and (again.last_day - again.first_day).days == 9
    # Nobody waiting: a cancellation offers nothing.
    freed = handlers.book(uow, request(at(TUESDAY, 16), phone=CANCELLER, service="consultation"), NOW)
    handlers.cancel_booking(uow, freed.reference, CANCELLER, NOW)
    assert entries(clinic_db) == {FIRST: "waiting"}


def test_erasing_the_patients_data_takes_them_off_the_waitlist(clinic_db):
    from clinic.booking.erasure import erase_sender, purge_before

    uow = unit_of_work_factory(clinic_db)
    join(uow, FIRST, "Fay First")
    join(uow, SECOND, "Sid Second", days=1)
    with session_factory(clinic_db)() as db:
        erase_sender(db, f"sms-{FIRST}")
        purge_before(db, NOW + timedelta(days=2))  # SECOND's only day (Monday) is over by then
        db.commit()
    assert entries(clinic_db) == {}


def test_a_time_passed_round_the_list_never_comes_back_to_someone_who_let_it_go(clinic_db):
    uow = unit_of_work_factory(clinic_db)
    first_time = handlers.book(uow, request(at(TUESDAY, 11), phone=CANCELLER), NOW)
    second_time = handlers.book(uow, request(at(TUESDAY, 12), phone="+447911123410"), NOW)
    join(uow, FIRST, "Fay First")
    join(uow, SECOND, "Sid Second")
    handlers.cancel_booking(uow, first_time.reference, CANCELLER, NOW)  # 11:00 to FIRST
    handlers.expire_waitlist_offers(uow, NOW + timedelta(minutes=31))  # ... then to SECOND
    handlers.cancel_booking(uow, second_time.reference, "+447911123410", NOW + timedelta(minutes=32))
    assert entries(clinic_db) == {FIRST: "offered", SECOND: "offered"}  # 12:00 to FIRST
    handlers.answer_waitlist_offer(uow, FIRST, False, NOW + timedelta(minutes=33))  # FIRST lets 12:00 go too
    handlers.expire_waitlist_offers(uow, NOW + timedelta(minutes=62))  # SECOND lets 11:00 go
    texts = offer_text(clinic_db, FIRST)
    assert len(texts) == 2 and "11:00am" in texts[0] and "12:00pm" in texts[1]  # 11:00 not offered again
    assert entries(clinic_db) == {FIRST: "waiting", SECOND: "waiting"}
