"""What the bookings table says about conversations: the source of truth for booked, cancelled, attended."""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.db.booking import Booking


def statuses_by_sender(db: Session, senders: Optional[Iterable[str]] = None) -> Dict[str, Dict[str, int]]:
    """Sender id -> {status: number of bookings} for bookings linked to a conversation."""
    query = (
        select(Booking.sender_id, Booking.status, func.count())
        .where(Booking.sender_id.is_not(None))
        .group_by(Booking.sender_id, Booking.status)
    )
    if senders is not None:
        wanted = list(set(senders))
        if not wanted:
            return {}
        query = query.where(Booking.sender_id.in_(wanted))
    found: Dict[str, Dict[str, int]] = defaultdict(dict)
    for sender, status, count in db.execute(query):
        found[sender][status] = int(count)
    return dict(found)
