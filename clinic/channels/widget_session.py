"""Widget session ids the server issues: `web:<random>.<signature>`, HMAC-signed with a server secret.

The socket.io channel (clinic.channels.socketio) accepts a session id from a browser only if the
server issued it; any other id (a phone number, a guess, another browser's id with one character
changed, 250,000 characters) is replaced by a fresh one. The random part has 144 bits, so nobody
joins another browser's conversation by guessing. Pure functions, no Rasa imports.

The secret is WIDGET_SESSION_SECRET, else derived from RASA_AUTH_TOKEN (so every Rasa replica and
every restart accept the same ids), else random for this process (ids then last until a restart).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from typing import Mapping, Optional, TypeGuard

from clinic.channels.identity import WIDGET_PREFIX
from clinic.config import Settings, get_settings

logger = logging.getLogger(__name__)

MAX_SESSION_ID_CHARS = 100
RANDOM_BYTES = 18
SIGNATURE_CHARS = 22
_SHAPE = re.compile(r"web:[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{22}")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class WidgetSessions:
    """Issues and checks widget session ids."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("a widget session secret is needed")
        self._secret = secret

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> WidgetSessions:
        """The sessions of this process's settings (or of `environ`): see `from_settings`."""
        return cls.from_settings(get_settings(environ))

    @classmethod
    def from_settings(cls, settings: Settings) -> WidgetSessions:
        """WIDGET_SESSION_SECRET, else a key derived from RASA_AUTH_TOKEN, else a random one."""
        if settings.widget_session_secret:
            return cls(settings.widget_session_secret.encode())
        token = settings.rasa_auth_token
        if token:
            return cls(hmac.new(token.encode(), b"vitawell widget sessions", hashlib.sha256).digest())
        logger.warning("Neither WIDGET_SESSION_SECRET nor RASA_AUTH_TOKEN is set: widget sessions will not "
                       "survive a restart of this server.")
        return cls(secrets.token_bytes(32))

    def _signature(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest())[:SIGNATURE_CHARS]

    def issue(self) -> str:
        """A new session id."""
        body = WIDGET_PREFIX + _b64(secrets.token_bytes(RANDOM_BYTES))
        return f"{body}.{self._signature(body)}"

    def is_issued(self, session_id: object) -> TypeGuard[str]:
        """Whether this server (or one sharing its secret) issued `session_id`; length checked first."""
        if not isinstance(session_id, str) or len(session_id) > MAX_SESSION_ID_CHARS:
            return False
        if not _SHAPE.fullmatch(session_id):
            return False
        body, _, signature = session_id.rpartition(".")
        return hmac.compare_digest(signature, self._signature(body))
