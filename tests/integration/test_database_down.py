"""Fault: the clinic database goes down and comes back (a real PostgreSQL server, stopped and resumed).

The triage and the clinic's safety and knowledge answers don't need the database; anything that does
(booking, cancelling) answers "please call the clinic" instead of failing silently. When the database is
back, bookings made before are still there and booking works again, without restarting the assistant.
"""

import json
import re
import uuid

import pytest

from tests.integration.servers import RunningAssistant
from tests.postgres import fresh_database, stoppable_server

pytestmark = pytest.mark.integration

REFERENCE = re.compile(r"\bVW-[A-Z0-9]{6}\b")
CALL_US = "can't reach our booking system right now"


def texts(messages):
    return " ".join(m.get("text") or "" for m in messages)


def time_buttons(messages):
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    return [p for p in payloads if p.startswith("/choose_time")]


def new_sender() -> str:
    return f"dbdown-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def database_server():
    """A PostgreSQL server of this module's own, so that it can be stopped without harming other tests."""
    with stoppable_server() as server:
        yield server


@pytest.fixture(scope="module")
def assistant_on_postgres(database_server, tmp_path_factory, fake_twilio):
    with fresh_database(database_server.url) as url:
        running = RunningAssistant(
            workdir=tmp_path_factory.mktemp("assistant-pg"), clinic_database=url,
            extra_env={"TWILIO_API_BASE_URL": fake_twilio.url},
        ).start()
        try:
            yield running
        finally:
            running.stop()


def book(assistant, sender) -> str:
    """Book the first offered time; returns the reference."""
    reply = assistant.say(sender, "I'd like to book a consultation")
    payloads = time_buttons(reply)
    assert payloads, texts(reply)
    assistant.say(sender, payloads[0])
    assistant.say(sender, "Ana Lima")
    reply = assistant.say(sender, "ana@example.com")
    assert "Shall I book it?" in texts(reply), texts(reply)
    reply = texts(assistant.say(sender, "yes"))
    reference = REFERENCE.search(reply)
    assert reference, reply
    return reference.group(0)


def listed_references(assistant):
    return {row["reference"] for row in json.loads(assistant.clinic("bookings", "list", "--json"))}


def test_database_down_then_back(assistant_on_postgres, database_server):
    assistant = assistant_on_postgres
    before = book(assistant, new_sender())
    assert before in listed_references(assistant)

    # A patient is choosing a time when the database goes down.
    midway = new_sender()
    reply = assistant.say(midway, "I'd like to book a consultation")
    offered = time_buttons(reply)
    assert offered, texts(reply)

    database_server.stop()
    try:
        # Booking from the start: a clear "please call", never silence, no time offered.
        fresh = new_sender()
        reply = assistant.say(fresh, "can I book an appointment?")
        assert CALL_US in texts(reply) and "call the clinic" in texts(reply)
        assert not time_buttons(reply)

        # In the middle of booking: the chosen time can't be checked now.
        reply = assistant.say(midway, offered[0])
        assert CALL_US in texts(reply), texts(reply)

        # Cancelling needs the database too: it is looked up once reference and contact are known.
        cancelling = new_sender()
        reply = assistant.say(cancelling, "I need to cancel my appointment")
        assert "booking reference" in texts(reply), texts(reply)
        assistant.say(cancelling, before)
        reply = assistant.say(cancelling, "ana@example.com")
        assert CALL_US in texts(reply), texts(reply)

        # The triage, the safety warnings and the knowledge answers don't need the database.
        patient = new_sender()
        reply = texts(assistant.say(patient, "I have a hard white bump under my eye, no pus"))
        assert "millium" in reply and "not a diagnosis" in reply and "permanent scarring" in reply, reply
        reply = texts(assistant.say(patient, "can I squeeze it?"))
        assert "squeez" in reply.lower() and CALL_US not in reply
        reply = texts(assistant.say(patient, "yes, I'd like to book"))  # the assessment's offer
        assert CALL_US in reply, reply
    finally:
        database_server.resume()

    # Back up: the booking made before is still there, and booking works again in the same process.
    assert before in listed_references(assistant)
    after = book(assistant, new_sender())
    assert {before, after} <= listed_references(assistant)
