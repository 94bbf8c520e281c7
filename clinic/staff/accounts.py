"""Staff accounts: argon2 password hashes, password checks, sessions, the audit log.

Failed sign-ins are throttled before the password is checked, in `clinic.staff.throttle`.

Every function takes a SQLAlchemy session from the caller, which commits (one unit of work).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Dict, List, Optional, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from clinic.masking import mask_text
from clinic.staff.models import ROLES, AuditEntry, StaffSession, StaffUser, utcnow

logger = logging.getLogger("clinic.staff")

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 10
# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile).
HASHER = PasswordHasher()
_dummy_hashes: Dict[Tuple[int, int], str] = {}


def _dummy_hash() -> str:
    """A hash verified when the username is unknown, so both cases take the same time."""
    key = (HASHER.time_cost, HASHER.memory_cost)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = HASHER.hash("not-a-real-password-" + secrets.token_hex(8))
    return _dummy_hashes[key]


class AccountError(ValueError):
    """A staff account could not be created as asked (the message says why)."""


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored lower-case and trimmed."""
    return (username or "").strip().lower()


def create_user(db: Session, username: str, password: str, role: str) -> StaffUser:
    """Add a staff member; AccountError when a value is not acceptable."""
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise AccountError(
            "Usernames are 3-64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    if role not in ROLES:
        raise AccountError(f"Role must be one of: {', '.join(ROLES)}.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if db.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise AccountError(f"A staff member called {username!r} already exists.")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role, active=True)
    db.add(user)
    db.flush()
    return user


def authenticate(db: Session, username: str, password: str) -> Optional[StaffUser]:
    """The active user with these credentials, or None (an unknown name costs the same argon2 check).

    Call it only after `SignInThrottle.reserve` let the attempt through.
    """
    username = normalise_username(username)[:64]
    user: Optional[StaffUser] = db.scalar(select(StaffUser).where(StaffUser.username == username))
    valid = verify_password(user.password_hash if user else _dummy_hash(), password or "")
    if not (user and user.active and valid):
        return None
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Session, user: StaffUser, lifetime: timedelta) -> Tuple[str, StaffSession]:
    """A new session for `user`; returns the secret token (for the cookie) and the row."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = StaffSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_hex(32),  # hex: never looks like a phone number to the masking
        created_at=now,
        expires_at=now + lifetime,
    )
    db.add(row)
    db.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    return token, row


def resolve_session(db: Session, token: str) -> Optional[Tuple[StaffUser, StaffSession]]:
    """The user and session behind a cookie token, if the session is live and the user active."""
    row = db.get(StaffSession, _token_hash(token))
    if row is None or row.expires_at <= utcnow():
        return None
    user = db.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None
    return user, row


def end_session(db: Session, token: str) -> None:
    """Sign out: the token stops working at once."""
    db.execute(delete(StaffSession).where(StaffSession.token_hash == _token_hash(token)))


def csrf_matches(expected: str, submitted: object) -> bool:
    """Constant-time comparison of a submitted CSRF token.

    Whatever the form held: an uploaded file or non-ASCII text is a mismatch, never an error.
    """
    if not expected or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), submitted.encode("utf-8"))


def audit(
    db: Session,
    action: str,
    outcome: str = "ok",
    username: Optional[str] = None,
    target: Optional[str] = None,
    client_ip: Optional[str] = None,
    detail: Optional[str] = None,
) -> AuditEntry:
    """Record who did (or was refused) what; refusals are also logged as warnings.

    Targets and details are masked (a phone number typed into a URL stays out of the log in clear);
    conversations appear by their opaque key.
    """
    entry = AuditEntry(
        at=utcnow(),
        username=username,
        action=action[:64],
        target=mask_text(target[:128]) if target else None,
        outcome=outcome,
        client_ip=(client_ip or "")[:64] or None,
        detail=mask_text(detail[:2000]) if detail else None,
    )
    db.add(entry)
    if outcome != "ok":
        logger.warning(
            "staff console refused %r for %s from %s: %s",
            action[:80], username or "-", client_ip, entry.detail or outcome,
        )
    return entry


def list_users(db: Session) -> List[StaffUser]:
    """Every staff account, by username."""
    return list(db.scalars(select(StaffUser).order_by(StaffUser.username)))


def expire_sessions_before(db: Session, moment: datetime) -> int:
    """Delete sessions that expired before `moment` (housekeeping)."""
    deleted: int = db.execute(delete(StaffSession).where(StaffSession.expires_at < moment)).rowcount
    return deleted
