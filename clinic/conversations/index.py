"""The console's index of conversations: kept up to date from the tracker store, queried with SQL.

`ConversationIndex.refresh()` reads only the tracker events newer than the last one it read (the
events table's id), folds them into each conversation's row (`ConversationSummary.apply`, the same fold
as a single transcript's), counts messages per day and keeps the messages the NLU was unsure of. Every
page then asks the clinic database with filters, ordering and pagination, and the bookings table is
joined in SQL. Sender ids are hashed into conversation keys once, when a conversation is first seen.

Erasure: a conversation that ran `action_delete_my_data` starts afresh (the tracker store deletes it right
after); `erase_sender` and `purge_before` (registered in clinic.privacy) remove rows, and a conversation
whose events are gone is dropped the next time the index checks (at most every RECHECK_SECONDS).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from clinic.contract import BookingStatus
from clinic.conversations.keys import conversation_key
from clinic.conversations.models import ConversationRow, IndexState, MessageDay, ReviewMessage
from clinic.conversations.repository import ConversationRepository
from clinic.conversations.store import events, has_events_table
from clinic.conversations.summary import (
    FALLBACK_INTENT,
    ConversationSummary,
    parse_data,
    to_datetime,
    top_confidence,
)
from clinic.db.booking import Booking

BATCH_EVENTS = 5000  # tracker events read per transaction (short transactions: other writers wait less)
# Messages below this confidence in their best intent are kept for review (and every fallback).
REVIEW_BELOW = 0.9
RECHECK_SECONDS = 300  # how often the index looks for conversations deleted from the tracker store
LAST_EVENT = "last_event_id"
LAST_SENDER = "last_event_sender"  # whose event that was: SQLite reuses the ids of deleted newest events
KEY_SECRET = "key_secret"  # a fingerprint of the secret the stored keys were made with
CHUNK = 500  # ids per IN (...) list


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(b"conversation-index:" + secret.encode()).hexdigest()[:32]


def _epoch(value: Optional[datetime]) -> Optional[float]:
    return value.timestamp() if value else None


def to_summary(row: ConversationRow) -> ConversationSummary:
    """A stored row as the summary the pages show."""
    return ConversationSummary(
        sender_id=row.sender_id, started=to_datetime(row.started), last_active=to_datetime(row.last_active),
        channel=row.channel or "", messages=row.messages or 0, fallbacks=row.fallbacks or 0,
        handoff_requested=bool(row.handoff_requested), paused=bool(row.paused),
        waiting_since=to_datetime(row.waiting_since), triage_result=row.triage_result,
        red_flags=(row.red_flags or "").split(), offered_booking=bool(row.offered_booking),
        booking_outcome=row.booking_outcome, last_message=row.last_message or "",
        last_event_id=row.last_event_id or 0,
        team_question=row.team_question, question_since=to_datetime(row.question_since),
    )


def _store(row: ConversationRow, summary: ConversationSummary) -> None:
    row.started = _epoch(summary.started)
    row.last_active = _epoch(summary.last_active)
    row.channel = summary.channel[:40]
    row.messages, row.fallbacks = summary.messages, summary.fallbacks
    row.handoff_requested, row.paused = summary.handoff_requested, summary.paused
    row.waiting_since = _epoch(summary.waiting_since)
    row.triage_result = summary.triage_result
    row.red_flags = " ".join(summary.red_flags)[:255]
    row.offered_booking, row.booking_outcome = summary.offered_booking, summary.booking_outcome
    row.last_message = summary.last_message
    row.last_event_id = summary.last_event_id
    row.team_question, row.question_since = summary.team_question, _epoch(summary.question_since)


def review_candidate(row: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The review row for a user event the NLU was unsure of, else None (button payloads never)."""
    data = parse_data(row.get("data"))
    text = str(data.get("text") or "").strip()
    if not text or text.startswith("/"):
        return None
    parse = data.get("parse_data") or {}
    confidence = top_confidence(parse)
    fallback = row.get("intent_name") == FALLBACK_INTENT
    if not fallback and (confidence is None or confidence >= REVIEW_BELOW):
        return None
    ranking = [r for r in parse.get("intent_ranking") or []
               if isinstance(r, dict) and r.get("name") != FALLBACK_INTENT]
    best = max(ranking, key=lambda r: r.get("confidence") or 0).get("name") if ranking else (
        (parse.get("intent") or {}).get("name"))
    entities = [e for e in parse.get("entities") or [] if isinstance(e, dict)]
    return dict(
        event_id=int(row["id"]), sender_id=row["sender_id"], at=float(row.get("timestamp") or 0),
        text=text[:2000], intent=str(best or "")[:64], confidence=float(confidence or 0.0),
        fallback=fallback, entities=json.dumps(entities)[:20000],
    )


@dataclass
class Page:
    """One page of the conversations list."""

    rows: List[Tuple[ConversationSummary, str]]  # (summary with its bookings, conversation key)
    found: int
    total: int
    page: int
    pages: int


@dataclass
class Window:
    """What insights needs over a period: its conversations (with bookings), messages per day, the weakest."""

    summaries: List[ConversationSummary]
    bookings: Dict[str, Dict[str, int]]
    days: Dict[date, Tuple[int, int]]
    weakest: List[ReviewMessage]


class ConversationIndex:
    """The index over one tracker store, in one clinic database, with one secret for the keys."""

    def __init__(self, tracker: Engine, db: sessionmaker, secret: str) -> None:
        self.tracker = tracker
        self.db = db
        self.secret = secret
        self.repository = ConversationRepository(tracker)
        self._lock = threading.Lock()
        self._checked = 0.0

    def key(self, sender_id: str) -> str:
        """The opaque key of a conversation (URLs, audit log)."""
        return conversation_key(self.secret, sender_id)

    # --- keeping it up to date ---------------------------------------------------------------

    def _tracker_head(self) -> int:
        if not has_events_table(self.tracker):
            return 0
        with self.tracker.connect() as conn:
            return int(conn.scalar(select(func.max(events.c.id))) or 0)

    def _state(self, db: Session, name: str) -> Optional[str]:
        row = db.get(IndexState, name)
        return row.value if row else None

    def _set_state(self, db: Session, name: str, value: str) -> None:
        row = db.get(IndexState, name)
        if row is None:
            db.add(IndexState(name=name, value=value))
        else:
            row.value = value

    def _lock_state(self, db: Session) -> int:
        """Take the index's write lock (one refresher at a time, across processes); the last event read."""
        updated = db.execute(update(IndexState).where(IndexState.name == LAST_EVENT)
                             .values(value=IndexState.value)).rowcount
        if not updated:
            db.add(IndexState(name=LAST_EVENT, value="0"))
            db.flush()
        if db.bind.dialect.name == "postgresql":
            db.execute(select(IndexState).where(IndexState.name == LAST_EVENT).with_for_update())
        return int(self._state(db, LAST_EVENT) or 0)

    def behind(self) -> int:
        """How many event ids the index has still to read (0: up to date)."""
        with self.db() as db:
            seen = int(self._state(db, LAST_EVENT) or 0)
        return max(0, self._tracker_head() - seen)

    def refresh(self, budget_seconds: Optional[float] = None) -> int:
        """Read the tracker events newer than the last one read; returns how many were read.

        With a budget, stops after the batch that passes it (the rest waits for the next request).
        """
        with self._lock:
            self._check_keys()
            self._check_watermark()
            started, total = time.monotonic(), 0
            while True:
                with self.db() as db:
                    seen = int(self._state(db, LAST_EVENT) or 0)
                if self._tracker_head() <= seen:
                    break
                total += self._read_batch()
                if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                    break
            if time.monotonic() - self._checked > RECHECK_SECONDS:
                self._drop_deleted()
            return total

    def _read_batch(self) -> int:
        with self.db() as db, db.no_autoflush:
            seen = self._lock_state(db)
            rows = list(self.repository.events_after(seen, limit=BATCH_EVENTS))
            if not rows:
                db.commit()
                return 0
            by_sender: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
            for row in rows:
                by_sender[row["sender_id"]].append(row)
            stored: Dict[str, ConversationRow] = {}
            senders = list(by_sender)
            for i in range(0, len(senders), CHUNK):
                for row in db.scalars(select(ConversationRow)
                                      .where(ConversationRow.sender_id.in_(senders[i:i + CHUNK]))):
                    stored[row.sender_id] = row
            days: Dict[date, List[int]] = defaultdict(lambda: [0, 0])
            review: Dict[int, Dict[str, Any]] = {}
            for sender, sender_rows in by_sender.items():
                stored_row = stored.get(sender)
                summary = (to_summary(stored_row) if stored_row is not None
                           else ConversationSummary(sender_id=sender))
                for event in sender_rows:
                    if event["id"] <= summary.last_event_id:
                        continue  # already folded in (a refresher in another process got here first)
                    before = summary.started
                    summary.apply(event)
                    if before is not None and summary.started is None:
                        # action_delete_my_data: nothing of this conversation before it is kept
                        db.execute(delete(ReviewMessage).where(ReviewMessage.sender_id == sender))
                        review = {k: v for k, v in review.items() if v["sender_id"] != sender}
                    if event["type_name"] == "user":
                        at = to_datetime(event.get("timestamp"))
                        if at is not None:
                            day = days[at.date()]
                            day[0] += 1
                            day[1] += event.get("intent_name") == FALLBACK_INTENT
                        candidate = review_candidate(event)
                        if candidate is not None:
                            review[candidate["event_id"]] = candidate
                if summary.started is None:  # nothing left (erased, or no timestamped event yet)
                    if stored_row is not None:
                        db.delete(stored_row)
                    continue
                if stored_row is None:
                    stored_row = ConversationRow(sender_id=sender, conversation_key=self.key(sender))
                    db.add(stored_row)
                _store(stored_row, summary)
            if review:
                ids = list(review)
                for i in range(0, len(ids), CHUNK):  # ids SQLite gave out again (see _check_watermark)
                    db.execute(delete(ReviewMessage).where(ReviewMessage.event_id.in_(ids[i:i + CHUNK])))
                db.execute(insert(ReviewMessage), list(review.values()))
            self._add_days(db, days)
            self._set_state(db, LAST_EVENT, str(rows[-1]["id"]))
            self._set_state(db, LAST_SENDER, rows[-1]["sender_id"])
            db.commit()
            return len(rows)

    @staticmethod
    def _add_days(db: Session, days: Dict[date, List[int]]) -> None:
        known = {row.day: row for row in db.scalars(select(MessageDay).where(MessageDay.day.in_(list(days))))}
        for day, (messages, fallbacks) in days.items():
            row = known.get(day)
            if row is None:
                db.add(MessageDay(day=day, messages=messages, fallbacks=fallbacks))
            else:
                row.messages += messages
                row.fallbacks += fallbacks

    def _event_senders(self, ids: List[int]) -> Dict[int, str]:
        with self.tracker.connect() as conn:
            query = select(events.c.id, events.c.sender_id).where(events.c.id.in_(ids))
            return dict(conn.execute(query).all())

    def _check_watermark(self) -> None:
        """Repair the index when the newest events it read were deleted (erasure) and their ids reused.

        SQLite hands the ids of deleted newest rows out again, so "newer than the last id read" would
        miss new events. When the last event read is gone (or someone else's), conversations whose own
        last event is gone are dropped (read again from scratch) and reading resumes after the newest
        event still standing.
        """
        with self.db() as db:
            seen = int(self._state(db, LAST_EVENT) or 0)
            sender = self._state(db, LAST_SENDER)
        if not seen or not sender or not has_events_table(self.tracker):
            return
        if self._event_senders([seen]).get(seen) == sender:
            return
        with self.db() as db:
            self._lock_state(db)
            valid = 0
            offset = 0
            while True:
                rows = list(db.execute(
                    select(ConversationRow.sender_id, ConversationRow.last_event_id)
                    .order_by(ConversationRow.last_event_id.desc()).offset(offset).limit(CHUNK)).all())
                if not rows:
                    break
                standing = self._event_senders([event_id for _, event_id in rows])
                gone = [s for s, event_id in rows if standing.get(event_id) != s]
                for part in (gone[i:i + CHUNK] for i in range(0, len(gone), CHUNK)):
                    db.execute(delete(ConversationRow).where(ConversationRow.sender_id.in_(part)))
                    db.execute(delete(ReviewMessage).where(ReviewMessage.sender_id.in_(part)))
                kept = [event_id for s, event_id in rows if standing.get(event_id) == s]
                if kept:
                    valid = max(kept)
                if not gone:
                    break
                offset += len(kept)
            self._set_state(db, LAST_EVENT, str(min(seen, valid)))
            self._set_state(db, LAST_SENDER, self._event_senders([valid]).get(valid, "") if valid else "")
            db.commit()

    def _check_keys(self) -> None:
        """Keys made with another secret (STAFF_SECRET_KEY changed) are made again, once."""
        wanted = _fingerprint(self.secret)
        with self.db() as db:
            if self._state(db, KEY_SECRET) == wanted:
                return
            for sender in list(db.scalars(select(ConversationRow.sender_id))):
                db.execute(update(ConversationRow).where(ConversationRow.sender_id == sender)
                           .values(conversation_key=self.key(sender)))
            self._set_state(db, KEY_SECRET, wanted)
            db.commit()

    def _drop_deleted(self) -> None:
        """Rows of conversations the tracker store no longer has (erased, purged) are dropped."""
        self._checked = time.monotonic()
        existing = set(self.repository.sender_ids())
        with self.db() as db:
            gone = [s for s in db.scalars(select(ConversationRow.sender_id)) if s not in existing]
            for i in range(0, len(gone), CHUNK):
                part = gone[i:i + CHUNK]
                db.execute(delete(ConversationRow).where(ConversationRow.sender_id.in_(part)))
                db.execute(delete(ReviewMessage).where(ReviewMessage.sender_id.in_(part)))
            db.commit()

    # --- reading it ----------------------------------------------------------------------------

    def sender_for_key(self, key: str) -> Optional[str]:
        """The conversation behind an opaque key, or None (a guessed or stale URL)."""
        if len(key) != 24:
            return None
        with self.db() as db:
            for sender in db.scalars(select(ConversationRow.sender_id)
                                     .where(ConversationRow.conversation_key == key)):
                if self.key(sender) == key:
                    found: str = sender
                    return found
        return None

    def summary(self, sender_id: str) -> Optional[ConversationSummary]:
        """One conversation's row with its bookings."""
        with self.db() as db:
            row = db.get(ConversationRow, sender_id)
            if row is None:
                return None
            summary = to_summary(row)
            summary.bookings = _bookings(db, [sender_id]).get(sender_id, {})
            return summary

    def exists(self, senders: Iterable[str]) -> Set[str]:
        """Which of these sender ids have a conversation."""
        wanted, found = list(set(senders)), set()
        with self.db() as db:
            for i in range(0, len(wanted), CHUNK):
                found |= set(db.scalars(select(ConversationRow.sender_id)
                                        .where(ConversationRow.sender_id.in_(wanted[i:i + CHUNK]))))
        return found

    def channels(self) -> List[str]:
        """The channels conversations came in on."""
        with self.db() as db:
            return sorted(c for c in db.scalars(select(ConversationRow.channel).distinct()) if c)

    def page(self, filters: Dict[str, str], query: str = "", exact: bool = True, page: int = 1,
             per_page: int = 50, conditions: Sequence[Any] = ()) -> Page:
        """Conversations matching the filters, most recently active first, one page of them."""
        where = list(conditions) + _conditions(filters)
        if query and exact:
            where.append(ConversationRow.sender_id == query)
        elif query:
            like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(ConversationRow.sender_id.ilike(like, escape="\\"))
        with self.db() as db:
            total = db.scalar(select(func.count()).select_from(ConversationRow)) or 0
            found = db.scalar(select(func.count()).select_from(ConversationRow).where(*where)) or 0
            pages = max(1, -(-found // per_page))
            page = min(max(page, 1), pages)
            rows = list(db.scalars(
                select(ConversationRow).where(*where)
                .order_by(ConversationRow.last_active.desc(), ConversationRow.sender_id)
                .offset((page - 1) * per_page).limit(per_page)
            ))
            bookings = _bookings(db, [r.sender_id for r in rows])
            shown = []
            for row in rows:
                summary = to_summary(row)
                summary.bookings = bookings.get(row.sender_id, {})
                shown.append((summary, row.conversation_key))
        return Page(rows=shown, found=found, total=total, page=page, pages=pages)

    def waiting(self) -> List[Tuple[ConversationSummary, str]]:
        """Conversations waiting for a person (the bot paused, or a question for the team), longest first."""
        with self.db() as db:
            rows = list(db.scalars(
                select(ConversationRow)
                .where(or_(ConversationRow.paused.is_(True), ConversationRow.question_since.is_not(None)))
                .order_by(func.coalesce(ConversationRow.waiting_since, ConversationRow.question_since,
                                        ConversationRow.last_active))
                .limit(500)
            ))
            return [(to_summary(r), r.conversation_key) for r in rows]

    def window(self, since: float, weakest: int = 15) -> Window:
        """Conversations started since `since` (epoch seconds), their bookings, messages per day."""
        with self.db() as db:
            rows = list(db.execute(
                select(ConversationRow.sender_id, ConversationRow.started, ConversationRow.triage_result,
                       ConversationRow.offered_booking, ConversationRow.booking_outcome)
                .where(ConversationRow.started >= since)
            ))
            summaries = [ConversationSummary(sender_id=s, started=to_datetime(t), triage_result=r,
                                             offered_booking=bool(o), booking_outcome=b)
                         for s, t, r, o, b in rows]
            booked = dict(_bookings_query(db, ConversationRow.started >= since))
            first = to_datetime(since).date()
            days = {d: (m, f) for d, m, f in db.execute(
                select(MessageDay.day, MessageDay.messages, MessageDay.fallbacks)
                .where(MessageDay.day >= first))}
            weak = list(db.scalars(
                select(ReviewMessage).where(ReviewMessage.at >= since)
                .order_by(ReviewMessage.confidence, ReviewMessage.event_id).limit(weakest)
            ))
            db.expunge_all()
        return Window(summaries=summaries, bookings=booked, days=days, weakest=weak)

    def all_rows(self) -> List[ConversationSummary]:
        """Every conversation with its bookings, most recently active first (the admins' CSV export)."""
        with self.db() as db:
            rows = [to_summary(r) for r in db.scalars(
                select(ConversationRow).order_by(ConversationRow.last_active.desc()))]
            booked = dict(_bookings_query(db))
        for summary in rows:
            summary.bookings = booked.get(summary.sender_id, {})
        return rows


def _conditions(filters: Dict[str, str]) -> List[Any]:
    """SQL conditions for the list's filters (already checked against the allowed values)."""
    yes = {"yes": True, "no": False}
    where: List[Any] = []
    if "triage" in filters:
        value = filters["triage"]
        where.append(ConversationRow.triage_result.is_(None) if value == "none"
                     else ConversationRow.triage_result == value)
    if "channel" in filters:
        where.append(ConversationRow.channel == filters["channel"])
    if "handoff" in filters:
        where.append(ConversationRow.handoff_requested.is_(yes[filters["handoff"]]))
    if "flags" in filters:
        flagged = yes[filters["flags"]]
        where.append(ConversationRow.red_flags != "" if flagged else ConversationRow.red_flags == "")
    if "status" in filters:
        where.append(ConversationRow.paused.is_(filters["status"] == "paused"))
    if "booked" in filters:
        standing = exists().where(Booking.sender_id == ConversationRow.sender_id,
                                  Booking.status != BookingStatus.CANCELLED)
        where.append(standing if yes[filters["booked"]] else ~standing)
    return where


def _bookings_query(db: Session, *where: Any) -> Iterable[Tuple[str, Dict[str, int]]]:
    query = (select(Booking.sender_id, Booking.status, func.count())
             .join(ConversationRow, ConversationRow.sender_id == Booking.sender_id)
             .where(*where).group_by(Booking.sender_id, Booking.status))
    found: Dict[str, Dict[str, int]] = defaultdict(dict)
    for sender, status, count in db.execute(query):
        found[sender][status] = int(count)
    return found.items()


def _bookings(db: Session, senders: List[str]) -> Dict[str, Dict[str, int]]:
    if not senders:
        return {}
    return dict(_bookings_query(db, ConversationRow.sender_id.in_(senders)))


# --- erasure and retention (registered in clinic.privacy) ---------------------------------------

def erase_sender(db: Session, sender_id: str) -> int:
    """A patient's erasure: their conversation's row and review messages (caller commits)."""
    erased: int = db.execute(delete(ConversationRow).where(ConversationRow.sender_id == sender_id)).rowcount
    erased += db.execute(delete(ReviewMessage).where(ReviewMessage.sender_id == sender_id)).rowcount
    return erased


def purge_before(db: Session, cutoff: datetime) -> int:
    """Retention: conversations idle since before the cutoff (naive UTC), review messages older than it."""
    epoch = cutoff.replace(tzinfo=timezone.utc).timestamp()
    erased: int = db.execute(delete(ConversationRow).where(ConversationRow.last_active < epoch)).rowcount
    erased += db.execute(delete(ReviewMessage).where(ReviewMessage.at < epoch)).rowcount
    return erased

