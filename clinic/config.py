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
        )
