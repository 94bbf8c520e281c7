"""Replies to SMS reminders: C confirms, X cancels, R moves the booking, in the patient's SMS conversation.

The real Rasa server and action server, the signed Twilio webhook, the local fake of Twilio's REST API, and
`clinic worker --once --now <the day before>` as its own process sending the reminder first.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from clinic.booking import handlers
from clinic.booking.contact import Contact
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.db.booking import Booking
from clinic.db.engine import session_factory
from clinic.db.outbox import OutboxMessage
from clinic.testing.outbox import ROOT, run_worker, worker_env
from clinic.testing.twilio_fake import twiml_texts

pytestmark = pytest.mark.integration

CLINIC_FILE = ROOT / "config" / "clinic.yml"  # what the assistant's servers book from


def new_number() -> str:
    return "+44790090" + "".join(random.choices("0123456789", k=4))


def said(response) -> str:
    assert response.status_code == 200, response.text
    return "\n".join(twiml_texts(response.text))


def book_and_remind(assistant, fake_twilio, number: str, name: str = "Jane Doe") -> handlers.BookingView:
    """A booking three days or more ahead for `number`; the worker sends its confirmation and reminder."""
    uow = unit_of_work_factory(assistant.database_url)
    now = datetime.now(timezone.utc)
    first = (now + timedelta(days=3)).date()
    _, times = handlers.offer_times(uow, "extraction", now, from_day=first, limit=1)
    request = handlers.BookingRequest("extraction", times[0].start, name, Contact("phone", number),
                                      sender_id=number)
    booked = handlers.book(uow, request, now)
    env = worker_env(assistant.database_url, "smtp://127.0.0.1:9", fake_twilio.url, Path(CLINIC_FILE))
    run_worker(env, (booked.starts_at - timedelta(hours=23)).isoformat())
    sent = fake_twilio.api.to(number)
    assert len(sent) == 2 and sent[1].endswith("Reply C to confirm, R to change, X to cancel."), sent
    return booked


def outbox(assistant, reference: str):
    with session_factory(assistant.database_url)() as db:
        rows = db.execute(select(OutboxMessage).where(OutboxMessage.booking_reference == reference)
                          .order_by(OutboxMessage.created_at, OutboxMessage.due_at)).scalars().all()
        return [(m.kind, m.status, m.reply) for m in rows]


def booking_row(assistant, reference: str) -> Booking:
    with session_factory(assistant.database_url)() as db:
        row = db.execute(select(Booking).where(Booking.reference == reference)).scalar_one()
        db.expunge(row)
        return row


def user_turns(assistant, number: str):
    return [(e["text"], e["parse_data"]["intent"]["name"]) for e in assistant.tracker(number)["events"]
            if e["event"] == "user"]


def test_c_confirms_the_booking_and_thanks_the_patient(assistant, fake_twilio):
    number = new_number()
    booked = book_and_remind(assistant, fake_twilio, number, name="Jane Doe")
    reply = said(assistant.sms(number, "C"))
    assert "Thank you, Jane Doe: you're confirmed for Milia extraction" in reply
    assert booking_row(assistant, booked.reference).confirmed_at is not None
    assert ("reminder", "replied", "confirm") in outbox(assistant, booked.reference)
    assert user_turns(assistant, number) == [("C", "reminder_reply")]  # the patient's own conversation
    # Answered once: the next "yes" is an ordinary message for the assistant.
    said(assistant.sms(number, "yes"))
    assert user_turns(assistant, number)[-1][1] != "reminder_reply"
    assert len(fake_twilio.api.to(number)) == 2  # the thank-you is the webhook's answer, nothing queued


def test_x_cancels_without_asking_for_the_reference_and_queues_the_cancellation(assistant, fake_twilio):
    number = new_number()
    booked = book_and_remind(assistant, fake_twilio, number)
    reply = said(assistant.sms(number, "x"))
    assert f"your booking {booked.reference}" in reply and "is cancelled" in reply
    assert "reference" not in reply.split("cancelled")[1]  # no reference or contact question
    row = booking_row(assistant, booked.reference)
    assert (row.status, row.cancelled_by) == ("cancelled", "patient")
    own = [m for m in outbox(assistant, booked.reference) if m[0] != "waitlist_offer"]  # (to someone else)
    assert own == [("confirmation", "sent", None), ("reminder", "replied", "cancel"),
                   ("cancellation", "queued", None)]
    env = worker_env(assistant.database_url, "smtp://127.0.0.1:9", fake_twilio.url, Path(CLINIC_FILE))
    run_worker(env)
    sent = fake_twilio.api.to(number)
    assert len(sent) == 3 and booked.reference in sent[2] and "cancelled" in sent[2]
    assert ("cancellation", "sent", None) in outbox(assistant, booked.reference)


def test_r_starts_the_move_flow_and_the_booking_moves(assistant, fake_twilio):
    number = new_number()
    booked = book_and_remind(assistant, fake_twilio, number)
    reply = said(assistant.sms(number, "R"))
    assert "Let's find a new time for your Milia extraction" in reply
    assert "is any of these happening" in reply  # the move flow screens first, as in the chat
    reply = said(assistant.sms(number, "1"))  # No, none of these
    assert "Reply 1 for" in reply
    reply = said(assistant.sms(number, "1"))  # the first free time offered
    assert f"Move your booking {booked.reference}" in reply
    reply = said(assistant.sms(number, "yes"))
    assert f"your booking {booked.reference}" in reply and "is now on" in reply
    row = booking_row(assistant, booked.reference)
    assert row.status == "booked" and row.starts_at != booked.starts_at
    kinds = outbox(assistant, booked.reference)
    assert ("reminder", "replied", "reschedule") in kinds
    assert [k for k in kinds if k[0] == "confirmation"][-1] == ("confirmation", "queued", None)  # "moved"
    assert user_turns(assistant, number)[0] == ("R", "reminder_reply")


def test_without_a_reminder_awaiting_the_words_go_to_the_assistant(assistant, fake_twilio):
    stranger = new_number()
    said(assistant.sms(stranger, "X"))
    assert user_turns(assistant, stranger)[-1][1] != "reminder_reply"

    number = new_number()
    uow = unit_of_work_factory(assistant.database_url)
    now = datetime.now(timezone.utc)
    first = (now + timedelta(days=5)).date()
    _, times = handlers.offer_times(uow, "extraction", now, from_day=first, limit=1)
    booked = handlers.book(uow, handlers.BookingRequest("extraction", times[0].start, "Sam Lee",
                                                        Contact("phone", number)), now)
    said(assistant.sms(number, "C"))  # booked, but no reminder sent yet
    assert user_turns(assistant, number)[-1][1] != "reminder_reply"
    assert booking_row(assistant, booked.reference).confirmed_at is None


def test_a_typed_payload_cannot_stand_in_for_the_reply(assistant, fake_twilio):
    number = new_number()
    booked = book_and_remind(assistant, fake_twilio, number)
    said(assistant.sms(number, '/reminder_reply{"reminder_answer": "cancel"}'))
    assert booking_row(assistant, booked.reference).status == "booked"
    assert ("reminder", "sent", None) in outbox(assistant, booked.reference)
    assert user_turns(assistant, number)[-1][1] != "reminder_reply"


def test_a_reminder_takes_replies_for_48_hours_and_only_from_its_number(assistant, fake_twilio):
    number = new_number()
    booked = book_and_remind(assistant, fake_twilio, number)
    uow = unit_of_work_factory(assistant.database_url)
    sessions = session_factory(assistant.database_url)
    with sessions() as db:
        reminder = db.execute(select(OutboxMessage).where(
            OutboxMessage.booking_reference == booked.reference, OutboxMessage.kind == "reminder")
        ).scalar_one()
        sent_at = reminder.sent_at
    later = sent_at + timedelta(hours=20)  # the appointment is still to come
    assert later < booked.starts_at
    assert handlers.reminder_awaiting_reply(uow, number, later) == sent_at
    assert handlers.reminder_awaiting_reply(uow, new_number(), later) is None
    with pytest.raises(handlers.BookingNotFound):
        handlers.answer_reminder(uow, new_number(), "cancel", later)
    with sessions() as db:  # as if it had been sent 50 hours before `later`
        db.get(OutboxMessage, reminder.id).sent_at = later - timedelta(hours=50)
        db.commit()
    assert handlers.reminder_awaiting_reply(uow, number, later) is None
    with pytest.raises(handlers.BookingNotFound):
        handlers.answer_reminder(uow, number, "cancel", later)
    assert booking_row(assistant, booked.reference).status == "booked"


def test_staff_see_the_reply_in_the_patients_conversation_and_on_the_booking(
    assistant, fake_twilio, web_app, cheap_password_hashing
):
    from clinic.privacy import conversation_key
    from clinic.staff.accounts import create_user
    from clinic.testing.servers import STAFF_SECRET_KEY
    from tests.integration.test_staff_console import PASSWORD, Console

    number = new_number()
    booked = book_and_remind(assistant, fake_twilio, number)
    said(assistant.sms(number, "X"))
    with session_factory(assistant.database_url)() as db:
        create_user(db, "rhea", PASSWORD, "admin")
        db.commit()
    console = Console(web_app, "rhea")
    transcript = console.get(f"/staff/conversations/{conversation_key(STAFF_SECRET_KEY, number)}").text
    assert f"your booking {booked.reference}" in transcript and "is cancelled" in transcript
    schedule = console.get(f"/staff/bookings?day={booked.starts_at.date().isoformat()}").text
    assert "reminder (sms): replied (cancel)" in schedule and "cancellation (sms): queued" in schedule
    confirmer = new_number()
    confirmed = book_and_remind(assistant, fake_twilio, confirmer, name="Ada Confirm")
    said(assistant.sms(confirmer, "yes"))
    schedule = console.get(f"/staff/bookings?day={confirmed.starts_at.date().isoformat()}").text
    card = schedule[schedule.index(f'data-reference="{confirmed.reference}"'):]
    card = card[:card.index("</td>")]
    assert "Ada Confirm" in card and "confirmed by the patient" in card and "replied (confirm)" in card


def test_x_in_the_middle_of_another_booking_answers_the_reminder_not_the_question(assistant, fake_twilio):
    number = new_number()
    booked = book_and_remind(assistant, fake_twilio, number)
    said(assistant.sms(number, "I'd like to book a skin consultation"))
    said(assistant.sms(number, "none of these"))  # the screening question
    assert "name" in said(assistant.sms(number, "1")).lower()  # a time chosen: the name question, no options
    reply = said(assistant.sms(number, "X"))
    assert f"your booking {booked.reference}" in reply and "is cancelled" in reply
    assert booking_row(assistant, booked.reference).status == "cancelled"
    tracker = assistant.tracker(number)
    assert tracker["active_loop"] in ({}, None) or not tracker["active_loop"].get("name")
    assert tracker["slots"]["patient_name"] in (None, "Jane Doe")  # "X" never became a name
