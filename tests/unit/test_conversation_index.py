"""The console's conversation index: kept up to date from the tracker store's newer events only."""

import asyncio
import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select

from clinic.conversations.index import ConversationIndex
from clinic.conversations.models import ConversationRow, MessageDay, ReviewMessage
from clinic.conversations.store import tracker_engine
from clinic.db.engine import session_factory
from clinic.privacy import conversation_key, erase_conversation, erase_patient, erase_personal_data, purge
from clinic.tracker_store import ErasableSQLTrackerStore
from tests.conftest import ROOT

DOMAIN = Domain.load(str(ROOT / "domain"))


def said(text, intent="describe_bump", confidence=0.97, at=0.0):
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": []}
    return UserUttered(text, parse_data=parse, input_channel="socketio", timestamp=at)


@pytest.fixture
def stores(tmp_path, database_url):
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = ErasableSQLTrackerStore(domain=DOMAIN, host=tracker_url)
    index = ConversationIndex(tracker_engine(tracker_url), session_factory(database_url), "secret")
    return store, index, database_url


def save(store, sender, events):
    tracker = asyncio.run(store.retrieve(sender)) or DialogueStateTracker(sender, DOMAIN.slots)
    for event in events:
        tracker.update(event)
    asyncio.run(store.save(tracker))


def start(at):
    return [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
            ActionExecuted("action_listen", timestamp=at)]


def test_only_newer_events_are_read_and_folded_into_the_row(stores):
    store, index, _ = stores
    now = time.time() - 100
    save(store, "web-a", start(now) + [said("a hard white bump", at=now + 1)])
    first = index.refresh()
    assert first == 4
    assert index.refresh() == 0  # nothing new: nothing read
    save(store, "web-a", [SlotSet("triage_result", "milia", timestamp=now + 2),
                          said("qwzx", "nlu_fallback", 0.3, at=now + 3),
                          said("talk to a person", "human_handoff", at=now + 4),
                          ConversationPaused(timestamp=now + 5)])
    assert index.refresh() == 4
    summary = index.summary("web-a")
    assert (summary.messages, summary.fallbacks, summary.triage_result) == (3, 1, "milia")
    assert summary.paused and summary.handoff_requested and summary.offered_booking
    assert summary.last_message == "talk to a person"
    assert [s.sender_id for s, _ in index.waiting()] == ["web-a"]
    save(store, "web-a", [ConversationResumed(timestamp=now + 6)])
    index.refresh()
    assert index.waiting() == []
    # the same fold as a transcript's own summary
    whole = index.repository.summary_for("web-a")
    assert (whole.messages, whole.fallbacks, whole.paused) == (summary.messages, summary.fallbacks, False)


def test_keys_are_hashed_once_and_remade_when_the_secret_changes(stores):
    store, index, database_url = stores
    save(store, "+447700900123", start(time.time()))
    index.refresh()
    assert index.sender_for_key(conversation_key("secret", "+447700900123")) == "+447700900123"
    other = ConversationIndex(index.tracker, index.db, "another secret")
    other.refresh()
    assert other.sender_for_key(conversation_key("another secret", "+447700900123")) == "+447700900123"
    assert other.sender_for_key(conversation_key("secret", "+447700900123")) is None
    assert other.sender_for_key("not-a-key") is None


def test_pages_of_fifty_most_recent_first(stores):
    store, index, _ = stores
    now = time.time() - 1000
    for i in range(120):
        save(store, f"web-{i:03d}", start(now + i) + [said("hi", "greet", at=now + i)])
    index.refresh()
    first = index.page({}, page=1)
    assert (len(first.rows), first.found, first.pages) == (50, 120, 3)
    assert first.rows[0][0].sender_id == "web-119"
    last = index.page({}, page=3)
    assert len(last.rows) == 20 and last.rows[-1][0].sender_id == "web-000"
    assert index.page({}, page=99).page == 3  # past the end: the last page
    assert index.page({}, query="web-01", exact=False).found == 10
    assert index.page({}, query="web-01", exact=True).found == 0
    assert index.page({}, query="%", exact=False).found == 0  # LIKE wildcards are literal


def test_erasure_by_the_patient_by_staff_and_by_retention(stores):
    store, index, database_url = stores
    now = time.time() - 100
    save(store, "web-erase", start(now) + [said("my email is jo@example.com", "inform", 0.2, at=now + 1)])
    save(store, "web-staff", start(now) + [said("call me on 07700 900123", "inform", 0.3, at=now + 1)])
    index.refresh()
    with session_factory(database_url)() as db:
        assert db.scalar(select(func.count()).select_from(ReviewMessage)) == 2
    # the patient confirms delete_my_data: the action runs the erasers (the index's among them), then the
    # tracker store deletes the conversation right after saving the turn
    with session_factory(database_url)() as db:
        erase_personal_data(db, "web-erase")
        db.commit()
    save(store, "web-erase", [said("yes", "affirm", at=now + 2),
                              ActionExecuted("action_delete_my_data", timestamp=now + 3)])
    index.refresh()
    assert index.summary("web-erase") is None
    # an index that reads the turn before the store deletes it starts the conversation afresh too
    plain = SQLTrackerStore(domain=DOMAIN, host=str(index.tracker.url))
    save(plain, "web-again", start(now) + [said("my name is Jo Bloggs", "inform", 0.2, at=now + 1)])
    index.refresh()
    save(plain, "web-again", [ActionExecuted("action_delete_my_data", timestamp=now + 3)])
    index.refresh()
    assert index.summary("web-again") is None
    erase_conversation(index.tracker, "web-again")
    with session_factory(database_url)() as db:
        assert db.scalars(select(ReviewMessage.sender_id)).all() == ["web-staff"]
        erase_patient(index.tracker, db, "web-staff")  # the console's erase button
        assert db.scalar(select(func.count()).select_from(ReviewMessage)) == 0
    index.refresh()
    assert index.summary("web-staff") is None and index.page({}).total == 0
    # retention: an idle conversation goes from the tracker store and from the index
    save(store, "web-old", start(now - 100 * 86400) + [said("hello", "greet", at=now - 100 * 86400)])
    index.refresh()
    assert index.summary("web-old") is not None
    from datetime import timedelta
    with session_factory(database_url)() as db:
        purge(index.tracker, db, timedelta(days=90))
    assert index.summary("web-old") is None
    with session_factory(database_url)() as db:
        assert db.scalar(select(func.count()).select_from(ConversationRow)) == 0
        assert db.scalar(select(func.sum(MessageDay.messages))) == 4  # counts hold no personal data
