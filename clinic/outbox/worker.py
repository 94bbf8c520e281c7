"""`clinic worker`: sends the outbox's due messages, exactly once, and records each outcome.

One pass: claim a batch (committed: other workers skip it), send each message, settle it (sent, opted out,
cancelled, queued again with backoff, or failed after OUTBOX_MAX_ATTEMPTS), until nothing is due. A worker
killed mid-send leaves its claim, which expires after OUTBOX_CLAIM_TIMEOUT_SECONDS; the next worker first
asks Twilio whether the message left (Twilio's Messages API has no idempotency key) and sends it only if
not. E-mail keeps the row's Message-ID on every attempt.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, Optional

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from clinic.channels.repository import MessagingRepository
from clinic.channels.twilio_client import SendStatus, TwilioSender
from clinic.config import Settings
from clinic.db.outbox import OutboxMessage
from clinic.masking import mask_contact, mask_text
from clinic.outbox.calendar import Venue, invitation
from clinic.outbox.email import EmailNotConfigured, EmailRefused, SmtpSettings, build_email, send_email
from clinic.outbox.repository import UNCERTAIN, OutboxRepository

logger = logging.getLogger(__name__)

RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
BATCH = 20


def worker_name() -> str:
    """host:pid:random, unique per worker process."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the n-th failed attempt, at most an hour."""
    doubling: int = 2 ** max(0, attempts - 1)
    return min(RETRY_CAP, RETRY_BASE * doubling)


@dataclass
class Outcome:
    """How one message ended this time."""

    status: str  # sent | opted_out | cancelled | failed | retry
    error: str = ""
    provider_id: str = ""
    uncertain: bool = False


@dataclass
class WorkerReport:
    """What a pass did, by outcome."""

    counts: Dict[str, int] = field(default_factory=dict)

    def add(self, status: str) -> None:
        """Count one message."""
        self.counts[status] = self.counts.get(status, 0) + 1

    def __str__(self) -> str:
        """For example "retry 1, sent 2"."""
        return ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items())) or "nothing due"


class OutboxWorker:
    """Claims, sends and settles outbox messages."""

    def __init__(
        self,
        sessions: sessionmaker,
        settings: Settings,
        sms: Optional[TwilioSender] = None,
        clinic: Optional[Venue] = None,
        worker_id: Optional[str] = None,
        deliver_email: Callable[..., None] = send_email,
        housekeeping: Optional[Callable[[datetime], object]] = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.sms = sms or TwilioSender(settings.twilio(), MessagingRepository(sessions))
        self.clinic = clinic or Venue.from_clinic_file()
        self.worker_id = worker_id or worker_name()
        self.deliver_email = deliver_email
        self.claim_timeout = timedelta(seconds=settings.outbox_claim_timeout_seconds)
        # Run before each pass, e.g. waitlist offers not answered in time passed to the next patient
        # (their new offers are then sent in the same pass).
        self.housekeeping = housekeeping

    # --- one pass ------------------------------------------------------------------------------

    def run_once(
        self, now: Optional[datetime] = None, stop: Optional[threading.Event] = None
    ) -> WorkerReport:
        """Send everything due at `now` (default: the clock), then return."""
        clock_now = now or datetime.now(timezone.utc)
        report = WorkerReport()
        if self.housekeeping is not None:
            try:
                self.housekeeping(clock_now)
            except Exception:  # noqa: BLE001  (a waitlist fault must not hold up the messages)
                logger.exception("The worker's housekeeping (waitlist offers) failed; sending anyway.")
        while not (stop and stop.is_set()):
            with self.sessions() as session:
                outbox = OutboxRepository(session)
                claimed = outbox.claim(self.worker_id, clock_now, self.claim_timeout, BATCH)
                session.commit()
            if not claimed:
                break
            for message_id in claimed:
                report.add(self.deliver(message_id, clock_now))
            if now is None:
                clock_now = datetime.now(timezone.utc)
        return report

    def deliver(self, message_id: str, now: datetime) -> str:
        """Send one claimed message and record the outcome; the status it was left in."""
        with self.sessions() as session:
            row = session.get(OutboxMessage, message_id)
            if row is None:
                return "missing"
            session.expunge(row)
        try:
            outcome = self._send(row, now)
        except Exception as error:  # noqa: BLE001  (a bug or an outage must not stop the other messages)
            logger.exception("Message %s could not be sent", message_id)
            outcome = Outcome("retry", f"{type(error).__name__}: {error}")
        return self._settle(row, outcome, now)

    def _send(self, row: OutboxMessage, now: datetime) -> Outcome:
        if row.kind == "reminder" and now >= row.starts_at:
            return Outcome("cancelled", "the appointment had begun")
        if row.channel == "sms":
            return self._send_sms(row)
        return self._send_email(row, now)

    def _send_sms(self, row: OutboxMessage) -> Outcome:
        if (row.last_error or "").startswith(UNCERTAIN):
            sid = self.sms.find_sent(row.recipient, row.body, row.created_at - timedelta(minutes=5))
            if sid:
                logger.info("Message %s left before its worker stopped (%s): not sent again.", row.id, sid)
                return Outcome("sent", provider_id=sid)
        result = self.sms.send(row.recipient, row.body)
        if result.status is SendStatus.SENT:
            return Outcome("sent", provider_id=",".join(result.message_sids))
        if result.status is SendStatus.OPTED_OUT:
            return Outcome("opted_out", "the number opted out (STOP)")
        if result.status in (SendStatus.INVALID_ADDRESS, SendStatus.EMPTY):
            return Outcome("failed", f"not sendable: {result.status.value}")
        if result.status is SendStatus.NOT_CONFIGURED:
            return Outcome("retry", "Twilio is not configured (set TWILIO_ACCOUNT_SID, TWILIO_NUMBER...)")
        if result.maybe_sent:
            return Outcome("retry", "Twilio did not answer in time", uncertain=True)
        return Outcome("retry", "Twilio refused or could not be reached")

    def _send_email(self, row: OutboxMessage, now: datetime) -> Outcome:
        try:
            smtp = SmtpSettings.from_url(self.settings.smtp_url)
        except EmailNotConfigured as error:
            return Outcome("retry", str(error))
        ics = None
        if row.kind in ("confirmation", "cancellation"):
            ics = invitation(row, self.clinic, self.settings.email_from, now)
        email = build_email(row, self.settings.email_from, now, ics)
        try:
            self.deliver_email(smtp, email)
        except EmailRefused as error:
            return Outcome("failed", str(error))
        except (smtplib.SMTPException, OSError) as error:
            return Outcome("retry", f"SMTP: {type(error).__name__}: {error}")
        return Outcome("sent", provider_id=email["Message-ID"])

    def _settle(self, row: OutboxMessage, outcome: Outcome, now: datetime) -> str:
        status, error, next_attempt = outcome.status, outcome.error, None
        if status == "retry":
            attempts = row.attempts
            if attempts >= self.settings.outbox_max_attempts:
                status, error = "failed", f"{error} (after {attempts} attempts)"
            else:
                status, next_attempt = "queued", now + backoff(attempts)
                error = (UNCERTAIN if outcome.uncertain else "") + error
        error = mask_text(error)  # an SMTP refusal quotes the address: staff pages show the error
        with self.sessions() as session:
            settled = OutboxRepository(session).settle(
                row.id, self.worker_id, status, now, provider_id=outcome.provider_id, error=error,
                next_attempt_at=next_attempt,
            )
            session.commit()
        recipient = mask_contact(row.recipient)
        if not settled:
            logger.warning("Message %s to %s: its claim was taken over meanwhile.", row.id, recipient)
            return "lost_claim"
        log = logger.info if status in ("sent", "queued", "cancelled", "opted_out") else logger.error
        log("Message %s (%s %s, %s) to %s: %s%s", row.id, row.kind, row.channel, row.booking_reference,
            recipient, status, f" ({error})" if error else "")
        return "retry" if status == "queued" else status

    # --- long-running --------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event) -> None:
        """Pass after pass every WORKER_POLL_SECONDS until `stop` is set (SIGTERM); outages are waited out."""
        every = self.settings.worker_poll_seconds
        logger.info("Outbox worker %s started (every %.0f s).", self.worker_id, every)
        while not stop.is_set():
            try:
                report = self.run_once(stop=stop)
                if report.counts:
                    logger.info("Outbox pass: %s.", report)
            except SQLAlchemyError as error:
                logger.error("The clinic database can't be used (%s); trying again shortly.",
                             str(getattr(error, "orig", error)).strip().splitlines()[0])
            stop.wait(self.settings.worker_poll_seconds)
        logger.info("Outbox worker %s stopped.", self.worker_id)
