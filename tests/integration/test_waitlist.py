"""The waitlist end to end over SMS: join it in the chat, a reminder's "X" frees a time, the first waiting
patient is texted an offer, no answer passes it to the next, whose "yes" books it.

The real Rasa server and action server, the signed Twilio webhook, the local fake of Twilio's REST API, and
`clinic worker --once [--now ...]` as its own process.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from clinic.booking import handlers
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.db.booking import Booking
from clinic.db.engine import session_factory
from clinic.db.waitlist import WaitlistEntry
from clinic.testing.outbox import run_worker, worker_env
from tests.integration.test_reminder_replies import CLINIC_FILE, book_and_remind, new_number, said

pytestmark = pytest.mark.integration


def join_by_sms(assistant, number: str, name: str) -> str:
    """The chat: book an extraction, ask for something sooner, join for the next 14 days."""
    said(assistant.sms(number, "I'd like to book a milia extraction"))
    reply = said(assistant.sms(number, "none of these"))  # the screening question
    assert "Reply 1 for" in reply, reply
    reply = said(assistant.sms(number, "is there anything sooner?"))
    assert "I can put you on the waitlist" in reply and "Join the waitlist" in reply, reply
    reply = said(assistant.sms(number, "Join the waitlist"))
    assert "Which days could you come?" in reply, reply
    assert "name" in said(assistant.sms(number, "The next 14 days")).lower()
    assert "mobile" in said(assistant.sms(number, name)).lower()
    reply = said(assistant.sms(number, "0" + number[3:]))
    assert "You're on the waitlist for Milia extraction" in reply and "reply YES within 30 minutes" in reply
    return reply


def statuses(assistant):
    with session_factory(assistant.database_url)() as db:
        return {e.contact: e.status for e in db.scalars(select(WaitlistEntry))}


def test_a_freed_time_goes_to_the_waitlist_and_yes_books_it(assistant, fake_twilio):
    first, second = new_number(), new_number()
    join_by_sms(assistant, first, "Wendy First")
    join_by_sms(assistant, second, "Will Second")
    assert {statuses(assistant)[n] for n in (first, second)} == {"waiting"}

    canceller = new_number()
    freed = book_and_remind(assistant, fake_twilio, canceller)  # Jane books, then is reminded
    assert "is cancelled" in said(assistant.sms(canceller, "X"))  # ... and frees her time
    assert statuses(assistant)[first] == "offered" and statuses(assistant)[second] == "waiting"
    env = worker_env(assistant.database_url, "smtp://127.0.0.1:9", fake_twilio.url, Path(CLINIC_FILE))
    run_worker(env)
    [offer] = fake_twilio.api.to(first)
    assert "Milia extraction" in offer and "Reply YES within 30 min" in offer
    assert fake_twilio.api.to(second) == []

    # While the offer stands, nobody else gets that practitioner's time.
    uow = unit_of_work_factory(assistant.database_url)
    with uow() as unit:
        held = unit.bookings.held(freed.starts_at, freed.ends_at, now=datetime.now(timezone.utc))
        practitioner = unit.bookings.get(freed.reference).practitioner_id
    assert (practitioner, freed.starts_at) in held

    # No answer within the hold: the next patient is offered it, by the worker's next pass.
    run_worker(env, (datetime.now(timezone.utc) + timedelta(minutes=31)).isoformat())
    [offer] = fake_twilio.api.to(second)
    assert "Reply YES" in offer
    assert statuses(assistant)[first] == "waiting" and statuses(assistant)[second] == "offered"
    said(assistant.sms(first, "yes"))  # too late: an ordinary message again
    assert statuses(assistant)[first] == "waiting"

    reply = said(assistant.sms(second, "Yes"))
    assert "It's yours: booking VW-" in reply and "Milia extraction" in reply
    assert statuses(assistant)[second] == "booked"
    with session_factory(assistant.database_url)() as db:
        booking = db.execute(select(Booking).where(Booking.starts_at == freed.starts_at,
                                                   Booking.status == "booked")).scalar_one()
        assert booking.patient.contact == second and booking.patient.name == "Will Second"
        assert booking.practitioner_id == practitioner
    run_worker(env)
    assert len(fake_twilio.api.to(second)) == 2  # the offer, then the confirmation of the booking
    assert booking.reference in fake_twilio.api.to(second)[1]
    tracker = assistant.tracker(second)
    intents = [e["parse_data"]["intent"]["name"] for e in tracker["events"] if e["event"] == "user"]
    assert intents[-1] == "waitlist_reply"  # in the patient's own SMS conversation


def test_no_to_an_offer_passes_it_on_and_an_email_cannot_join(assistant, fake_twilio):
    number = new_number()
    said(assistant.sms(number, "I'd like to book a milia extraction"))
    said(assistant.sms(number, "none of these"))
    said(assistant.sms(number, "anything earlier?"))
    said(assistant.sms(number, "Join the waitlist"))
    said(assistant.sms(number, "a week"))
    said(assistant.sms(number, "Nora Mail"))
    reply = said(assistant.sms(number, "nora@example.com"))
    assert "need a mobile number" in reply
    reply = said(assistant.sms(number, "0" + number[3:]))
    assert "until" in reply and statuses(assistant)[number] == "waiting"

    canceller = new_number()
    freed = book_and_remind(assistant, fake_twilio, canceller)
    if (freed.starts_at.date() - datetime.now(timezone.utc).date()).days >= 7:
        pytest.fail("the first free time is outside the week the patient chose")
    said(assistant.sms(canceller, "X"))
    for _ in range(5):  # patients who joined earlier (the test above) are first in line: each says no
        with session_factory(assistant.database_url)() as db:
            offered = db.scalars(select(WaitlistEntry.contact).where(WaitlistEntry.status == "offered")).one()
        if offered == number:
            break
        assert "offer that time to someone else" in said(assistant.sms(offered, "no"))
    assert statuses(assistant)[number] == "offered"
    reply = said(assistant.sms(number, "No thanks"))
    assert "offer that time to someone else" in reply and statuses(assistant)[number] == "waiting"
    assert handlers.offer_awaiting_reply(unit_of_work_factory(assistant.database_url), number,
                                         datetime.now(timezone.utc)) is None
