"""The inbox reloads itself (meta refresh, no script): a newly waiting patient appears on the next load."""

import asyncio
import re
import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationPaused, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from clinic.db.engine import session_factory
from clinic.db.migrate import upgrade
from clinic.privacy import conversation_key
from clinic.staff.accounts import create_user
from clinic.staff.models import AuditEntry
from clinic.web.staff import staff_app
from clinic.web.staff.settings import StaffSettings
from tests.conftest import ROOT

SECRET = "inbox-secret"
PASSWORD = "inbox password"


def waiting(tracker_url, sender, text):
    """A patient asks for a person: the bot hands over and pauses (Rasa's own events)."""
    store = SQLTrackerStore(domain=Domain.load(str(ROOT / "domain")), host=tracker_url)
    now = time.time()
    parse = {"text": text, "intent": {"name": "human_handoff", "confidence": 0.99}, "entities": []}
    events = [ActionExecuted("action_session_start", timestamp=now), SessionStarted(timestamp=now),
              ActionExecuted("action_listen", timestamp=now),
              UserUttered(text, parse_data=parse, input_channel="rest", timestamp=now + 1),
              ActionExecuted("action_handoff", timestamp=now + 2), ConversationPaused(timestamp=now + 2)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()


@pytest.fixture
def inbox(tmp_path, cheap_password_hashing):
    tracker_url, db_url = f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(db_url)
    with session_factory(db_url)() as db:
        create_user(db, "rita", PASSWORD, "reviewer")
        db.commit()
    waiting(tracker_url, "web-first", "can I talk to a person")
    settings = StaffSettings(secret_key=SECRET, session_minutes=60, cookie_secure=False,
                             database_url=db_url, tracker_store_url=tracker_url,
                             rasa_url="http://127.0.0.1:9", rasa_auth_token="x", inbox_refresh_seconds=20)
    client = TestClient(Starlette(routes=[Mount("/staff", app=staff_app(settings))]))
    page = client.get("/staff/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/staff/login", data={"username": "rita", "password": PASSWORD, "csrf_token": token})
    return client, tracker_url, db_url


def refresh_of(page):
    """(seconds, URL) of the page's meta refresh."""
    found = re.search(r'<meta http-equiv="refresh" content="(\d+); url=([^"]+)">', page)
    return int(found.group(1)), found.group(2)


def inbox_views(db_url):
    with session_factory(db_url)() as db:
        return [e.detail for e in db.scalars(select(AuditEntry).where(AuditEntry.action == "view inbox")
                                             .order_by(AuditEntry.id))]


def test_the_inbox_reloads_itself_and_a_new_patient_appears_on_the_next_load(inbox):
    client, tracker_url, db_url = inbox
    first = client.get("/staff/inbox")
    assert "script-src" not in first.headers["content-security-policy"]  # still no script at all
    assert "<script" not in first.text
    seconds, url = refresh_of(first.text)
    assert seconds == 20 and url.startswith("/staff/inbox?seen=")
    assert conversation_key(SECRET, "web-first") in first.text and "<title>(1) Needs a person" in first.text
    assert "reloads itself every 20 seconds" in first.text

    # nothing changed: the reload shows the same and leaves no second audit row
    again = client.get(url)
    assert refresh_of(again.text)[1] == url
    assert inbox_views(db_url) == ["1 waiting"]

    waiting(tracker_url, "web-second", "I'd like to speak to someone please")
    later = client.get(url)  # what the browser loads next, on its own
    assert conversation_key(SECRET, "web-second") in later.text
    assert "speak to someone please" in later.text and "<title>(2) Needs a person" in later.text
    assert refresh_of(later.text)[1] != url  # a new fingerprint for what it shows now
    assert inbox_views(db_url) == ["1 waiting", "2 waiting (refreshed)"]


def test_a_fingerprint_is_one_staff_members_own(inbox):
    """Another member of staff's (or a made-up) fingerprint is audited like any view."""
    client, _, db_url = inbox
    assert client.get("/staff/inbox?seen=0123456789abcdef0123456789abcdef").status_code == 200
    assert inbox_views(db_url) == ["1 waiting (refreshed)"]
