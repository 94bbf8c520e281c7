"""The console's service (clinic.staff.console) without HTTP: what each page does, and what it audits.

A real clinic database and a real SQL tracker store written by Rasa's own SQLTrackerStore; Rasa's HTTP API
is faked at the wire (httpx.MockTransport), so the real RasaClient builds the requests.
"""

import ast
import asyncio
import csv
import io
import json
import time
from datetime import timedelta

import httpx
import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from clinic.conversations.index import ConversationIndex
from clinic.conversations.notes import NotesRepository
from clinic.conversations.repository import ConversationRepository
from clinic.conversations.store import tracker_engine
from clinic.db.engine import session_factory
from clinic.privacy import conversation_key
from clinic.rasa_api import RasaClient
from clinic.staff import console as console_module
from clinic.staff.accounts import create_user
from clinic.staff.console import (
    EXPORT_COLUMNS,
    MAX_REPLY,
    URGENT_CLEARED,
    Actor,
    Search,
    StaffConsole,
    page_number,
    spreadsheet_cell,
)
from clinic.staff.models import AuditEntry
from clinic.testing.booking import prepare_database
from tests.conftest import ROOT

SECRET = "service-secret"
PHONE = "+447700900123"
WEB = "web-3f2a9c1d"
PASSWORD = "correct horse battery"
REVIEWER = Actor(username="rita", is_admin=False, client_ip="10.0.0.7")
ADMIN = Actor(username="adam", is_admin=True, client_ip="10.0.0.8")


def parse(intent, confidence, text):
    return {"text": text, "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": []}


@pytest.fixture(scope="module")
def rasa_domain():
    return Domain.load(str(ROOT / "domain"))


class FakeRasa:
    """Rasa's HTTP API at the wire: records each request, answers 200 (or `status`)."""

    def __init__(self):
        self.requests = []
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, dict(request.url.params), body))
        return httpx.Response(self.status, json={})

    @property
    def paths(self):
        return [(method, path.rsplit("/", 1)[-1]) for method, path, _, _ in self.requests]


@pytest.fixture
def world(tmp_path, rasa_domain, cheap_password_hashing):
    """Two conversations (an SMS patient waiting for a person, a widget patient), a migrated clinic DB."""
    tracker_url, db_url = f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'clinic.db'}"
    store = SQLTrackerStore(domain=rasa_domain, host=tracker_url)
    now = time.time() - 600
    start = [ActionExecuted("action_session_start", timestamp=now), SessionStarted(timestamp=now),
             ActionExecuted("action_listen", timestamp=now)]
    conversations = {
        PHONE: start + [
            UserUttered("it bleeds", parse_data=parse("report_red_flag", 0.97, "it bleeds"),
                        input_channel="twilio", timestamp=now + 1),
            SlotSet("red_flags", ["bleeding"], timestamp=now + 1),
            SlotSet("triage_result", "urgent", timestamp=now + 2),
            UserUttered("talk to a person", parse_data=parse("human_handoff", 0.99, "talk to a person"),
                        input_channel="twilio", timestamp=now + 3),
            ActionExecuted("action_handoff", timestamp=now + 4),
            ConversationPaused(timestamp=now + 4),
        ],
        WEB: start + [
            UserUttered("=hard bump", parse_data=parse("describe_bump", 0.85, "=hard bump"),
                        input_channel="socketio", timestamp=now + 1),
            BotUttered("Does it feel hard?", timestamp=now + 2),
            SlotSet("triage_result", "milia", timestamp=now + 2),
            UserUttered("qwzx", parse_data=parse("nlu_fallback", 0.45, "qwzx"), input_channel="socketio",
                        timestamp=now + 3),
        ],
    }
    for sender, evs in conversations.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, evs)))
    store.engine.dispose()
    prepare_database(db_url)
    db = session_factory(db_url)
    with db() as session:
        create_user(session, "rita", PASSWORD, "reviewer")
        session.commit()
    fake = FakeRasa()
    rasa = RasaClient("http://rasa.test", "token", transport=httpx.MockTransport(fake))
    index = ConversationIndex(tracker_engine(tracker_url), db, SECRET)
    repository = ConversationRepository(tracker_engine(tracker_url))
    service = StaffConsole(db, index, repository, rasa, SECRET, db_url)
    return service, fake, db


def audited(db, action=None):
    with db() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return [(e.action, e.username, e.target, e.detail, e.client_ip, e.outcome)
                for e in session.scalars(query)]


# --- parsing and formatting ---------------------------------------------------------------------

@pytest.mark.parametrize("raw, page", [(None, 1), ("", 1), ("3", 3), ("999999", 999999), ("1000000", 1),
                                       ("-2", 1), ("2x", 1), ("1.5", 1)])
def test_a_page_number_is_a_short_plain_number_else_the_first_page(raw, page):
    assert page_number(raw) == page


def test_a_search_is_read_from_the_query_parameters_trimmed_and_bounded():
    search = Search.from_params({"q": "  +4477  ", "note": " x" * 200, "page": "2", "tag": " called back ",
                                 "triage": "urgent", "handoff": "maybe", "channel": "twilio", "other": "1"})
    assert search.query == "+4477" and len(search.note) == 100 and search.page == 2
    assert search.filters == {"triage": "urgent", "handoff": "maybe"}  # checked later, against the data
    assert search.channel == "twilio" and search.tag == " called back "
    assert Search.from_params({}) == Search()
    assert len(Search.from_params({"q": "1" * 300}).query) == 255


@pytest.mark.parametrize("value, cell", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+447700900123", "+447700900123"), ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("plain", "plain"), (None, ""), (3, "3"), ("-", "'-"),
])
def test_a_spreadsheet_never_runs_a_cell_as_a_formula_but_phone_numbers_stay(value, cell):
    assert spreadsheet_cell(value) == cell


def test_the_service_knows_nothing_of_http():
    """It is called by the pages; it imports no web framework (its layer is checked by test_layers.py)."""
    tree = ast.parse(open(console_module.__file__, encoding="utf-8").read())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    web = {name for name in imported if name.split(".")[0] in {"starlette", "sanic", "jinja2", "clinic"}
           and (not name.startswith("clinic.") or name.startswith("clinic.web"))}
    assert not web, web


# --- signing in and out -------------------------------------------------------------------------

def test_a_wrong_password_gets_no_session_and_no_audit_row(world):
    service, _, db = world
    assert service.sign_in("rita", "wrong password!", timedelta(hours=1), "10.0.0.7") is None
    assert service.sign_in("nobody", PASSWORD, timedelta(hours=1), "10.0.0.7") is None
    assert audited(db) == []


def test_a_session_lasts_until_signed_out_and_both_are_audited(world):
    service, _, db = world
    token = service.sign_in("rita", PASSWORD, timedelta(hours=1), "10.0.0.7")
    assert token and service.signed_in(token)
    service.sign_out(token, REVIEWER)
    assert not service.signed_in(token)
    assert [(a, u, ip) for a, u, _, _, ip, _ in audited(db)] == [("login", "rita", "10.0.0.7"),
                                                                 ("logout", "rita", "10.0.0.7")]
    service.sign_out(None, REVIEWER)  # a session already gone is still a sign-out
    assert len(audited(db, "logout")) == 2


# --- conversations ------------------------------------------------------------------------------

def test_the_list_reads_new_events_filters_and_is_audited(world):
    service, _, db = world
    listed = service.conversations(Search(), REVIEWER)
    assert listed.found.total == 2 and listed.channels == ["socketio", "twilio"]
    assert {summary.sender_id for summary, _ in listed.found.rows} == {PHONE, WEB}
    urgent = service.conversations(Search(filters={"triage": "urgent"}, channel="twilio"), REVIEWER)
    assert [s.sender_id for s, _ in urgent.found.rows] == [PHONE]
    assert urgent.searched == {"triage": "urgent", "channel": "twilio"}
    assert audited(db, "list conversations") == [
        ("list conversations", "rita", None, "page 1, 2 shown", "10.0.0.7", "ok"),
        ("list conversations", "rita", None, "page 1, 1 shown", "10.0.0.7", "ok"),
    ]


def test_values_that_are_not_offered_are_ignored(world):
    service, _, _ = world
    listed = service.conversations(Search(filters={"triage": "nonsense", "status": "paused"}, channel="fax",
                                           tag="never used"), REVIEWER)
    assert listed.filters == {"status": "paused"} and listed.tag == ""
    assert [s.sender_id for s, _ in listed.found.rows] == [PHONE]


def test_reviewers_find_a_conversation_by_its_whole_sender_id_admins_by_any_part(world):
    service, _, db = world
    assert service.conversations(Search(query="+44770"), REVIEWER).found.found == 0
    assert service.conversations(Search(query=PHONE), REVIEWER).found.found == 1
    assert service.conversations(Search(query="+44770"), ADMIN).found.found == 1
    details = [d for _, _, _, d, _, _ in audited(db, "search conversations")]
    assert details == ["0 found", "1 found", "1 found"]


def test_tags_and_notes_narrow_the_list(world):
    service, _, db = world
    service.fresh_index()
    notes = NotesRepository(db)
    notes.add_tag(WEB, "called back", "rita")
    notes.add_note(PHONE, "GP letter posted", "rita")
    tagged = service.conversations(Search(tag="  called   back "), REVIEWER)
    assert tagged.tag == "called back" and [s.sender_id for s, _ in tagged.found.rows] == [WEB]
    assert tagged.row_tags == {WEB: ["called back"]} and tagged.tags == [("called back", 1)]
    noted = service.conversations(Search(note="letter"), REVIEWER)
    assert [s.sender_id for s, _ in noted.found.rows] == [PHONE] and noted.searched == {"note": "letter"}
    assert audited(db, "search conversations")[-1][3] == "1 found by their notes"


def test_the_inbox_is_audited_again_only_when_what_it_shows_changes(world):
    service, _, db = world
    first = service.inbox(REVIEWER, None)
    assert [(s.sender_id, key, shown) for s, key, shown in first.rows] == [
        (PHONE, conversation_key(SECRET, PHONE), "talk to a person")]
    again = service.inbox(REVIEWER, first.fingerprint)
    assert again.fingerprint == first.fingerprint
    assert service.inbox(ADMIN, None).fingerprint != first.fingerprint  # each member of staff's own
    service.inbox(REVIEWER, "0" * 32)
    assert [(u, d) for _, u, _, d, _, _ in audited(db, "view inbox")] == [
        ("rita", "1 waiting"), ("adam", "1 waiting"), ("rita", "1 waiting (refreshed)")]


def test_a_transcript_with_its_notes_and_tags_is_audited_by_the_conversations_key(world):
    service, _, db = world
    assert service.find_sender(conversation_key(SECRET, WEB)) == WEB
    assert service.find_sender("x" * 24) is None and service.find_sender(WEB) is None
    NotesRepository(db).add_tag(WEB, "called back", "rita")
    shown = service.transcript(WEB, REVIEWER)
    assert shown.summary.sender_id == WEB and shown.summary.triage_result == "milia"
    assert any(item.kind == "user" and item.text == "=hard bump" for item in shown.items)
    assert shown.tags == ["called back"] and "called back" not in shown.offered_tags
    assert "needs GP letter" in shown.offered_tags and shown.bookings == [] and shown.notes == []
    assert audited(db, "view transcript") == [
        ("view transcript", "rita", conversation_key(SECRET, WEB), None, "10.0.0.7", "ok")]
    assert service.transcript("web-never-seen", REVIEWER) is None
    assert len(audited(db, "view transcript")) == 1


# --- handoff --------------------------------------------------------------------------------------

def test_an_empty_or_too_long_reply_is_neither_sent_nor_audited(world):
    service, fake, db = world
    assert asyncio.run(service.reply(PHONE, "   ", REVIEWER)) == "empty"
    assert asyncio.run(service.reply(PHONE, "x" * (MAX_REPLY + 1), REVIEWER)) == "too_long"
    assert fake.requests == [] and audited(db) == []


def test_a_reply_goes_to_the_patient_on_their_own_channel_as_the_staff_member(world):
    service, fake, db = world
    assert asyncio.run(service.reply(PHONE, "  We'll call you at 3.  ", REVIEWER)) == "sent"
    [(method, path, params, body)] = fake.requests
    assert method == "POST" and path.endswith("/tracker/events")
    assert params["output_channel"] == "twilio" and params["execute_side_effects"] == "true"
    assert body == [{"event": "bot", "text": "We'll call you at 3.",
                     "metadata": {"staff_reply": True, "staff": "rita"}}]
    assert audited(db) == [("staff reply", "rita", conversation_key(SECRET, PHONE), None, "10.0.0.7", "ok")]


def test_take_over_hand_back_and_clear_urgent_each_ask_rasa_and_are_audited(world):
    service, fake, db = world
    assert asyncio.run(service.take_over(PHONE, REVIEWER)) == "paused"
    assert fake.paths == [("POST", "execute"), ("POST", "events")]
    assert fake.requests[0][3] == {"name": "utter_staff_joined"}
    assert fake.requests[1][3] == [{"event": "pause"}]
    fake.requests.clear()
    assert asyncio.run(service.hand_back(PHONE, REVIEWER)) == "resumed"
    assert fake.paths == [("POST", "events"), ("POST", "execute")]
    fake.requests.clear()
    assert asyncio.run(service.clear_urgent(PHONE, REVIEWER)) == "urgent_cleared"
    assert fake.requests[0][3] == URGENT_CLEARED
    assert {e["name"] for e in URGENT_CLEARED} == {"triage_result", "red_flags", "urgent_since",
                                                    "warning_signs"}
    assert [a for a, *_ in audited(db)] == ["take over", "hand back", "clear urgent"]


def test_rasa_down_is_told_and_audited_as_a_failure(world):
    service, fake, db = world
    fake.status = 502
    assert asyncio.run(service.take_over(PHONE, REVIEWER)) == "rasa_down"
    assert audited(db) == [("take over", "rita", conversation_key(SECRET, PHONE),
                            "failed: Rasa answered 502", "10.0.0.7", "ok")]


# --- erasure, insights, audit, export -------------------------------------------------------------

def test_erasure_removes_the_conversation_and_is_audited_with_what_went(world):
    service, _, db = world
    service.fresh_index()
    NotesRepository(db).add_note(WEB, "called back", "adam")
    erased = service.erase(WEB, ADMIN)
    assert erased["events"] > 0 and erased["personal_records"] >= 1
    assert service.find_sender(conversation_key(SECRET, WEB)) is None
    assert NotesRepository(db).notes(WEB) == []
    [(action, user, target, detail, _, _)] = audited(db, "erase conversation")
    assert (action, user, target) == ("erase conversation", "adam", conversation_key(SECRET, WEB))
    assert detail == f"{erased['events']} events, {erased['personal_records']} personal records"


def test_insights_show_the_weakest_messages_with_their_conversations_keys(world):
    service, _, db = world
    page = service.insights(REVIEWER)
    assert page.figures.conversations == 2 and page.figures.triage_mix == {"milia": 1, "urgent": 1}
    assert page.weakest and all(key == conversation_key(SECRET, w.sender_id) for w, key in page.weakest)
    assert audited(db, "view insights")[0][3] == f"{len(page.weakest)} messages shown"


def test_the_audit_log_of_one_patient_is_found_by_their_conversations_key(world):
    service, _, db = world
    service.fresh_index()
    service.transcript(PHONE, REVIEWER)
    service.transcript(WEB, REVIEWER)
    entries = service.audit_log(PHONE, ADMIN)
    assert [(e.action, e.target) for e in entries] == [("view transcript", conversation_key(SECRET, PHONE))]
    assert [e.action for e in service.audit_log("", ADMIN)] == [
        "view audit log", "view transcript", "view transcript"]  # newest first
    assert [(a, t) for a, _, t, *_ in audited(db, "view audit log")] == [
        ("view audit log", conversation_key(SECRET, PHONE)), ("view audit log", None)]


def test_the_export_has_every_conversation_its_cells_safe_and_is_audited(world):
    service, _, db = world
    rows = list(csv.reader(io.StringIO(service.export_csv(ADMIN))))
    assert rows[0] == EXPORT_COLUMNS and len(rows) == 3
    by_sender = {row[0]: dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows[1:]}
    assert by_sender[PHONE]["red_flags"] == "bleeding" and by_sender[PHONE]["waiting_for_person"] == "yes"
    assert by_sender[PHONE]["handoff_requested"] == "yes" and by_sender[WEB]["triage_result"] == "milia"
    assert by_sender[WEB]["fallbacks"] == "1" and by_sender[WEB]["booked"] == "no"
    assert audited(db, "export conversations") == [
        ("export conversations", "adam", None, "2 rows", "10.0.0.8", "ok")]
