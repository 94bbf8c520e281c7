"""Shared fixtures: the real domain, a dispatcher, trackers built from events."""

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from hypothesis import settings
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[1]

# Property tests share 2 busy cores with servers and training: no per-example deadline.
settings.register_profile("clinic", deadline=None, print_blob=True)
settings.load_profile("clinic")


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    """The assistant's real domain (the `domain/` directory), as actions receive it."""
    return Domain.load(str(ROOT / "domain")).as_dict()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
    intent: str = "inform",
    entities: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "test-patient",
) -> Tracker:
    """A tracker whose latest message is `text`, classified as `intent`."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
    }
    return Tracker(
        sender_id=sender_id,
        slots=dict(slots or {}),
        latest_message=latest,
        events=events or [],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_for():
    return make_tracker


def _real_server(variable: str, module, package: str):  # noqa: ANN001
    """Yield the URL in `variable` (which must work), or of a private server `module` starts here."""
    import os

    url = os.environ.get(variable, "").strip()
    if url:
        try:
            module.check_server(url)
        except RuntimeError as error:
            pytest.fail(str(error))
        yield url
        return
    try:
        server = module.private_server()
        url = server.__enter__()
    except RuntimeError as error:
        pytest.fail(f"{error} (set {variable}, or install Debian's {package} package)")
    yield url
    server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def postgres_server():
    """URL of a real PostgreSQL server: TEST_POSTGRES_URL (must work), or a private one started here."""
    from clinic.testing import postgres

    yield from _real_server("TEST_POSTGRES_URL", postgres, "postgresql")


@pytest.fixture(scope="session")
def redis_server():
    """URL of a real Redis server: TEST_REDIS_URL (must work), or a private one started here."""
    from tests import redis_server

    yield from _real_server("TEST_REDIS_URL", redis_server, "redis-server")


@pytest.fixture
def cheap_password_hashing(monkeypatch):
    """argon2id with small parameters, so tests that sign in many times stay fast."""
    from argon2 import PasswordHasher

    from clinic.staff import accounts

    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


# Real servers shared by the integration and security suites (tests/integration, tests/security).
@pytest.fixture(scope="session")
def web_port() -> int:
    """The web app's port, chosen first so that Rasa's CORS list can name its origin."""
    from clinic.testing.servers import free_port

    return free_port()


@pytest.fixture(scope="session")
def fake_twilio():
    """Twilio's Messages API, faked on localhost: what the assistant texts proactively lands here."""
    from clinic.testing.twilio_fake import FakeTwilioServer

    server = FakeTwilioServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, web_port, fake_twilio):
    """The real action server and Rasa server (clinic/testing/servers.py), shared by the session."""
    from clinic.testing.servers import RunningAssistant

    running = RunningAssistant(
        workdir=tmp_path_factory.mktemp("assistant"), cors=[f"http://127.0.0.1:{web_port}"],
        extra_env={"TWILIO_API_BASE_URL": fake_twilio.url},
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def web_app(tmp_path_factory, assistant, web_port):
    """The clinic's web app on 127.0.0.1:web_port, talking to the real assistant and reading its stores."""
    from clinic.testing.servers import API_TOKEN, STAFF_SECRET_KEY, RunningWebApp

    running = RunningWebApp(
        workdir=tmp_path_factory.mktemp("web"),
        port=web_port,
        extra_env={
            "RASA_URL": assistant.url,
            "RASA_PUBLIC_URL": "",  # the widget reaches Rasa on the page's host
            "RASA_AUTH_TOKEN": API_TOKEN,
            "DATABASE_URL": assistant.database_url,
            "TRACKER_STORE_URL": assistant.tracker_store_url,
            "STAFF_SECRET_KEY": STAFF_SECRET_KEY,
        },
    ).start()
    yield running
    running.stop()
