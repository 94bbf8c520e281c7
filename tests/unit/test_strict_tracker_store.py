"""clinic-rasa's tracker store wrapper (clinic/rasa_adapter/stores.py): a failing store raises, never fakes.

Rasa's FailSafeTrackerStore, on a failing store, reads no tracker (the conversation starts again) and
saves into the process's memory; StrictTrackerStore lets the error through to the hardened processor.
"""

import sqlite3

import pytest
import rasa.core.agent
from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.exc import OperationalError

from clinic.rasa_adapter import stores
from tests.conftest import ROOT

DOMAIN = Domain.load(str(ROOT / "domain"))


def sql_store(path):
    config = EndpointConfig(url=f"sqlite:///{path}", type="clinic.tracker_store.ErasableSQLTrackerStore")
    return TrackerStore.create(config, DOMAIN)


def break_store(path):
    """The events table disappears: every query of the store fails from now on, as with a database down."""
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE events RENAME TO gone")
    db.commit()
    db.close()


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setattr(rasa.core.agent, "FailSafeTrackerStore", rasa.core.agent.FailSafeTrackerStore)
    stores.install_strict_tracker_store()


async def test_the_agent_wraps_its_store_in_the_strict_store(strict, tmp_path):
    # The door: Rasa 3.6's Agent builds its wrapper from rasa.core.agent.FailSafeTrackerStore.
    wrapped = Agent._create_tracker_store(sql_store(tmp_path / "tracker.db"), DOMAIN)
    assert type(wrapped) is stores.StrictTrackerStore


async def test_a_failing_store_raises_on_read_and_save(strict, tmp_path):
    path = tmp_path / "tracker.db"
    store = Agent._create_tracker_store(sql_store(path), DOMAIN)
    tracker = await store.get_or_create_tracker("patient-1")
    tracker.update(UserUttered("I have a white bump"))
    await store.save(tracker)
    back = await store.retrieve("patient-1")
    assert [e.text for e in back.events if isinstance(e, UserUttered)] == ["I have a white bump"]

    break_store(path)
    with pytest.raises(OperationalError):
        await store.get_or_create_tracker("patient-1")
    with pytest.raises(OperationalError):
        await store.save(tracker)
    with pytest.raises(OperationalError):
        await store.retrieve_full_tracker("patient-1")


async def test_rasas_own_wrapper_fakes_a_new_conversation_instead(tmp_path):
    """What StrictTrackerStore replaces (fails the day Rasa's wrapper stops hiding errors: drop the door)."""
    path = tmp_path / "tracker.db"
    store = FailSafeTrackerStore(sql_store(path))
    tracker = await store.get_or_create_tracker("patient-1")
    tracker.update(UserUttered("I have a white bump"))
    await store.save(tracker)
    break_store(path)
    fresh = await store.get_or_create_tracker("patient-1")
    assert not [e for e in fresh.events if isinstance(e, UserUttered)]
    await store.save(fresh)  # no error: kept in this process's memory
    assert await store.fallback_tracker_store.retrieve("patient-1") is not None
