"""Fault: the tracker store's PostgreSQL goes down mid-conversation and comes back (a real server).

Rasa's own wrapper would start the conversation again as a new one and keep the turn in one server's
memory (clinic/rasa_adapter/stores.py StrictTrackerStore): instead the patient is told the service is
unavailable, nothing is stored, and once the database is back the conversation carries on where it was.
"""

import pytest

from clinic.testing.postgres import fresh_database
from clinic.testing.servers import RunningAssistant
from tests.integration.chat import new_sender, texts

pytestmark = pytest.mark.integration

UNAVAILABLE = "unavailable right now"


@pytest.fixture(scope="module")
def assistant_on_postgres_tracker(own_postgres, tmp_path_factory):
    with fresh_database(own_postgres.url) as url:
        running = RunningAssistant(
            workdir=tmp_path_factory.mktemp("tracker-pg"), extra_env={"TRACKER_STORE_URL": url},
        ).start()
        try:
            yield running
        finally:
            running.stop()


def test_tracker_store_down_then_back(assistant_on_postgres_tracker, own_postgres):
    assistant = assistant_on_postgres_tracker
    patient = new_sender("trackerdown")
    assert "hard" in texts(assistant.say(patient, "I have a white bump"))

    with own_postgres.down():
        reply = texts(assistant.say(patient, "it's hard"))
        assert UNAVAILABLE in reply, reply
        assert "not a diagnosis" not in reply.lower()  # not started again as a new conversation

    # Back: the same conversation, the triage's next question; the turn during the outage was not stored.
    reply = texts(assistant.say(patient, "it's hard"))
    assert "fluid" in reply, reply
    users = [e["text"] for e in assistant.tracker(patient)["events"] if e["event"] == "user"]
    assert users == ["I have a white bump", "it's hard"]
