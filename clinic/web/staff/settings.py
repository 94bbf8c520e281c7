"""The staff console's configuration, from the environment with embedded defaults."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from typing import Optional

from clinic.config import Settings

logger = logging.getLogger("clinic.staff")
SWITCH = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}


@dataclass(frozen=True)
class StaffSettings:
    """Secrets, lifetimes and the stores the console reads."""

    secret_key: str
    session_minutes: int
    # None: Secure unless the console is served on localhost (decided per request by its host).
    cookie_secure: Optional[bool]
    database_url: str
    tracker_store_url: str
    rasa_url: str
    rasa_auth_token: str
    # Password checks (argon2, 64 MiB and ~0.1 s each) run at once per process; more get 503 at once.
    password_checks: int = 4
    # The inbox reloads itself this often (a meta refresh: the console runs no script).
    inbox_refresh_seconds: int = 30

    @classmethod
    def from_env(cls) -> StaffSettings:
        """Read the environment now; an unset STAFF_SECRET_KEY gets a throw-away one (with a warning)."""
        base = Settings.from_env()
        secret = os.environ.get("STAFF_SECRET_KEY", "").strip()
        if not secret:
            secret = secrets.token_urlsafe(32)
            logger.warning("STAFF_SECRET_KEY is not set: staff sessions end when the web app restarts.")
        minutes = os.environ.get("STAFF_SESSION_MINUTES", "").strip()
        secure = os.environ.get("STAFF_COOKIE_SECURE", "").strip().lower()
        checks = os.environ.get("STAFF_PASSWORD_CHECKS", "").strip()
        refresh = os.environ.get("STAFF_INBOX_REFRESH_SECONDS", "").strip()
        return cls(
            secret_key=secret,
            session_minutes=int(minutes) if minutes.isdigit() and int(minutes) > 0 else 480,
            cookie_secure=SWITCH.get(secure),
            password_checks=int(checks) if checks.isdigit() and int(checks) > 0 else 4,
            inbox_refresh_seconds=int(refresh) if refresh.isdigit() and int(refresh) > 0 else 30,
            database_url=base.database_url,
            tracker_store_url=base.tracker_store_url,
            rasa_url=base.rasa_url,
            rasa_auth_token=base.rasa_auth_token,
        )
