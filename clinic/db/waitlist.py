"""The waitlist: patients who want an earlier time for a service, offered freed slots one at a time.

An entry waits for a time on one of its days (first_day..last_day, on the clinic's calendar). When a booking
for that service on one of those days is cancelled or moved, the first waiting entry (oldest first) is
offered the freed time: `offered`, the slot held for it until `offer_expires_at` (availability leaves it out
for everyone else), and an SMS written to the outbox in the same transaction. "yes" books it (`booked`);
"no" (`declined`) or no answer in time (`expired`) passes the slot to the next entry, and a declined or
expired entry goes back to `waiting` for the next freed time until its days have passed.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Index, Integer, String

from clinic.db.base import Base
from clinic.db.booking import UTCDateTime, utcnow

WAITLIST_STATUSES = ("waiting", "offered", "booked", "left")


class WaitlistEntry(Base):
    """One patient waiting for an earlier time for one service on a range of days."""

    __tablename__ = "waitlist_entries"

    id = Column(Integer, primary_key=True)
    service_code = Column(String(40), nullable=False)
    first_day = Column(Date, nullable=False)
    last_day = Column(Date, nullable=False)
    patient_name = Column(String(100), nullable=False)
    contact = Column(String(254), nullable=False, index=True)  # E.164 mobile: offers are texted
    sender_id = Column(String(255), nullable=True)  # the conversation that joined
    status = Column(String(10), nullable=False, default="waiting")
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    # The current offer (status offered): the freed time, its practitioner, until when it is held.
    offer_starts_at = Column(UTCDateTime, nullable=True)
    offer_ends_at = Column(UTCDateTime, nullable=True)
    offer_practitioner_id = Column(Integer, ForeignKey("practitioners.id"), nullable=True)
    offer_expires_at = Column(UTCDateTime, nullable=True)
    offered_from = Column(String(12), nullable=True)  # the reference of the booking that freed the time
    offers = Column(Integer, nullable=False, default=0)
    booking_reference = Column(String(12), nullable=True)  # once booked

    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'offered', 'booked', 'left')", name="status"),
        CheckConstraint("first_day <= last_day", name="days_in_order"),
        Index("ix_waitlist_entries_status_service", "status", "service_code"),
    )
