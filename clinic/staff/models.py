"""Tables of the staff console: accounts, login sessions, sign-in throttle, audit log."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)

from clinic.db.base import Base

ROLES = ("reviewer", "admin")


def utcnow() -> datetime:
    """Now, as naive UTC (every timestamp of these tables is UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class StaffUser(Base):
    """A member of the clinic's staff who may use the console."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('reviewer', 'admin')", name="role"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    @property
    def is_admin(self) -> bool:
        """Whether this user may run admin actions."""
        return bool(self.role == "admin")


class StaffSession(Base):
    """A signed-in browser; the cookie carries a random token whose hash is the key."""

    __tablename__ = "staff_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)


class LoginThrottle(Base):
    """Failed sign-ins counted per key (username + address, address, username, known device).

    `key` is a SHA-256 of the kind and its values (no address or username in clear); times are epoch
    milliseconds, so the backoff is computed by one atomic UPDATE on SQLite and PostgreSQL alike
    (`clinic.staff.throttle`).
    """

    __tablename__ = "staff_login_throttle"

    key = Column(String(64), primary_key=True)
    failures = Column(Integer, nullable=False, default=0)
    blocked_until_ms = Column(BigInteger, nullable=False, default=0)
    last_failure_ms = Column(BigInteger, nullable=False, default=0, index=True)


class AuditEntry(Base):
    """Who did (or was refused) what, on which conversation key or booking, when."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    username = Column(String(64), nullable=True)
    action = Column(String(64), nullable=False)
    target = Column(String(128), nullable=True)
    outcome = Column(String(16), nullable=False)
    client_ip = Column(String(64), nullable=True)
    detail = Column(Text, nullable=True)


class CalendarFeed(Base):
    """A practitioner's iCalendar feed: a secret URL (`/staff/calendar/<token>.ics`), revocable.

    Only the token's SHA-256 is stored: the URL is shown once, to the admin who created it.
    """

    __tablename__ = "calendar_feeds"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    practitioner_id = Column(Integer, ForeignKey("practitioners.id", ondelete="CASCADE"), nullable=False,
                             index=True)
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    revoked_by = Column(String(64), nullable=True)
    revoked_at = Column(DateTime, nullable=True)
    last_fetched_at = Column(DateTime, nullable=True)  # when a calendar last read it (is it subscribed?)
