"""Configuration from the environment, with embedded defaults (no secrets in code)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """Everything the clinic's tools read from the environment."""

    database_url: str
    tracker_store_url: str
    rasa_url: str
    rasa_auth_token: str
    web_port: int
    # Rasa as browsers reach it (the chat widget); empty: the web page's own host on RASA_URL's port.
    rasa_public_url: str
    # The largest request body the web app reads (chunked bodies included); larger ones get 413.
    web_max_body_bytes: int = 64 * 1024
    # After the booking (issue 16): reminders, e-mail, the outbox worker.
    reminder_hours_before: float = 24.0
    smtp_url: str = ""  # smtp://host:port, smtp+starttls://user:pass@host:587, smtps://...; empty: no e-mail
    email_from: str = "Vitawell Clinic <bookings@vitawell.example>"
    outbox_max_attempts: int = 5
    outbox_claim_timeout_seconds: int = 300  # a claim older than this was a worker that died mid-send
    worker_poll_seconds: float = 10.0
    waitlist_hold_minutes: int = 30  # a freed time offered to a waitlisted patient is held this long

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings now (tests change the environment between runs)."""
        return cls(
            database_url=_env("DATABASE_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'clinic.db'}"),
            tracker_store_url=_env(
                "TRACKER_STORE_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"
            ),
            rasa_url=_env("RASA_URL", "http://localhost:5005"),
            rasa_auth_token=_env("RASA_AUTH_TOKEN", ""),
            web_port=int(_env("WEB_PORT", "8000")),
            rasa_public_url=_env("RASA_PUBLIC_URL", ""),
            web_max_body_bytes=int(_env("WEB_MAX_BODY_BYTES", str(64 * 1024))),
            reminder_hours_before=float(_env("REMINDER_HOURS_BEFORE", "24")),
            smtp_url=_env("SMTP_URL", ""),
            email_from=_env("CLINIC_EMAIL_FROM", "Vitawell Clinic <bookings@vitawell.example>"),
            outbox_max_attempts=max(1, int(_env("OUTBOX_MAX_ATTEMPTS", "5"))),
            outbox_claim_timeout_seconds=max(30, int(_env("OUTBOX_CLAIM_TIMEOUT_SECONDS", "300"))),
            worker_poll_seconds=max(0.5, float(_env("WORKER_POLL_SECONDS", "10"))),
            waitlist_hold_minutes=max(1, int(_env("WAITLIST_HOLD_MINUTES", "30"))),
        )
