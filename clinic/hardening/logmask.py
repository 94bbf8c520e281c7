"""Mask phone numbers, e-mail addresses and names in every log line of a process.

Phone numbers and e-mail addresses are masked by the project's one masking (`clinic.masking.mask_text`:
`+44•••56`, `j•••@example.com`, linear time on any input); names, which only log lines need, here.
`install()` wraps the log record factory, so records from any logger (Rasa's structlog output,
Sanic, rasa_sdk, the clinic's own) are masked before any handler formats them.

Masking runs on the event loop (the record is made where the log call is), so its cost is bounded:
a message is cut to MAX_LOGGED_CHARS (a traceback to MAX_TRACEBACK_CHARS) before any pattern reads
it, and every pattern is linear: quantifiers are bounded and a match can only start where a run of
its characters starts, so no input makes one backtrack over the whole line (a 250,000-character
socket.io session id once froze Rasa for minutes here). tests/unit/test_regex_budget.py times each.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from clinic.masking import EMAIL_IN_TEXT as EMAIL  # noqa: F401  (the patterns the log masking uses)
from clinic.masking import PHONE_IN_TEXT as PHONE  # noqa: F401
from clinic.masking import mask_text

# "my name is Anna Berg", "I'm called Anna", "name: Anna", JSON "patient_name": "Anna Berg".
NAME_PHRASE = re.compile(
    r"(?i:\b(?:my name is|my name's|i am called|i'm called|this is|name\s{0,3}[:=]))\s{0,3}"
    r"(?P<name>[^\W\d_][\w'-]{0,40}(?:\s{1,3}[^\W\d_][\w'-]{0,40})?)"
)
# Words that end a name ("my name is Anna and ...").
NOT_NAMES = frozenset(
    "a an and the i im i'm my is it its from with on at in for but so to of here again please".split()
)
NAME_FIELD = re.compile(
    r"(?P<key>[\"']?\b(?:[a-z_]{0,40}_)?(?:name|first_name|last_name|full_name)[\"']?\s{0,3}[:=]\s{0,3})"
    r"(?P<quote>[\"'])(?P<name>[^\"']{1,80})(?P=quote)",
    re.IGNORECASE,
)
# What a log line may be before masking (and so in the log): enough for any real message.
MAX_LOGGED_CHARS = 4000
MAX_TRACEBACK_CHARS = 20000
MASK = "***"


def cap(text: str, limit: int = MAX_LOGGED_CHARS) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters not logged]"


def mask(text: str, limit: int = MAX_LOGGED_CHARS) -> str:
    """`text` (cut to `limit` characters) with e-mail addresses, phone numbers and names masked."""
    if not text:
        return text
    text = mask_text(cap(text, limit))
    text = NAME_FIELD.sub(lambda m: f"{m.group('key')}{m.group('quote')}{MASK}name{MASK}{m.group('quote')}",
                          text)
    return NAME_PHRASE.sub(_name, text)


def _name(match: re.Match[str]) -> str:
    whole: str = match.group(0)
    words = match.group("name").split()
    if not words or words[0].lower() in NOT_NAMES:
        return whole
    rest = " " + words[1] if len(words) > 1 and words[1].lower() in NOT_NAMES else ""
    return whole[: match.start("name") - match.start(0)] + MASK + "name" + MASK + rest


_installed = False


def install() -> None:
    """Mask every log record created in this process from now on (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return record
        record.msg, record.args = mask(message), None
        if record.exc_text:
            record.exc_text = mask(record.exc_text, MAX_TRACEBACK_CHARS)
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True
