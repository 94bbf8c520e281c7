"""The staff console as an attacker meets it: the real web app under uvicorn, seeded stores, clients
that connect from chosen loopback addresses (127.0.0.0/8 all reach the server, and it sees each
connection's own source address: nothing is taken from headers).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import httpx

from clinic.booking import handlers
from clinic.booking.contact import Contact
from clinic.booking.handlers import BookingRequest
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.db.engine import session_factory
from clinic.staff.accounts import create_user
from clinic.testing.booking import NOW, TUESDAY, at, prepare_database
from clinic.testing.servers import RunningWebApp
from tests.conftest import ROOT

SECRET = "security-test-staff-secret"
PASSWORD = "a long staff password"
# A patient's contact details, as the seeded conversations and bookings carry them.
PHONE = "+447911123456"
PHONE_LOCAL = "07911 123456"
EMAIL = "jane.doe@example.com"
OTHER_EMAIL = "j.patient+skin@example.org"
CLEAR_VALUES = (PHONE, PHONE[1:], PHONE[3:], PHONE_LOCAL, "7911 123456", "07911123456", EMAIL, OTHER_EMAIL,
                "jane.doe@", "j.patient+skin@")
SMS_SENDER = PHONE
WHATSAPP_SENDER = f"whatsapp:{PHONE}"
WEB_SENDER = "web-5d1c0a9e77b2"


def _parse(intent: str, confidence: float, text: str, entities: Optional[List[Dict]] = None) -> Dict:
    return {"text": text, "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": entities or []}


def seed_conversations(tracker_url: str) -> None:
    """Conversations whose every part carries the contact details: ids, text, entities, slots, replies."""
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

    store = SQLTrackerStore(domain=Domain.load(str(ROOT / "domain")), host=tracker_url)
    now = time.time() - 600
    start = [ActionExecuted("action_session_start", timestamp=now), SessionStarted(timestamp=now),
             ActionExecuted("action_listen", timestamp=now)]
    said = f"call me on {PHONE_LOCAL} or mail {EMAIL}, or whatsapp {PHONE}"
    entity = {"entity": "patient_contact", "value": PHONE, "start": 11, "end": 23,
              "extractor": "RegexEntityExtractor", "additional_info": {"email": EMAIL}}
    payload = f'/affirm{{"patient_contact": "{PHONE}"}}'
    conversation = start + [
        UserUttered(said, parse_data=_parse("inform", 0.12, said, [entity]), input_channel="twilio",
                    timestamp=now + 1),
        SlotSet("patient_contact", PHONE, timestamp=now + 2),
        SlotSet("patient_name", f"Jane Doe ({EMAIL})", timestamp=now + 2),
        BotUttered(f"I'll text {PHONE} to confirm. Is that right?",
                   {"buttons": [{"title": f"Yes, {PHONE}", "payload": payload},
                                {"title": "No", "payload": "/deny"}]},
                   timestamp=now + 3),
        UserUttered(payload,
                    parse_data=_parse("affirm", 1.0, "/affirm"), input_channel="twilio", timestamp=now + 4),
        UserUttered(f"my other email is {OTHER_EMAIL}, a person please",
                    parse_data=_parse("human_handoff", 0.99, "a person please"), input_channel="twilio",
                    timestamp=now + 5),
        ActionExecuted("action_handoff", timestamp=now + 6),
        ConversationPaused(timestamp=now + 6),
        BotUttered(f"Dr Lee here: we'll ring {PHONE_LOCAL} at 10.",
                   metadata={"staff_reply": True, "staff": "ada"}, timestamp=now + 7),
    ]
    conversations = {
        SMS_SENDER: conversation,
        WHATSAPP_SENDER: start + [
            UserUttered(f"it's {EMAIL} here", parse_data=_parse("inform", 0.05, f"it's {EMAIL} here"),
                        input_channel="twilio", timestamp=now + 1),
            ConversationPaused(timestamp=now + 2),
        ],
        WEB_SENDER: start + [
            UserUttered(f"{PHONE} {EMAIL}", parse_data=_parse("nlu_fallback", 0.2, "?"),
                        input_channel="socketio", timestamp=now + 1),
            SlotSet("triage_result", "milia", timestamp=now + 2),
        ],
    }
    for sender, events in conversations.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()


def seed_clinic(database_url: str) -> None:
    """The test schedule, two bookings (a mobile and an e-mail) and staff: a reviewer and an admin."""
    prepare_database(database_url)
    uow = unit_of_work_factory(database_url)
    handlers.book(uow, BookingRequest("extraction", at(TUESDAY, 10), "Jane Doe", Contact("phone", PHONE),
                                      sender_id=SMS_SENDER, triage={"triage_result": "milia"}), NOW)
    handlers.book(uow, BookingRequest("consultation", at(TUESDAY, 14), f"J Patient {PHONE_LOCAL}",
                                      Contact("email", OTHER_EMAIL), sender_id=WEB_SENDER), NOW)
    with session_factory(database_url)() as db:
        for name, role in (("rita", "reviewer"), ("adam", "admin"), ("kim", "reviewer")):
            create_user(db, name, PASSWORD, role)
        db.commit()


@dataclass
class Console:
    """The web app started for these tests, with its stores."""

    app: RunningWebApp
    database_url: str
    tracker_url: str

    @property
    def url(self) -> str:
        return self.app.url

    @property
    def port(self) -> int:
        return self.app.port


def start_console(workdir: Path, **env: str) -> Console:
    """Seed the stores and start uvicorn on a free port (stop it with `console.app.stop()`)."""
    database_url = f"sqlite:///{workdir / 'clinic.db'}"
    tracker_url = f"sqlite:///{workdir / 'tracker.db'}"
    seed_clinic(database_url)
    seed_conversations(tracker_url)
    app = RunningWebApp(workdir=workdir, extra_env={
        "DATABASE_URL": database_url, "TRACKER_STORE_URL": tracker_url, "STAFF_SECRET_KEY": SECRET,
        "RASA_URL": "http://127.0.0.1:9", "RASA_AUTH_TOKEN": "unused", **env,
    }).start()
    return Console(app, database_url, tracker_url)


def client(console: Console, address: str = "127.0.0.1", **kwargs) -> httpx.Client:
    """An HTTP client whose connections come from `address`."""
    return httpx.Client(base_url=console.url, timeout=60,
                        transport=httpx.HTTPTransport(local_address=address), **kwargs)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


class SignIn:
    """The sign-in form as a browser (or a script posing as one) uses it, from one address."""

    def __init__(self, console: Console, address: str = "127.0.0.1") -> None:
        self.http = client(console, address)
        self.nonce = csrf_of(self.http.get("/staff/login").text)

    def attempt(self, username: str, password: str) -> httpx.Response:
        response = self.http.post("/staff/login", data={
            "username": username, "password": password, "csrf_token": self.nonce,
            "next": "/staff/conversations"})
        if 'name="csrf_token"' in response.text:
            self.nonce = csrf_of(response.text)  # the refused form comes with a fresh token
        return response

    def close(self) -> None:
        self.http.close()


def signed_in(console: Console, username: str, address: str = "127.0.0.1") -> httpx.Client:
    """A client with a live session for `username`."""
    form = SignIn(console, address)
    response = form.attempt(username, PASSWORD)
    assert response.status_code == 303, response.text
    return form.http
