"""Widget session ids: issued and signed by the server, unguessable, checked before anything reads them."""

import time

import pytest

from clinic.channels.identity import output_channel_for, reserved_namespace
from clinic.channels.widget_session import MAX_SESSION_ID_CHARS, WidgetSessions


@pytest.fixture
def sessions():
    return WidgetSessions(b"server secret")


def test_issued_ids_are_recognised_and_unique(sessions):
    ids = {sessions.issue() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(sessions.is_issued(i) and i.startswith("web:") and len(i) <= MAX_SESSION_ID_CHARS for i in ids)
    one = next(iter(ids))
    assert output_channel_for(one) == "socketio" and reserved_namespace(one)  # REST may not use it


def test_ids_the_server_did_not_issue_are_not_accepted(sessions):
    issued = sessions.issue()
    body, _, signature = issued.rpartition(".")
    flipped = body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    other_server = WidgetSessions(b"another secret").issue()
    for claimed in [None, 42, "", "+447911123456", "whatsapp:+447911123456",
                    "0f8fad5bd9cb469fa16570867728950e", flipped, body, body + ".", other_server,
                    issued + "x", " " + issued, issued.upper(),
                    "web:" + "a" * 24 + "." + "b" * 22, "web:" + "a" * 250_000, {"id": issued}]:
        assert not sessions.is_issued(claimed), claimed


def test_a_250000_character_id_is_refused_without_reading_it(sessions):
    huge = "web:" + "a" * 250_000
    started = time.thread_time()
    for _ in range(1000):
        assert not sessions.is_issued(huge)
    assert time.thread_time() - started < 0.05


def test_the_secret_comes_from_the_environment():
    assert WidgetSessions.from_env({"WIDGET_SESSION_SECRET": "s"}).is_issued(
        WidgetSessions(b"s").issue())
    # every replica holding the same API token accepts the same ids
    a, b = (WidgetSessions.from_env({"RASA_AUTH_TOKEN": "token"}) for _ in range(2))
    assert b.is_issued(a.issue())
    assert not WidgetSessions.from_env({"RASA_AUTH_TOKEN": "other"}).is_issued(a.issue())
    lonely = WidgetSessions.from_env({})
    assert lonely.is_issued(lonely.issue())
