"""Opaque conversation keys: what a conversation's URL and the audit log show instead of its sender id."""

from __future__ import annotations

import hashlib
import hmac


def conversation_key(secret: str, sender_id: str) -> str:
    """An opaque, unguessable id for a conversation's URL and the audit log (no phone numbers)."""
    digest = hmac.new(secret.encode(), b"conversation:" + sender_id.encode(), hashlib.sha256)
    return digest.hexdigest()[:24]
