"""The outbox repository: rows written in the booking's unit of work, claimed and settled by the worker.

Claiming is safe with any number of workers: candidate rows are selected `FOR UPDATE SKIP LOCKED` on
PostgreSQL (two workers never wait for or take each other's rows), and each row is taken with a
compare-and-set UPDATE that only succeeds while the row is still claimable; on SQLite the claim transaction
takes the database's single write lock first, so claims are serialised. A claim older than the timeout
(its worker died mid-send) is claimable again. A row is settled only by the worker holding its claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from clinic.db.outbox import OutboxMessage
from clinic.outbox.compose import MessagePolicy, messages_for, waitlist_offer

if TYPE_CHECKING:
    from clinic.booking.handlers import BookingView

# An earlier send's outcome is unknown (its worker died, or Twilio did not answer in time): last_error
# starts with this until the message is settled, and the worker checks before sending again.
UNCERTAIN = "uncertain: "


@dataclass(frozen=True)
class MessageView:
    """A message as the staff console shows it."""

    id: str
    booking_reference: str
    kind: str
    channel: str
    status: str
    due_at: datetime
    attempts: int
    sent_at: Optional[datetime]
    last_error: Optional[str]
    reply: Optional[str] = None  # a reminder's answer: confirm | cancel | reschedule


def _view(row: OutboxMessage) -> MessageView:
    return MessageView(row.id, row.booking_reference, row.kind, row.channel, row.status, row.due_at,
                       row.attempts, row.sent_at, row.last_error, row.reply)


class OutboxRepository:
    """Adds a booking change's messages; claims, settles and lists them."""

    def __init__(self, session: Session, policy: Optional[MessagePolicy] = None) -> None:
        self.session = session
        self.policy = policy or MessagePolicy()

    # --- written with the booking change (same transaction) ------------------------------------

    def _sequence(self, reference: str) -> int:
        """ICalendar SEQUENCE of the next change: how many confirmations and cancellations came before."""
        return int(self.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.booking_reference == reference, OutboxMessage.kind != "reminder"
            )
        ) or 0)

    def _add(self, change: str, booking: BookingView, now: datetime) -> List[OutboxMessage]:
        rows = messages_for(change, booking, now, self._sequence(booking.reference), self.policy)
        self.session.add_all(rows)
        self.session.flush()
        return rows

    def booked(self, booking: BookingView, now: datetime) -> List[OutboxMessage]:
        """A new booking: its confirmation and its reminder."""
        return self._add("booked", booking, now)

    def moved(self, booking: BookingView, now: datetime) -> List[OutboxMessage]:
        """A booking moved: the old reminder is cancelled; a confirmation and a new reminder queued."""
        self.cancel_pending(booking.reference, "the booking was moved", kinds=("reminder",))
        return self._add("moved", booking, now)

    def cancelled(self, booking: BookingView, now: datetime, notify: bool = True) -> List[OutboxMessage]:
        """A booking cancelled: its reminder is cancelled; the cancellation queued (unless not `notify`)."""
        self.cancel_pending(booking.reference, "the booking was cancelled", kinds=("reminder",))
        return self._add("cancelled", booking, now) if notify else []

    def waitlist_offer(self, reference: str, recipient: str, patient_name: str, service_name: str,
                       starts_at: datetime, ends_at: datetime, now: datetime) -> OutboxMessage:
        """A freed time offered to a waitlisted patient (an SMS due now)."""
        row = waitlist_offer(reference, recipient, patient_name, service_name, starts_at, ends_at, now,
                             self.policy)
        self.session.add(row)
        self.session.flush()
        return row

    def cancel_pending(self, reference: str, reason: str, kinds: Iterable[str] = ("reminder",)) -> int:
        """Queued messages of these kinds for the booking will not be sent."""
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.booking_reference == reference, OutboxMessage.status == "queued",
                   OutboxMessage.kind.in_(list(kinds)))
            .values(status="cancelled", last_error=reason[:500])
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0

    # --- the worker ---------------------------------------------------------------------------

    def claim(self, worker_id: str, now: datetime, claim_timeout: timedelta, limit: int = 20) -> List[str]:
        """Take up to `limit` due messages for `worker_id` (the caller commits); their ids.

        A message whose earlier claim expired (its worker died mid-send) is marked UNCERTAIN: the worker
        checks whether it left before sending it again.
        """
        if self.session.get_bind().dialect.name == "sqlite":
            # One writer: take SQLite's write lock before reading, so two workers' claims never interleave.
            self.session.execute(update(OutboxMessage).where(OutboxMessage.id == "").values(status="queued"))
        due = and_(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
        stale = and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - claim_timeout)
        candidates = self.session.execute(
            select(OutboxMessage.id).where(or_(due, stale)).order_by(OutboxMessage.next_attempt_at)
            .limit(limit).with_for_update(skip_locked=True)
        ).scalars().all()
        claimed = []
        take = {"status": "sending", "claimed_by": worker_id[:80], "claimed_at": now,
                "attempts": OutboxMessage.attempts + 1}
        interrupted = {"last_error": UNCERTAIN + "a worker stopped mid-send"}
        for message_id in candidates:
            for condition, extra in ((due, {}), (stale, interrupted)):
                result = self.session.execute(
                    update(OutboxMessage).where(OutboxMessage.id == message_id, condition)
                    .values(**take, **extra).execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:
                    claimed.append(message_id)
                    break
        return claimed

    def get(self, message_id: str) -> Optional[OutboxMessage]:
        """One message."""
        message: Optional[OutboxMessage] = self.session.get(OutboxMessage, message_id)
        return message

    def settle(self, message_id: str, worker_id: str, status: str, now: datetime,
               provider_id: Optional[str] = None, error: Optional[str] = None,
               next_attempt_at: Optional[datetime] = None) -> bool:
        """Record the outcome of a claimed message; False if the claim is no longer this worker's."""
        values: Dict[str, object] = {"status": status, "last_error": (error or None) and error[:500]}
        if status == "sent":
            values.update(sent_at=now, provider_id=(provider_id or "")[:255] or None)
        if status == "queued":
            values.update(next_attempt_at=next_attempt_at or now, claimed_by=None, claimed_at=None)
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending",
                   OutboxMessage.claimed_by == worker_id[:80])
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)

    # --- replies to SMS reminders ---------------------------------------------------------------

    def sent_reminders(self, recipient: str, since: datetime) -> List[OutboxMessage]:
        """SMS reminders to `recipient` sent since `since` and not answered yet, newest first."""
        return list(self.session.execute(
            select(OutboxMessage).where(
                OutboxMessage.recipient == recipient, OutboxMessage.kind == "reminder",
                OutboxMessage.channel == "sms", OutboxMessage.status == "sent",
                OutboxMessage.sent_at >= since,
            ).order_by(OutboxMessage.sent_at.desc())
        ).scalars())

    def mark_replied(self, message_id: str, reply: str, now: datetime) -> bool:
        """Record the patient's answer on a sent reminder; False if it was answered meanwhile."""
        result = self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "sent")
            .values(status="replied", reply=reply[:12], replied_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)

    # --- staff ---------------------------------------------------------------------------------

    def for_references(self, references: Iterable[str]) -> Dict[str, List[MessageView]]:
        """Each booking's messages, in the order they are due."""
        references = list(references)
        found: Dict[str, List[MessageView]] = {ref: [] for ref in references}
        if not references:
            return found
        rows = self.session.execute(
            select(OutboxMessage).where(OutboxMessage.booking_reference.in_(references))
            .order_by(OutboxMessage.due_at, OutboxMessage.created_at)
        ).scalars()
        for row in rows:
            found[row.booking_reference].append(_view(row))
        return found
