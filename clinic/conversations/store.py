"""The tracker store's `events` table (Rasa's SQLTrackerStore schema), for SQLAlchemy Core."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, inspect
from sqlalchemy.engine import Engine

from clinic.db.engine import make_engine

metadata = MetaData()

# Same columns as rasa.core.tracker_store.SQLTrackerStore.SQLEvent (Rasa 3.6).
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@lru_cache(maxsize=8)
def tracker_engine(url: str) -> Engine:
    """An engine on the tracker store (its own: Rasa owns that database's settings, so no pragmas)."""
    return make_engine(url, sqlite_pragmas=False, connect_timeout=None)


def has_events_table(engine: Engine) -> bool:
    """False until Rasa has stored its first conversation."""
    present: bool = inspect(engine).has_table("events")
    return present
