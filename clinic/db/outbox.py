"""The outbox: every message to a patient after the booking, written with the booking change that causes it.

A booking made, moved or cancelled adds its confirmation (and the appointment's reminder) here in the same
transaction, so a message exists if and only if the change committed. `clinic worker` sends what is due and
records the outcome on the row: nothing is sent twice, nothing is lost when a process dies.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Text

from clinic.contract import ReminderAnswer
from clinic.db.base import Base
from clinic.db.booking import UTCDateTime, utcnow

MESSAGE_KINDS = ("confirmation", "reminder", "cancellation", "waitlist_offer")
MESSAGE_CHANNELS = ("sms", "email")
# queued: waiting for due_at / next_attempt_at; sending: claimed by a worker; sent; failed (after the last
# attempt); cancelled (a reminder of a booking moved or cancelled, an appointment already passed);
# opted_out (the number said STOP: nothing is sent to it); replied (an SMS reminder the patient answered:
# C confirmed, X cancelled, R rescheduling; `reply` says which).
MESSAGE_STATUSES = ("queued", "sending", "sent", "failed", "cancelled", "opted_out", "replied")
REMINDER_REPLIES = ReminderAnswer.values()


class OutboxMessage(Base):
    """One message to one patient, on one channel, due at one time."""

    __tablename__ = "outbox_messages"

    id = Column(String(36), primary_key=True)  # uuid4: the SMTP Message-ID and the send's idempotency key
    booking_reference = Column(String(12), nullable=False, index=True)
    kind = Column(String(20), nullable=False)
    channel = Column(String(5), nullable=False)
    recipient = Column(String(254), nullable=False)
    subject = Column(String(200), nullable=True)  # e-mail only
    body = Column(Text, nullable=False)
    # The appointment as it was when the message was written (the e-mail's calendar attachment).
    service_name = Column(String(120), nullable=False, default="")
    starts_at = Column(UTCDateTime, nullable=False)
    ends_at = Column(UTCDateTime, nullable=False)
    sequence = Column(Integer, nullable=False, default=0)  # iCalendar SEQUENCE: later changes win
    due_at = Column(UTCDateTime, nullable=False)
    status = Column(String(10), nullable=False, default="queued")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False)
    claimed_by = Column(String(80), nullable=True)
    claimed_at = Column(UTCDateTime, nullable=True)
    sent_at = Column(UTCDateTime, nullable=True)
    provider_id = Column(String(255), nullable=True)  # Twilio SIDs, or the SMTP Message-ID
    last_error = Column(String(500), nullable=True)
    reply = Column(String(12), nullable=True)  # a reminder's answer: confirm | cancel | reschedule
    replied_at = Column(UTCDateTime, nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "kind IN ('confirmation', 'reminder', 'cancellation', 'waitlist_offer')", name="kind"
        ),
        CheckConstraint("channel IN ('sms', 'email')", name="channel"),
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'cancelled', 'opted_out', 'replied')",
            name="status",
        ),
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )
