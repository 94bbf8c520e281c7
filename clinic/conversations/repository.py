"""Read-only repository over the tracker store (SQLAlchemy Core; Rasa is never imported)."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from clinic.conversations.store import events, has_events_table
from clinic.conversations.summary import (
    BOOKING_ACTIONS,
    RESETTING_EVENTS,
    ConversationSummary,
    parse_data,
    to_datetime,
)

STATE_EVENTS = ("slot", "pause", "resume") + RESETTING_EVENTS


class ConversationRepository:
    """Conversations of the tracker store, summarised or event by event. Never writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _ready(self) -> bool:
        return has_events_table(self.engine)

    def summaries(self) -> List[ConversationSummary]:
        """Every conversation, most recently active first."""
        if not self._ready():
            return []
        is_user = events.c.type_name == "user"
        aggregate = (
            select(
                events.c.sender_id,
                func.min(events.c.timestamp),
                func.max(events.c.timestamp),
                func.sum(case((is_user, 1), else_=0)),
                func.sum(case((is_user & (events.c.intent_name == "nlu_fallback"), 1), else_=0)),
                func.sum(case((is_user & (events.c.intent_name == "human_handoff"), 1), else_=0)),
                func.sum(case((events.c.action_name.in_(BOOKING_ACTIONS), 1), else_=0)),
            )
            .group_by(events.c.sender_id)
        )
        first_user = (
            select(func.min(events.c.id).label("id")).where(is_user).group_by(events.c.sender_id).subquery()
        )
        with self.engine.connect() as conn:
            summaries: Dict[str, ConversationSummary] = {}
            for sender, first, last, messages, fallbacks, handoffs, bookings in conn.execute(aggregate):
                summaries[sender] = ConversationSummary(
                    sender_id=sender,
                    started=to_datetime(first),
                    last_active=to_datetime(last),
                    messages=int(messages or 0),
                    fallbacks=int(fallbacks or 0),
                    handoff_requested=bool(handoffs),
                    booked=bool(bookings),
                )
            channels = conn.execute(
                select(events.c.sender_id, events.c.data).where(events.c.id.in_(select(first_user.c.id)))
            )
            for sender, data in channels:
                summary = summaries.get(sender)
                if summary is not None:
                    summary.channel = str(parse_data(data).get("input_channel") or "")
            states = conn.execute(
                select(events.c.sender_id, events.c.type_name, events.c.data)
                .where(events.c.type_name.in_(STATE_EVENTS))
                .order_by(events.c.id)
            )
            for sender, type_name, data in states:
                summary = summaries.get(sender)
                if summary is not None:
                    summary.apply_state_event(type_name, parse_data(data))
        return sorted(summaries.values(), key=lambda s: s.last_active or to_datetime(0), reverse=True)

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
        rows = self.events_for(sender_id)
        if not rows:
            return None
        summary = ConversationSummary(sender_id=sender_id)
        summary.started = to_datetime(rows[0]["timestamp"])
        summary.last_active = to_datetime(rows[-1]["timestamp"])
        for row in rows:
            data = parse_data(row["data"]) if row["type_name"] in STATE_EVENTS + ("user",) else {}
            if row["type_name"] == "user":
                summary.messages += 1
                summary.fallbacks += row["intent_name"] == "nlu_fallback"
                summary.handoff_requested |= row["intent_name"] == "human_handoff"
                summary.channel = summary.channel or str(data.get("input_channel") or "")
            elif row["type_name"] in STATE_EVENTS:
                summary.apply_state_event(row["type_name"], data)
            if row["action_name"] in BOOKING_ACTIONS:
                summary.booked = True
        return summary

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
