"""Fault: the clinic database goes down and comes back (a real PostgreSQL server, stopped and resumed).

The triage and the clinic's safety and knowledge answers don't need the database; anything that does
(booking, cancelling) answers "please call the clinic" instead of failing silently. When the database is
back, bookings made before are still there and booking works again, without restarting the assistant.
"""

import pytest

from clinic.testing.postgres import fresh_database
from clinic.testing.servers import RunningAssistant
from tests.integration.chat import book_first_free_time, listed, new_sender, screened, texts, time_payloads

pytestmark = pytest.mark.integration

CALL_US = "can't reach our booking system right now"


@pytest.fixture(scope="module")
def assistant_on_postgres(own_postgres, tmp_path_factory, fake_twilio):
    with fresh_database(own_postgres.url) as url:
        running = RunningAssistant(
            workdir=tmp_path_factory.mktemp("assistant-pg"), clinic_database=url,
            extra_env={"TWILIO_API_BASE_URL": fake_twilio.url},
        ).start()
        try:
            yield running
        finally:
            running.stop()


def book(assistant, sender):
    """Book the second offered consultation time; (reference, day)."""
    reply = screened(assistant, sender, assistant.say(sender, "I'd like to book a consultation"))
    reference, day, _ = book_first_free_time(assistant, sender, reply)
    return reference, day


def test_database_down_then_back(assistant_on_postgres, own_postgres):
    assistant = assistant_on_postgres
    before, day = book(assistant, new_sender("dbdown"))
    assert before in listed(assistant, day)

    # A patient is choosing a time when the database goes down.
    midway = new_sender("dbdown")
    reply = screened(assistant, midway, assistant.say(midway, "I'd like to book a consultation"))
    offered = time_payloads(reply)
    assert offered, texts(reply)

    with own_postgres.down():
        # Booking from the start: a clear "please call", never silence, no time offered.
        fresh = new_sender("dbdown")
        reply = assistant.say(fresh, "can I book an appointment?")
        assert CALL_US in texts(reply) and "call the clinic" in texts(reply)
        assert not time_payloads(reply)

        # In the middle of booking: the chosen time can't be checked now.
        reply = assistant.say(midway, offered[0])
        assert CALL_US in texts(reply), texts(reply)

        # Cancelling needs the database too: it is looked up once reference and contact are known.
        cancelling = new_sender("dbdown")
        reply = assistant.say(cancelling, "I need to cancel my appointment")
        assert "booking reference" in texts(reply), texts(reply)
        assistant.say(cancelling, before)
        reply = assistant.say(cancelling, "07911 123456")  # the contact it was booked with
        assert CALL_US in texts(reply), texts(reply)

        # The triage, the safety warnings and the knowledge answers don't need the database.
        patient = new_sender("dbdown")
        reply = assistant.say(patient, "I have a hard white bump under my eye, no pus")
        reply = texts(screened(assistant, patient, reply))
        assert "milium" in reply and "not a diagnosis" in reply and "permanent scarring" in reply, reply
        reply = texts(assistant.say(patient, "can I squeeze it?"))
        assert "squeez" in reply.lower() and CALL_US not in reply
        reply = texts(assistant.say(patient, "yes, I'd like to book"))  # the assessment's offer
        assert CALL_US in reply, reply

    # Back up: the booking made before is still there, and booking works again in the same process.
    assert before in listed(assistant, day)
    after, later_day = book(assistant, new_sender("dbdown"))
    assert after in listed(assistant, later_day) and before in listed(assistant, day)
