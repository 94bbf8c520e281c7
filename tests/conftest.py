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
    from tests import postgres

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
