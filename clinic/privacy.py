"""Patients' privacy: masking for reviewers, opaque conversation keys, erasure and retention.

Each concern that keeps personal data lists its functions here, imported like any other dependency
(so the import graph shows them, tests/unit/test_layers.py): PERSONAL_DATA_ERASERS erase one sender's
personal data; RETENTION_PURGERS erase what is older than a cutoff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional

from sqlalchemy import and_, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from clinic.booking import erasure as booking_erasure
from clinic.channels import erasure as messaging_erasure
from clinic.conversations import index as conversation_index
from clinic.conversations import labels as review_labels
from clinic.conversations import notes as conversation_notes
from clinic.conversations.keys import conversation_key as conversation_key  # re-exported for the console
from clinic.conversations.store import events, has_events_table
from clinic.masking import mask_contact as mask_contact  # the one masking, re-exported
from clinic.masking import mask_text as mask_text
from clinic.masking import mask_value as mask_value

_AGE = re.compile(r"^\s*(\d+)\s*([dwh])\s*$", re.IGNORECASE)

# (clinic session, sender id) -> number of records erased or anonymised.
PERSONAL_DATA_ERASERS: List[Callable[[Session, str], int]] = [
    booking_erasure.erase_sender,
    messaging_erasure.erase_sender,
    conversation_index.erase_sender,  # the staff console's index of conversations
    review_labels.erase_sender,  # review labels made from the patient's messages
    conversation_notes.erase_sender,  # staff's notes and tags on the conversation
]
# (clinic session, cutoff as naive UTC) -> number of records erased or anonymised.
RETENTION_PURGERS: List[Callable[[Session, datetime], int]] = [
    booking_erasure.purge_before,
    conversation_notes.purge_before,  # before the index forgets the idle conversations
    conversation_index.purge_before,
]


def parse_age(text: str) -> timedelta:
    """'90d', '12w', '48h' -> a timedelta; ValueError with a clear message otherwise."""
    match = _AGE.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise ValueError(
            f"{text!r} is not an age like 90d, 12w or 48h (a positive number of days, weeks or hours)."
        )
    amount, unit = int(match.group(1)), match.group(2).lower()
    return {"d": timedelta(days=amount), "w": timedelta(weeks=amount), "h": timedelta(hours=amount)}[unit]


def erase_conversation(tracker: Engine, sender_id: str) -> int:
    """Delete every tracker event of one sender; returns how many."""
    if not has_events_table(tracker):
        return 0
    with tracker.begin() as conn:
        erased: int = conn.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount
        return erased


def erase_personal_data(db: Session, sender_id: str) -> int:
    """Run every registered eraser of the clinic database for one sender (caller commits)."""
    return sum(eraser(db, sender_id) for eraser in PERSONAL_DATA_ERASERS)


def erase_patient(tracker: Engine, db: Session, sender_id: str) -> Dict[str, int]:
    """A patient's full erasure: conversation and personal data in the clinic database."""
    personal = erase_personal_data(db, sender_id)
    db.commit()
    return {"events": erase_conversation(tracker, sender_id), "personal_records": personal}


@dataclass
class PurgeReport:
    """What `purge` erased."""

    cutoff: datetime
    events: int = 0
    conversations: int = 0
    clinic_records: int = 0
    details: Dict[str, int] = field(default_factory=dict)


def purge(tracker: Engine, db: Session, older_than: timedelta, now: Optional[datetime] = None) -> PurgeReport:
    """Enforce retention: erase conversation data and personal data older than `older_than`.

    A conversation idle since before the cutoff goes entirely; an active one loses only its
    sessions that ended before the cutoff (its current session is never touched, so Rasa's
    tracker store stays consistent).
    """
    now = now or datetime.now(timezone.utc)
    cutoff = now - older_than
    report = PurgeReport(cutoff=cutoff)
    cutoff_ts = cutoff.timestamp()
    if has_events_table(tracker):
        with tracker.begin() as conn:
            last_activity = (
                select(events.c.sender_id, func.max(events.c.timestamp).label("last"))
                .group_by(events.c.sender_id)
                .subquery()
            )
            idle = set(
                conn.scalars(select(last_activity.c.sender_id).where(last_activity.c.last < cutoff_ts))
            )
            report.conversations = len(idle)
            old_senders = list(
                conn.scalars(select(events.c.sender_id).where(events.c.timestamp < cutoff_ts).distinct())
            )
            for sender in old_senders:
                if sender in idle:
                    condition = events.c.sender_id == sender
                else:
                    session_start = conn.scalar(
                        select(func.max(events.c.timestamp)).where(
                            events.c.sender_id == sender, events.c.type_name == "session_started"
                        )
                    )
                    if session_start is None:
                        continue
                    condition = and_(
                        events.c.sender_id == sender,
                        events.c.timestamp < cutoff_ts,
                        events.c.timestamp < session_start,
                    )
                report.events += conn.execute(delete(events).where(condition)).rowcount
    naive_cutoff = cutoff.astimezone(timezone.utc).replace(tzinfo=None)
    for purger in RETENTION_PURGERS:
        erased = purger(db, naive_cutoff)
        report.details[getattr(purger, "__name__", "purger")] = erased
        report.clinic_records += erased
    db.commit()
    return report
