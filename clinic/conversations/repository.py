"""Read-only repository over the tracker store (SQLAlchemy Core; Rasa is never imported)."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from clinic.conversations.store import events, has_events_table
from clinic.conversations.summary import ConversationSummary, summarise, to_datetime


class ConversationRepository:
    """Conversations of the tracker store, summarised or event by event. Never writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _ready(self) -> bool:
        return has_events_table(self.engine)

    def summaries(self) -> List[ConversationSummary]:
        """Every conversation, most recently active first (every event folded: see ConversationIndex)."""
        if not self._ready():
            return []
        found: Dict[str, ConversationSummary] = {}
        for row in self.events_after(0):
            sender = row["sender_id"]
            summary = found.get(sender) or found.setdefault(sender, ConversationSummary(sender_id=sender))
            summary.apply(row)
        shown = [s for s in found.values() if s.started is not None]
        return sorted(shown, key=lambda s: s.last_active or to_datetime(0), reverse=True)

    def events_after(self, event_id: int, limit: Optional[int] = None) -> Iterator[Dict[str, Any]]:
        """Events with an id above `event_id`, in id order (at most `limit`)."""
        if not self._ready():
            return iter(())
        query = select(events).where(events.c.id > event_id).order_by(events.c.id)
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return iter([dict(row._mapping) for row in conn.execute(query)])

    def sender_ids(self) -> List[str]:
        """Every sender id that has a conversation."""
        if not self._ready():
            return []
        with self.engine.connect() as conn:
            return list(conn.scalars(select(events.c.sender_id).distinct()))

    def events_for(self, sender_id: str) -> List[Dict[str, Any]]:
        """A conversation's events in order, as dicts (type_name, timestamp, data, ...)."""
        if not self._ready():
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events).where(events.c.sender_id == sender_id).order_by(events.c.id)
            )
            return [dict(row._mapping) for row in rows]

    def summary_for(self, sender_id: str) -> Optional[ConversationSummary]:
        """One conversation's summary (None when it does not exist)."""
        return summarise(sender_id, self.events_for(sender_id))

    def user_messages(self, since: float, with_data: bool = False) -> Iterator[Dict[str, Any]]:
        """Patients' messages since `since` (epoch seconds): timestamp, intent, optionally the JSON."""
        if not self._ready():
            return iter(())
        columns = [events.c.sender_id, events.c.timestamp, events.c.intent_name]
        if with_data:
            columns.append(events.c.data)
        query = (
            select(*columns)
            .where(events.c.type_name == "user", events.c.timestamp >= since)
            .order_by(events.c.id)
        )
        with self.engine.connect() as conn:
            return iter([dict(row._mapping) for row in conn.execute(query)])
