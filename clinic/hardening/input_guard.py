"""What a patient's message may be: cleaned text, a length limit, and button payloads the bot offered.

Pure functions (no Rasa imports), property-tested with Hypothesis.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Set

from clinic.channels.identity import MAX_SENDER_ID_CHARS  # one limit for every channel
from clinic.config import DEFAULT_MAX_MESSAGE_CHARS  # MAX_MESSAGE_CHARS unless set

__all__ = ["MAX_SENDER_ID_CHARS"]

# Responses (domain/reliability.yml) for messages the assistant does not process.
EMPTY_MESSAGE = "utter_empty_message"
MESSAGE_TOO_LONG = "utter_message_too_long"

# Rasa reads "/intent{...}" as an intent with entities instead of words.
PAYLOAD_PREFIX = "/"
# Payloads any channel may send unprompted: harmless intents, no entities (the widget opens with /greet).
PUBLIC_PAYLOADS = frozenset({"/greet"})
_KEPT_CONTROLS = {"\n", "\t"}


def clean_text(text: Optional[str]) -> str:
    """NFC-normalised text without control characters, lone surrogates or non-characters; trimmed.

    Line breaks and tabs are kept; other control characters (NUL, escape sequences, ...) become
    spaces, so that a NUL between two words does not glue them together. Emoji and every script are kept.
    """
    if not text:
        return ""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs" or _is_noncharacter(char):
            continue
        if category == "Cc" and char not in _KEPT_CONTROLS:
            kept.append(" ")
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).strip()


def _is_noncharacter(char: str) -> bool:
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


@dataclass(frozen=True)
class Verdict:
    """The cleaned text, or the response to send instead of processing the message."""

    text: str
    refusal: Optional[str] = None


def check_message(text: Optional[str], max_chars: int = DEFAULT_MAX_MESSAGE_CHARS) -> Verdict:
    """Clean `text`; refuse it if nothing is left or it is longer than `max_chars`."""
    if text is not None and not isinstance(text, str):
        return Verdict("", EMPTY_MESSAGE)
    cleaned = clean_text(text)
    if not cleaned:
        return Verdict("", EMPTY_MESSAGE)
    if len(cleaned) > max_chars:
        return Verdict(cleaned[:max_chars], MESSAGE_TOO_LONG)
    return Verdict(cleaned)


def looks_like_payload(text: Optional[str]) -> bool:
    """Whether Rasa would try to read `text` as an "/intent{...}" payload."""
    return bool(text and text.strip().startswith(PAYLOAD_PREFIX))


def offered_payloads(bot_messages: Iterable[Mapping[str, Any]]) -> Set[str]:
    """Payloads of the buttons and quick replies in the bot's messages (BotUttered data)."""
    payloads: Set[str] = set()
    for data in bot_messages:
        for key in ("buttons", "quick_replies"):
            for button in (data or {}).get(key) or []:
                payload = button.get("payload") if isinstance(button, Mapping) else None
                if isinstance(payload, str):
                    payloads.add(payload.strip())
    return payloads


def is_offered(text: str, offered: Set[str]) -> bool:
    """Whether `text` is exactly a payload the bot offered (JSON spacing may differ)."""
    text = text.strip()
    allowed = set(offered) | PUBLIC_PAYLOADS
    return text in allowed or _canonical_payload(text) in {_canonical_payload(p) for p in allowed}


_PAYLOAD = re.compile(r"^(?P<intent>/[^{@]+)(?P<rest>.*)$", re.DOTALL)


def _canonical_payload(payload: str) -> str:
    match = _PAYLOAD.match(payload)
    if not match:
        return payload
    rest = match.group("rest").strip()
    if rest.startswith("{"):
        try:
            rest = json.dumps(json.loads(rest), sort_keys=True, separators=(",", ":"))
        except ValueError:
            pass
    return match.group("intent").strip() + rest


@dataclass(frozen=True)
class WebhookBody:
    """A REST webhook body that is safe to hand to Rasa."""

    sender: str
    message: Optional[str]


class BadWebhookBody(ValueError):
    """The body is not what the REST channel expects."""


def parse_rest_body(raw: bytes) -> WebhookBody:
    """Check a REST webhook body: a JSON object with a string sender and an optional string message."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError) as error:
        raise BadWebhookBody("not JSON") from error
    if not isinstance(body, dict):
        raise BadWebhookBody("not a JSON object")
    sender = body.get("sender")
    if not isinstance(sender, str):
        raise BadWebhookBody("sender is missing or not a string")
    if not (0 < len(sender.strip()) <= MAX_SENDER_ID_CHARS):
        raise BadWebhookBody("sender is empty or too long")
    if clean_text(sender) != sender.strip():
        raise BadWebhookBody("sender has control characters")
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise BadWebhookBody("message is not a string")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadWebhookBody("metadata is not an object")
    return WebhookBody(sender=sender, message=message)
