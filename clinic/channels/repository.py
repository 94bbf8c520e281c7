"""Repository of the messaging channels' state, behind an injected session factory."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable, List, Optional, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clinic.channels.models import (
    MESSAGE_SID_LENGTH,
    MessagingConsent,
    MessagingInbound,
    MessagingReplyOptions,
)
from clinic.channels.sms_text import Option

T = TypeVar("T")

# How long a MessageSid is remembered: Twilio retries within minutes; a replay later than this is stale.
INBOUND_KEPT = timedelta(hours=48)


class MessagingRepository:
    """Opt-out state and pending numbered options, one short transaction per call."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def _upsert(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a transaction; once more if a concurrent insert of the same address won."""
        try:
            with self._sessions.begin() as session:
                return work(session)
        except IntegrityError:
            with self._sessions.begin() as session:
                return work(session)

    def is_opted_out(self, address: str) -> bool:
        """Whether nothing may be sent to `address`."""
        with self._sessions() as session:
            consent = session.get(MessagingConsent, address)
            return bool(consent and consent.opted_out)

    def consent(self, address: str) -> Optional[MessagingConsent]:
        """The stored consent row of `address`, if any (detached, read-only use)."""
        with self._sessions() as session:
            consent: Optional[MessagingConsent] = session.get(MessagingConsent, address)
            if consent is not None:
                session.expunge(consent)
            return consent

    def set_opted_out(self, address: str, opted_out: bool, keyword: str) -> bool:
        """Record an opt-out (True) or opt-in (False); returns whether the state changed."""

        def record(session: Session) -> bool:
            consent = session.get(MessagingConsent, address, with_for_update=True)
            changed = bool(consent and consent.opted_out) != opted_out
            if consent is None:
                consent = MessagingConsent(address=address)
                session.add(consent)
            if changed or consent.keyword is None:
                consent.opted_out = opted_out
                consent.keyword = keyword[:16]
                consent.changed_at = datetime.now(timezone.utc)
            if opted_out:
                session.query(MessagingReplyOptions).filter_by(address=address).delete()
            session.flush()
            return changed

        return self._upsert(record)

    def reply_options(self, address: str) -> List[Option]:
        """The numbered options the patient's next reply may pick from."""
        with self._sessions() as session:
            row = session.get(MessagingReplyOptions, address)
            if row is None:
                return []
            try:
                return [Option.from_dict(item) for item in row.options or []]
            except (KeyError, TypeError, ValueError):
                return []

    @property
    def sessions(self) -> sessionmaker:
        """The clinic database's session factory (the booking layer's lookups share it)."""
        return self._sessions

    def reply_options_sent_at(self, address: str) -> Optional[datetime]:
        """When the numbered options now pending for `address` were sent (None: none pending)."""
        with self._sessions() as session:
            row = session.get(MessagingReplyOptions, address)
            if row is None:
                return None
            sent: datetime = row.sent_at
            return sent if sent.tzinfo is not None else sent.replace(tzinfo=timezone.utc)

    def remember_reply_options(self, address: str, options: List[Option]) -> None:
        """Replace the pending options of `address` (an empty list clears them)."""

        def remember(session: Session) -> None:
            row = session.get(MessagingReplyOptions, address, with_for_update=True)
            if not options:
                if row is not None:
                    session.delete(row)
                return
            if row is None:
                row = MessagingReplyOptions(address=address)
                session.add(row)
            row.options = [option.as_dict() for option in options]
            row.sent_at = datetime.now(timezone.utc)
            session.flush()

        self._upsert(remember)

    def first_delivery(self, message_sid: str, now: Optional[datetime] = None) -> bool:
        """Record `message_sid`; False if it was already handled in the last 48 hours (a replay or retry).

        The primary key makes this atomic across Rasa replicas: of two concurrent deliveries one wins.
        Sids older than 48 hours are deleted on the way.
        """
        now = now or datetime.now(timezone.utc)
        sid = message_sid[:MESSAGE_SID_LENGTH]
        try:
            with self._sessions.begin() as session:
                session.query(MessagingInbound).filter(
                    MessagingInbound.received_at < now - INBOUND_KEPT
                ).delete(synchronize_session=False)
                session.add(MessagingInbound(message_sid=sid, received_at=now))
        except IntegrityError:
            return False
        return True
