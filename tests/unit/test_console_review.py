"""The review loop in-process: labels saved on the Review page, audited, exported as NLU training data."""

import re

import pytest
import yaml
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from clinic.cli import main as clinic_main
from clinic.conversations.labels import domain_intents, nlu_yaml, training_examples
from clinic.conversations.models import NluLabel
from clinic.db.engine import session_factory
from clinic.privacy import erase_patient
from clinic.staff.models import AuditEntry
from clinic.web.staff import staff_app
from clinic.web.staff.settings import StaffSettings
from tests.security.console_support import (
    CLEAR_VALUES,
    PASSWORD,
    SECRET,
    seed_clinic,
    seed_conversations,
)


@pytest.fixture
def console(tmp_path, cheap_password_hashing):
    database_url, tracker_url = f"sqlite:///{tmp_path / 'clinic.db'}", f"sqlite:///{tmp_path / 'tracker.db'}"
    seed_clinic(database_url)
    seed_conversations(tracker_url)
    settings = StaffSettings(
        secret_key=SECRET,
        session_minutes=60,
        cookie_secure=False,
        database_url=database_url,
        tracker_store_url=tracker_url,
        rasa_url="http://127.0.0.1:9",
        rasa_auth_token="x",
    )
    app = staff_app(settings)
    return Starlette(routes=[Mount("/staff", app=app)]), app, database_url


def signed_in(outer, username):
    client = TestClient(outer)
    page = client.get("/staff/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return client


def items(page):
    """(event id, text, csrf token) of each review row."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return [
        (int(event), re.sub(r"<br>.*", "", text, flags=re.S).strip(), token)
        for event, text in re.findall(r'data-event="(\d+)">\s*<td class="text">(.*?)</td>', page, flags=re.S)
    ]


def test_the_intents_offered_are_the_domains_contract_first():
    intents = domain_intents()
    assert intents[:3] == ["greet", "goodbye", "affirm"] and "choose_time" in intents
    assert "nlu_fallback" not in intents


def test_a_reviewer_labels_and_the_export_has_placeholders_only(console, tmp_path, monkeypatch):
    outer, _, database_url = console
    client = signed_in(outer, "rita")
    page = client.get("/staff/review").text
    assert "Right intent" in page and "Save label" in page and "Not a real message" in page
    rows = items(page)
    assert len(rows) == 3 and all(value not in page for value in CLEAR_VALUES)  # masked for reviewers
    assert "not understood" in page  # the fallback comes first
    by_text = {text: (event, token) for event, text, token in rows}
    call_me = next(event for text, (event, _) in by_text.items() if text.startswith("call me on"))
    here = next(event for text, (event, _) in by_text.items() if text.startswith("it&#39;s"))
    token = rows[0][2]
    response = client.post(
        f"/staff/review/{call_me}/label", data={"csrf_token": token, "intent": "inform", "verdict": "label"}
    )
    assert "Label saved" in response.text
    response = client.post(
        f"/staff/review/{here}/label", data={"csrf_token": token, "intent": "", "verdict": "not_real"}
    )
    assert "not a real message" in response.text.lower()
    # a made-up intent is refused, a missing message is a 404, a forged token is refused
    assert (
        "Choose the right intent"
        in client.post(
            f"/staff/review/{here}/label", data={"csrf_token": token, "intent": "book_a_flight"}
        ).text
    )
    assert (
        client.post("/staff/review/999999/label", data={"csrf_token": token, "intent": "greet"}).status_code
        == 404
    )
    assert (
        client.post(
            f"/staff/review/{here}/label", data={"csrf_token": "forged", "intent": "greet"}
        ).status_code
        == 403
    )
    assert len(items(client.get("/staff/review").text)) == 1  # what is left to review
    assert "Labelled <strong>inform</strong> by rita" in client.get("/staff/review?show=labelled").text
    with session_factory(database_url)() as db:
        audited = list(
            db.scalars(
                select(AuditEntry).where(AuditEntry.action == "label message", AuditEntry.outcome == "ok")
            )
        )
    assert [(a.username, a.target) for a in audited] == [
        ("rita", f"message {call_me}"),
        ("rita", f"message {here}"),
    ]
    assert audited[0].detail.startswith("intent inform (was inform 0.12)")

    monkeypatch.setenv("DATABASE_URL", database_url)
    out = tmp_path / "reviewed.yml"
    assert clinic_main(["nlu", "export", "--out", str(out)]) == 0
    written = out.read_text()
    assert all(value not in written for value in CLEAR_VALUES) and "Jane" not in written
    assert "call me on 07700 900000 or mail patient@example.com, or whatsapp 07700 900000" in written
    data = RasaYAMLReader().read(out)
    assert [(m.get("intent"), m.get("text")) for m in data.intent_examples] == [
        ("inform", "call me on 07700 900000 or mail patient@example.com, or whatsapp 07700 900000")
    ]


def test_the_export_is_deduplicated_and_the_latest_label_wins():
    labels = [
        NluLabel(text="Hard  bump", intent="describe_bump", status="labelled"),
        NluLabel(text="hard bump", intent="inform", status="labelled"),
        NluLabel(text="hiya", intent="greet", status="labelled"),
        NluLabel(text="asdf", intent=None, status="not_real"),
    ]
    examples = training_examples(labels)
    assert examples == {"greet": ["hiya"], "inform": ["hard bump"]}
    content = yaml.safe_load(nlu_yaml(examples))
    assert content["version"] == "3.1" and content["nlu"][1] == {
        "intent": "inform",
        "examples": "- hard bump\n",
    }


def test_erasure_takes_the_labels_of_the_patients_messages(console):
    outer, app, database_url = console
    client = signed_in(outer, "adam")
    event, _, token = items(client.get("/staff/review").text)[0]
    client.post(
        f"/staff/review/{event}/label", data={"csrf_token": token, "intent": "greet", "verdict": "label"}
    )
    with session_factory(database_url)() as db:
        senders = set(db.scalars(select(NluLabel.sender_id)))
        for sender in senders:
            erase_patient(app.state.index.tracker, db, sender)
        assert db.scalars(select(NluLabel)).all() == []
    assert len(senders) == 1 and len(items(client.get("/staff/review?show=all").text)) == 2
