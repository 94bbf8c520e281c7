"""Notes and tags on a conversation: the console's HTTP app over real stores (SQLite and PostgreSQL).

Staff add them with the conversation page's forms (CSRF-checked, audited), the page shows them, and the
conversation list filters by tag and by the notes' words with SQL (through indexes), keeping its pages.
"""

import asyncio
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote_plus

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select, text
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from clinic.conversations.models import ConversationNote, ConversationRow, ConversationTag, NoteWord
from clinic.conversations.notes import conditions
from clinic.conversations.store import tracker_engine
from clinic.db.engine import engine_for, session_factory
from clinic.privacy import conversation_key, erase_patient, purge
from clinic.staff.accounts import create_user
from clinic.staff.models import AuditEntry
from clinic.web.staff import staff_app
from clinic.web.staff.settings import StaffSettings
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

SECRET = "notes-test-secret"
PASSWORD = "notes test password"
SENDERS = [f"web-notes-{i:02d}" for i in range(60)]
PHONE_SENDER = "+447911123456"


def seed(url, senders):
    """Real Rasa conversations in a tracker store, every one triaged (odd ones milia)."""
    store = SQLTrackerStore(domain=Domain.load(str(ROOT / "domain")), host=url)
    now = time.time() - 3600
    for i, sender in enumerate(senders):
        at = now + i
        parse = {"text": "hard white bump", "intent": {"name": "describe_bump", "confidence": 0.95},
                 "intent_ranking": [], "entities": []}
        events = [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
                  ActionExecuted("action_listen", timestamp=at),
                  UserUttered("hard white bump", parse_data=parse, input_channel="rest", timestamp=at + 0.5),
                  SlotSet("triage_result", "milia" if i % 2 else "pustule", timestamp=at + 0.6)]
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()
    return url


@pytest.fixture(scope="module")
def tracker_url(tmp_path_factory):
    """A tracker store with 61 conversations (one an SMS patient's), shared: tests never erase them."""
    return seed(f"sqlite:///{tmp_path_factory.mktemp('notes') / 'tracker.db'}", SENDERS + [PHONE_SENDER])


def make_console(clinic_db, tracker_url):
    """The console (in-process, real HTTP requests through Starlette) and signed-in staff."""
    with session_factory(clinic_db)() as db:
        for name, role in (("rita", "reviewer"), ("ruth", "reviewer"), ("adam", "admin")):
            create_user(db, name, PASSWORD, role)
        db.commit()
    settings = StaffSettings(secret_key=SECRET, session_minutes=60, cookie_secure=False,
                             database_url=clinic_db, tracker_store_url=tracker_url,
                             rasa_url="http://127.0.0.1:9", rasa_auth_token="x")
    app = Starlette(routes=[Mount("/staff", app=staff_app(settings))])
    clients = {}
    for name in ("rita", "ruth", "adam"):
        client = TestClient(app)
        page = client.get("/staff/login").text
        response = client.post("/staff/login", data={"username": name, "password": PASSWORD,
                                                     "csrf_token": csrf_of(page)}, follow_redirects=False)
        assert response.status_code == 303
        clients[name] = client
    return clients, clinic_db


@pytest.fixture
def console(clinic_db, tracker_url, cheap_password_hashing):
    return make_console(clinic_db, tracker_url)


def csrf_of(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def key(sender):
    return conversation_key(SECRET, sender)


def post(client, sender, path, **form):
    """A form on the conversation page, sent with that page's CSRF token (as a browser would)."""
    page = client.get(f"/staff/conversations/{key(sender)}").text
    return client.post(f"/staff/conversations/{key(sender)}{path}",
                       data={"csrf_token": csrf_of(page), **form})


def listed(client, **params):
    """(count line, sender keys on the page, next page link) of the conversation list."""
    page = client.get("/staff/conversations", params=params).text
    count = re.search(r"(\d+) of (\d+) conversations", page).group(0)
    keys = re.findall(r'href="/staff/conversations/([0-9a-f]{24})"', page)
    following = re.search(r'href="/staff/conversations\?page=(\d+)&([^"]*)">Next', page)
    query = following and unquote_plus(following.group(2).replace("&amp;", "&"))
    return count, keys, following and (following.group(1), query)


def audit(db_url, **where):
    with session_factory(db_url)() as db:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        return list(db.scalars(query))


def test_a_note_and_tags_added_on_the_page_are_shown_there_and_audited(console):
    clients, db_url = console
    rita = clients["rita"]
    note = "Called back 14:10, she'll send a photo.\nNeeds GP letter."
    response = post(rita, SENDERS[0], "/notes", note=note)
    assert response.status_code == 200 and "Your note is saved" in response.text
    assert "Called back 14:10, she&#39;ll send a photo.\nNeeds GP letter." in response.text
    assert "rita ·" in response.text
    assert "The conversation is tagged" in post(rita, SENDERS[0], "/tags", tag="  needs GP   letter ").text
    page = post(rita, SENDERS[0], "/tags", tag="called back").text
    assert re.findall(r'<span class="tag">([^<]+)</span><button', page) == ["called back", "needs GP letter"]
    # the same tag typed differently elsewhere takes the spelling in use
    post(clients["adam"], SENDERS[1], "/tags", tag="NEEDS gp LETTER")
    with session_factory(db_url)() as db:
        assert set(db.execute(select(ConversationTag.sender_id, ConversationTag.tag))) == {
            (SENDERS[0], "needs GP letter"), (SENDERS[0], "called back"), (SENDERS[1], "needs GP letter")}
    added = audit(db_url, action="add note", username="rita", target=key(SENDERS[0]))
    assert len(added) == 1 and "photo" not in (added[0].detail or "")  # the audit log keeps no note text
    assert [e.detail for e in audit(db_url, action="add tag", target=key(SENDERS[0]))] == [
        "needs GP letter", "called back"]
    page = post(rita, SENDERS[0], "/tags/remove", tag="called back").text
    assert "The tag is removed" in page and re.findall(r'<span class="tag">([^<]+)</span><button', page) == [
        "needs GP letter"]
    assert audit(db_url, action="remove tag", username="rita", target=key(SENDERS[0]))
    assert "Write the note first" in post(rita, SENDERS[0], "/notes", note="   ").text
    assert "limited to 2000" in post(rita, SENDERS[0], "/notes", note="x" * 2001).text


def test_forms_without_their_csrf_token_or_for_no_conversation_are_refused(console):
    clients, db_url = console
    rita = clients["rita"]
    forged = rita.post(f"/staff/conversations/{key(SENDERS[2])}/notes",
                       data={"note": "x", "csrf_token": "no"})
    assert forged.status_code == 403 and "security token" in forged.text
    token = csrf_of(rita.get("/staff/conversations").text)
    unknown = rita.post("/staff/conversations/0123456789abcdef01234567/tags",
                        data={"tag": "called back", "csrf_token": token})
    assert unknown.status_code == 404
    with session_factory(db_url)() as db:
        assert db.scalar(select(ConversationNote.id)) is None
        assert db.scalar(select(ConversationTag.tag)) is None
    assert audit(db_url, action="add tag", outcome="refused", username="rita")


def test_only_its_author_or_an_admin_deletes_a_note(console):
    clients, db_url = console
    post(clients["rita"], SENDERS[3], "/notes", note="Left a voicemail")
    with session_factory(db_url)() as db:
        note_id = db.scalar(select(ConversationNote.id))
    path = f"/notes/{note_id}/delete"
    refused = post(clients["ruth"], SENDERS[3], path)
    assert refused.status_code == 403 and "author or an administrator" in refused.text
    assert "Left a voicemail" in clients["ruth"].get(f"/staff/conversations/{key(SENDERS[3])}").text
    assert post(clients["ruth"], SENDERS[4], path).status_code == 404  # not a note of that conversation
    assert "The note is deleted" in post(clients["adam"], SENDERS[3], path).text
    with session_factory(db_url)() as db:
        assert db.scalar(select(ConversationNote.id)) is None and db.scalar(select(NoteWord.word)) is None
    assert audit(db_url, action="delete note", username="adam", target=key(SENDERS[3]))
    assert audit(db_url, action="delete note", username="ruth", outcome="refused")


def test_the_list_filters_by_tag_and_keeps_its_pages(console):
    clients, _ = console
    adam = clients["adam"]
    for sender in SENDERS[:55]:
        post(adam, sender, "/tags", tag="called back")
    count, keys, following = listed(adam, tag="called back")
    assert count == "55 of 61 conversations" and len(keys) == 50
    assert set(keys) <= {key(s) for s in SENDERS[:55]}
    assert following == ("2", "tag=called back")
    count, more, following = listed(adam, tag="called back", page=2)
    assert len(more) == 5 and following is None and not set(more) & set(keys)
    # with another filter: the odd ones are milia
    count, keys, _ = listed(adam, tag="called back", triage="milia")
    assert count == "27 of 61 conversations" and set(keys) == {key(s) for s in SENDERS[1:55:2]}
    assert listed(adam, tag="not a tag in use")[0] == "61 of 61 conversations"  # unknown tags are ignored
    page = adam.get("/staff/conversations", params={"tag": "called back"}).text
    assert '<option value="called back" selected>called back (55)</option>' in page


def test_the_list_finds_conversations_by_the_words_of_their_notes(console):
    clients, db_url = console
    rita, adam = clients["rita"], clients["adam"]
    post(rita, SENDERS[10], "/notes", note="Called back: she needs a GP letter before the extraction")
    post(adam, SENDERS[11], "/notes", note="GP letter posted")
    post(adam, SENDERS[12], "/notes", note="Calling again tomorrow")
    post(adam, PHONE_SENDER, "/notes", note=f"Rang {PHONE_SENDER} twice, no answer")
    assert set(listed(rita, note="gp letter")[1]) == {key(SENDERS[10]), key(SENDERS[11])}
    assert set(listed(rita, note="CALL")[1]) == {key(SENDERS[10]), key(SENDERS[12])}  # a prefix, any case
    assert listed(rita, note="letter extraction")[1] == [key(SENDERS[10])]  # every word
    assert listed(rita, note="letters")[0] == "0 of 61 conversations"
    # the words are read from the note with contact details masked: no search finds a phone number
    assert listed(adam, note="twice")[1] == [key(PHONE_SENDER)]
    assert listed(adam, note="7911123456")[0] == "0 of 61 conversations"
    assert listed(adam, note="447911123456")[0] == "0 of 61 conversations"
    transcript = rita.get(f"/staff/conversations/{key(PHONE_SENDER)}").text
    assert PHONE_SENDER not in transcript and "Rang +44•••56 twice" in transcript  # reviewers: masked
    assert audit(db_url, action="search conversations", username="rita")[-1].detail.endswith("by their notes")
    count, keys, following = listed(rita, note="gp", tag="needs GP letter")
    assert count == "2 of 61 conversations"  # an unknown tag is dropped, the note search stays


def test_notes_and_tags_are_erased_with_the_patient_and_by_retention(clinic_db, tmp_path,
                                                                    cheap_password_hashing):
    tracker_url = seed(f"sqlite:///{tmp_path / 'tracker.db'}", SENDERS[20:23])  # its own: one is erased
    clients, db_url = make_console(clinic_db, tracker_url)
    adam = clients["adam"]
    for sender in SENDERS[20:23]:
        post(adam, sender, "/notes", note=f"note about {sender}")
        post(adam, sender, "/tags", tag="called back")
    with session_factory(db_url)() as db:
        erased = erase_patient(tracker_engine(tracker_url), db, SENDERS[20])
        assert erased["personal_records"] >= 2
        assert {s for s, in db.execute(select(ConversationNote.sender_id))} == set(SENDERS[21:23])
        assert {s for s, in db.execute(select(NoteWord.sender_id))} == set(SENDERS[21:23])
        old = time.time() - 100 * 86400
        db.execute(ConversationNote.__table__.update().where(ConversationNote.sender_id == SENDERS[21])
                   .values(created_at=old))
        db.execute(ConversationTag.__table__.update().where(ConversationTag.sender_id == SENDERS[21])
                   .values(added_at=old))
        db.commit()
        purge(tracker_engine(tracker_url), db, timedelta(days=90),
              now=datetime.now(timezone.utc))
        assert {s for s, in db.execute(select(ConversationNote.sender_id))} == {SENDERS[22]}
        assert {s for s, in db.execute(select(ConversationTag.sender_id))} == {SENDERS[22]}
        assert {s for s, in db.execute(select(NoteWord.sender_id))} == {SENDERS[22]}


def test_the_filters_are_answered_through_indexes(console):
    """The plans: the tag and the word prefix are ranges of their indexes, never a scan of the notes."""
    _, db_url = console
    engine = engine_for(db_url)
    where = conditions("called back", "gp")
    query = (select(ConversationRow.sender_id).where(*where)
             .order_by(ConversationRow.last_active.desc()).limit(50))
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = " | ".join(str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
            assert "ix_conversation_tags_tag_sender_id (tag=?)" in plan, plan
            assert "ix_conversation_note_words_word_sender_id (word>? AND word<?)" in plan, plan
            assert "SCAN conversation_note_words" not in plan and "SCAN conversation_tags" not in plan, plan
        else:
            conn.execute(text("SET enable_seqscan = off"))  # a few rows: show that the index can answer
            plan = " | ".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")))
            assert "ix_conversation_tags_tag_sender_id" in plan, plan
            assert "ix_conversation_note_words_word_sender_id" in plan, plan
            assert "Seq Scan on conversation_note_words" not in plan, plan
