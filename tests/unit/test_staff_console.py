"""The staff console in-process (Starlette TestClient) over a real clinic DB and a real SQL tracker store."""

import asyncio
import csv
import html
import io
import re
import time
from datetime import timedelta

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
from sqlalchemy import delete, select
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from clinic.booking import handlers
from clinic.booking.contact import Contact
from clinic.booking.handlers import BookingRequest
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.db.engine import session_factory
from clinic.privacy import conversation_key
from clinic.staff.accounts import create_user
from clinic.staff.models import AuditEntry, LoginThrottle, StaffSession, StaffUser
from clinic.testing.booking import NOW, TUESDAY, at, prepare_database
from clinic.web.staff import staff_app
from clinic.web.staff.settings import StaffSettings
from tests.conftest import ROOT

SECRET = "unit-test-secret"
PASSWORD = "correct horse battery"
PHONE = "+447700900123"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def parse(intent, confidence, text):
    return {"text": text, "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": []}


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """A tracker store with three real Rasa conversations, and a migrated clinic DB with two staff."""
    tmp = tmp_path_factory.mktemp("console")
    tracker_url, db_url = f"sqlite:///{tmp / 'tracker.db'}", f"sqlite:///{tmp / 'clinic.db'}"
    store = SQLTrackerStore(domain=Domain.load(str(ROOT / "domain")), host=tracker_url)
    now = time.time() - 600
    start = [ActionExecuted("action_session_start", timestamp=now), SessionStarted(timestamp=now),
             ActionExecuted("action_listen", timestamp=now)]
    conversations = {
        PHONE: start + [
            UserUttered(XSS, parse_data=parse("describe_bump", 0.31, XSS), input_channel="twilio",
                        timestamp=now + 1),
            BotUttered("Does it feel hard?", {"buttons": [{"title": "Hard", "payload": "/inform"}]},
                       timestamp=now + 2),
            UserUttered("it bleeds", parse_data=parse("report_red_flag", 0.97, "it bleeds"),
                        input_channel="twilio", timestamp=now + 3),
            SlotSet("red_flags", ["bleeding"], timestamp=now + 3),
            SlotSet("triage_result", "urgent", timestamp=now + 4),
            UserUttered("talk to a person", parse_data=parse("human_handoff", 0.99, "talk to a person"),
                        input_channel="twilio", timestamp=now + 5),
            ActionExecuted("action_handoff", timestamp=now + 6),
            ConversationPaused(timestamp=now + 6),
        ],
        "web-3f2a9c1d": start + [
            UserUttered("hard bump no pus", parse_data=parse("describe_bump", 0.85, "hard bump no pus"),
                        input_channel="socketio", timestamp=now + 1),
            SlotSet("triage_result", "milia", timestamp=now + 2),
            UserUttered("qwzx", parse_data=parse("nlu_fallback", 0.45, "qwzx"), input_channel="socketio",
                        timestamp=now + 3),
        ],
    }
    for sender, evs in conversations.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, evs)))
    prepare_database(db_url)
    booking = handlers.book(unit_of_work_factory(db_url), BookingRequest(
        "extraction", at(TUESDAY, 10), "Jane Doe", Contact("phone", "+447911123456"), sender_id=WEB,
        triage={"triage_result": "milia"}), NOW)
    return tracker_url, db_url, booking.reference


@pytest.fixture
def console(stores, cheap_password_hashing):
    tracker_url, db_url, _ = stores
    settings = StaffSettings(secret_key=SECRET, session_minutes=60, cookie_secure=False, database_url=db_url,
                             tracker_store_url=tracker_url, rasa_url="http://127.0.0.1:9",
                             rasa_auth_token="token")
    with session_factory(db_url)() as db:
        existing = set(db.scalars(select(StaffUser.username)))
        for name, role in (("rita", "reviewer"), ("adam", "admin")):
            if name not in existing:
                create_user(db, name, PASSWORD, role)
        db.execute(delete(LoginThrottle))  # each test starts with no failed sign-ins
        db.commit()
    app = staff_app(settings)
    return Starlette(routes=[Mount("/staff", app=app)]), app, db_url


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username, password=PASSWORD):
    page = client.get("/staff/login")
    form = {"username": username, "password": password, "csrf_token": csrf_of(page.text),
            "next": "/staff/conversations"}
    return client.post("/staff/login", data=form, follow_redirects=False)


def audit_entries(db_url, **where):
    with session_factory(db_url)() as db:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        return list(db.scalars(query))


KEY = conversation_key(SECRET, PHONE)
WEB = "web-3f2a9c1d"


def test_every_page_refuses_without_a_session_and_writes_no_audit_row(console):
    outer, app, db_url = console
    client = TestClient(outer)
    before = len(audit_entries(db_url))
    checked = 0
    for route in app.routes:
        if not isinstance(route, Route) or route.path == "/login":
            continue
        if route.path == "/calendar/{token}.ics":  # a calendar provider's URL: the token is the key
            assert client.get("/staff/calendar/guessed.ics").status_code == 404
            continue
        path = "/staff" + route.path.replace("{key}", KEY)
        for method in route.methods - {"HEAD"}:
            response = client.request(method, path, follow_redirects=False, data={"csrf_token": "x"})
            checked += 1
            if method == "GET":
                assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
            else:
                assert response.status_code == 401 and "sign in" in response.text.lower()
    assert checked >= 13
    assert len(audit_entries(db_url)) == before  # anonymous requests can't fill the audit log


def test_sign_in_then_list_then_transcript_with_the_payload_as_text(console):
    outer, _, db_url = console
    client = TestClient(outer)
    response = sign_in(client, "adam")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=3600" in cookie
    listing = client.get("/staff/conversations")
    assert PHONE in listing.text and "web-3f2a9c1d" in listing.text  # admins see contact details
    assert listing.headers["content-security-policy"].startswith("default-src 'none'")
    page = client.get(f"/staff/conversations/{KEY}?details=1")
    assert page.status_code == 200
    assert XSS not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "intent describe_bump (0.31)" in page.text and "slot triage_result = urgent" in page.text
    assert "Hard</span>" in page.text  # the bot's buttons are shown
    views = audit_entries(db_url, action="view transcript", target=KEY)
    assert views and views[-1].username == "adam" and views[-1].outcome == "ok"
    about = client.get("/staff/audit", params={"sender": PHONE}).text
    assert "view transcript" in about and KEY in about
    assert "view transcript" not in client.get("/staff/audit", params={"sender": WEB}).text


def test_reviewers_see_contact_details_masked(console):
    client = TestClient(console[0])
    sign_in(client, "rita")
    listing = client.get("/staff/conversations").text
    assert PHONE not in listing and "+44•••23" in listing
    # reviewers search by the full id only: partial searches would reveal masked digits
    assert "1 of 2 conversations" in client.get("/staff/conversations", params={"q": PHONE}).text
    assert "0 of 2 conversations" in client.get("/staff/conversations?q=7700900").text
    transcript = client.get(f"/staff/conversations/{KEY}").text
    assert PHONE not in transcript


@pytest.mark.parametrize("method, path", [
    ("GET", "/staff/audit"),
    ("GET", "/staff/export/conversations.csv"),
    ("POST", f"/staff/conversations/{KEY}/erase"),
])
def test_reviewers_are_refused_admin_actions_and_it_is_logged(console, method, path):
    outer, _, db_url = console
    client = TestClient(outer)
    sign_in(client, "rita")
    token = csrf_of(client.get("/staff/conversations").text)
    form = {"csrf_token": token, "confirm": "yes"}
    response = client.request(method, path, data=form, follow_redirects=False)
    assert response.status_code == 403 and "Only an administrator" in response.text
    assert audit_entries(db_url, username="rita", action=f"{method} {path}", outcome="refused")
    assert client.get(f"/staff/conversations/{KEY}").status_code == 200  # nothing was erased


def test_admin_export_is_csv_with_full_sender_ids(console):
    client = TestClient(console[0])
    sign_in(client, "adam")
    response = client.get("/staff/export/conversations.csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_sender = {row["sender_id"]: row for row in rows}
    assert by_sender[PHONE]["triage_result"] == "urgent"
    assert by_sender[PHONE]["waiting_for_person"] == "yes"
    assert by_sender[PHONE]["booked"] == "no" and by_sender[WEB]["booked"] == "yes"
    assert by_sender["web-3f2a9c1d"]["fallbacks"] == "1"


def test_a_guessed_transcript_url_is_refused_and_logged(console):
    outer, _, db_url = console
    client = TestClient(outer)
    sign_in(client, "adam")
    for guess in ("0123456789abcdef01234567", PHONE, "x" * 24):
        assert client.get(f"/staff/conversations/{guess}").status_code == 404
    assert audit_entries(db_url, action="view transcript", target="0123456789abcdef01234567",
                         outcome="refused")


def test_a_forged_csrf_token_is_refused_and_logged(console):
    outer, _, db_url = console
    client = TestClient(outer)
    sign_in(client, "rita")
    form = {"message": "hi", "csrf_token": "forged"}
    response = client.post(f"/staff/conversations/{KEY}/reply", data=form)
    assert response.status_code == 403 and "security token" in response.text
    response = client.post(f"/staff/conversations/{KEY}/reply", data={"message": "hi"})
    assert response.status_code == 403
    assert len(audit_entries(db_url, username="rita", action=f"POST /staff/conversations/{KEY}/reply",
                             outcome="refused")) >= 2


def test_the_sign_in_form_needs_its_csrf_token(console):
    client = TestClient(console[0])
    client.get("/staff/login")
    response = client.post("/staff/login", data={"username": "adam", "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403 and "vitawell_staff=" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize("token", [("csrf_token", ("token.txt", b"x", "text/plain")),
                                   ("csrf_token", (None, "töken"))])
def test_a_file_or_non_ascii_text_as_the_csrf_token_is_refused_not_an_error(console, token):
    client = TestClient(console[0], raise_server_exceptions=False)
    client.get("/staff/login")
    fields = [("username", (None, "adam")), ("password", (None, PASSWORD)), token]
    assert client.post("/staff/login", files=fields).status_code == 403
    sign_in(client, "rita")
    response = client.post(f"/staff/conversations/{KEY}/reply", files=[("message", (None, "hi")), token])
    assert response.status_code == 403 and "security token" in response.text


def test_wrong_passwords_then_backoff(console):
    client = TestClient(console[0])
    response = sign_in(client, "adam", "not the password")
    assert response.status_code == 401 and "Wrong username or password" in response.text
    for _ in range(2):
        response = sign_in(client, "adam", "still not it")
    assert response.status_code == 401
    response = sign_in(client, "adam", "still not it")
    assert response.status_code == 429 and "Too many failed sign-ins" in response.text
    assert response.headers["retry-after"] == "1" and "try again in 1 second" in response.text
    # even the right password waits its turn: it is not checked while the backoff holds
    assert sign_in(client, "adam").status_code == 429
    time.sleep(1.1)
    assert sign_in(client, "adam").status_code == 303


def test_expired_and_signed_out_sessions_are_refused(console):
    outer, _, db_url = console
    client = TestClient(outer)
    sign_in(client, "rita")
    assert client.get("/staff/conversations").status_code == 200
    with session_factory(db_url)() as db:
        for row in db.scalars(select(StaffSession)):
            row.expires_at = row.expires_at - timedelta(hours=2)
        db.commit()
    response = client.get("/staff/conversations", follow_redirects=False)
    assert response.status_code == 303 and "/staff/login" in response.headers["location"]
    sign_in(client, "rita")
    cookie = client.cookies.get("vitawell_staff")
    token = csrf_of(client.get("/staff/conversations").text)
    assert client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    stale = TestClient(outer, cookies={"vitawell_staff": cookie})
    assert stale.get("/staff/conversations", follow_redirects=False).status_code == 303


def test_filters_search_and_inbox(console):
    client = TestClient(console[0])
    sign_in(client, "adam")
    assert "1 of 2 conversations" in client.get("/staff/conversations?triage=milia").text
    assert "1 of 2 conversations" in client.get("/staff/conversations?q=7700900").text
    assert "0 of 2 conversations" in client.get("/staff/conversations?q=nobody").text
    assert "1 of 2 conversations" in client.get("/staff/conversations?flags=yes&handoff=yes").text
    assert "2 of 2" in client.get("/staff/conversations?triage=bogus&page=999").text  # bad filters ignored
    inbox = client.get("/staff/inbox").text
    assert KEY in inbox and "talk to a person" in inbox  # with the patient's last message
    assert conversation_key(SECRET, WEB) not in inbox


def test_insights_plot_and_list_the_least_understood_messages(console):
    client = TestClient(console[0])
    sign_in(client, "rita")
    page = client.get("/staff/insights").text
    assert page.count("<svg") == 4
    weakest = page[page.index("understood worst"):]
    # lowest confidence first; nlu_fallback itself is not counted as a guess
    assert weakest.index("&lt;script&gt;") < weakest.index("hard bump no pus")
    assert "<strong>1 / 1</strong>booked of those offered a booking" in page  # the booking in the clinic DB
    assert "messages not understood" in page


def test_replies_are_checked_and_an_unreachable_assistant_is_reported(console):
    client = TestClient(console[0])
    sign_in(client, "rita")
    token = csrf_of(client.get(f"/staff/conversations/{KEY}").text)
    url = f"/staff/conversations/{KEY}/reply"
    assert "Write a message first" in client.post(url, data={"message": "  ", "csrf_token": token}).text
    assert "limited to 1000" in client.post(url, data={"message": "x" * 1001, "csrf_token": token}).text
    response = client.post(url, data={"message": "Hello, I'm nurse Rita", "csrf_token": token})
    assert response.status_code == 200 and "could not be reached" in response.text


def test_the_schedule_shows_bookings_masked_for_reviewers_and_only_admins_cancel(console, stores):
    outer, _, db_url = console
    reference = stores[2]
    reviewer, admin = TestClient(outer), TestClient(outer)
    sign_in(reviewer, "rita")
    sign_in(admin, "adam")
    page = reviewer.get(f"/staff/bookings?day={TUESDAY.isoformat()}").text
    assert "Jane Doe" in page and reference in page and "10:00–10:30" in page
    assert "+447911123456" not in page and "+44•••56" in page
    assert "confirmation (sms): queued" in page and "reminder (sms): queued" in page  # the outbox
    assert f"/staff/conversations/{conversation_key(SECRET, WEB)}" in page  # the conversation that booked
    week = admin.get(f"/staff/bookings?day={TUESDAY.isoformat()}&view=week").text
    assert "+447911123456" in week and "Tue 04 Jun" in week
    assert "No bookings on this day" in reviewer.get("/staff/bookings?day=2030-06-10").text
    assert reviewer.get("/staff/bookings?day=not-a-date").status_code == 200
    token = csrf_of(page)
    assert "Attended</button>" not in page  # not before the appointment starts
    # and the booking layer refuses it too
    response = reviewer.post(f"/staff/bookings/{reference}/attended", data={"csrf_token": token})
    assert "be changed now" in response.text
    response = reviewer.post(f"/staff/bookings/{reference}/cancel", data={"csrf_token": token})
    assert response.status_code == 403
    assert reviewer.post("/staff/bookings/ZZZ999/no-show", data={"csrf_token": token}).status_code == 404
    response = admin.post(f"/staff/bookings/{reference}/cancel",
                          data={"csrf_token": csrf_of(week), "back": "/staff/bookings?day=2030-06-04"})
    assert "booking is cancelled" in response.text and "cancelled" in response.text
    assert "cancellation (sms): queued" in response.text and "reminder (sms): cancelled" in response.text
    assert audit_entries(db_url, username="adam", action="booking cancelled", target=f"booking {reference}")
    assert audit_entries(db_url, username="rita", action=f"POST /staff/bookings/{reference}/cancel",
                         outcome="refused")


def test_a_database_that_cannot_be_reached_gets_a_clear_503(stores, tmp_path):
    """The clinic database is down: signing in says so plainly, with 503, never a bare 500."""
    tracker_url = stores[0]
    unreachable = f"sqlite:///{tmp_path}"  # a directory: SQLite can't open it, like a server that is down
    settings = StaffSettings(secret_key=SECRET, session_minutes=60, cookie_secure=False,
                             database_url=unreachable, tracker_store_url=tracker_url,
                             rasa_url="http://127.0.0.1:9", rasa_auth_token="token")
    client = TestClient(Starlette(routes=[Mount("/staff", app=staff_app(settings))]),
                        raise_server_exceptions=False)
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={"username": "adam", "password": PASSWORD,
                                                 "csrf_token": csrf_of(page.text)})
    assert response.status_code == 503
    assert "database can't be reached right now" in html.unescape(response.text)
