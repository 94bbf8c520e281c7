"""Text-only messaging, pure Python: addresses, opt-out keywords, numbered options, SMS-sized parts.

Nothing here knows Rasa or Twilio, so every rule of the SMS/WhatsApp channel is unit-tested on its own.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence

from clinic.contract import ReminderAnswer, WaitlistAnswer
from clinic.masking import mask_contact

# Twilio refuses a message body over 1,600 characters (an SMS is then sent as up to 10 segments).
TWILIO_MAX_BODY = 1600
# Inbound texts longer than this are not passed to the assistant (Twilio's own SMS maximum).
MAX_INBOUND_CHARS = 1600

WHATSAPP_PREFIX = "whatsapp:"
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")

# Twilio's default keywords (Advanced Opt-Out). Only a message made of the keyword alone counts,
# as Twilio does: "cancel" opts out, "cancel my appointment" goes to the assistant.
OPT_OUT_KEYWORDS = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
)
# They opt an opted-out number back in; from anyone else they are ordinary messages ("yes" answers).
OPT_IN_KEYWORDS = frozenset({"start", "unstop", "yes"})

# Replies to an SMS reminder (domain/outbox.yml asks for C, R or X). "cancel" is not one: it is an opt-out
# keyword (Twilio's too), so cancelling is X.
# Keyed by the contract's values as plain strings: the answer becomes a Rasa entity's value.
REMINDER_REPLY_WORDS = {
    ReminderAnswer.CONFIRM.value: frozenset(
        {"c", "y", "yes", "confirm", "confirmed", "ok", "okay", "yes please"}
    ),
    ReminderAnswer.CANCEL.value: frozenset({"x"}),
    ReminderAnswer.RESCHEDULE.value: frozenset({"r", "reschedule", "rearrange", "change", "move"}),
}

# Answers to a texted waitlist offer ("Reply YES ... or NO").
OFFER_REPLY_WORDS = {
    WaitlistAnswer.ACCEPT.value: frozenset(
        {"yes", "y", "yes please", "ok", "okay", "c", "book it", "take it"}
    ),
    WaitlistAnswer.DECLINE.value: frozenset({"no", "n", "no thanks", "no thank you", "pass"}),
}

OPTION_TEMPLATE = "{number} for {title}"
OPTIONS_LEAD = "Reply "

# C0/C1 control characters (NUL breaks PostgreSQL text columns); newlines and tabs are kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Option:
    """A button rendered as a numbered option: the patient replies `number` or `title`."""

    number: int
    title: str
    payload: str

    def as_dict(self) -> Dict[str, Any]:
        """JSON-friendly form, as stored between turns."""
        return {"number": self.number, "title": self.title, "payload": self.payload}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> Option:
        """Inverse of `as_dict`."""
        return cls(int(data["number"]), str(data["title"]), str(data["payload"]))


@dataclass(frozen=True)
class RenderedReply:
    """What the patient receives for one turn: message bodies and the options they offer."""

    parts: List[str]
    options: List[Option]


def parse_address(raw: Optional[str]) -> Optional[str]:
    """The sender's address (`+447700900123` or `whatsapp:+447700900123`), or None if it isn't one."""
    if not raw:
        return None
    value = raw.strip()
    prefix = ""
    if value.lower().startswith(WHATSAPP_PREFIX):
        prefix, value = WHATSAPP_PREFIX, value[len(WHATSAPP_PREFIX):]
    if not _E164.fullmatch(value):
        return None
    return prefix + value


def is_whatsapp(address: str) -> bool:
    """Whether the address is a WhatsApp one (replies keep the `whatsapp:` prefix)."""
    return address.lower().startswith(WHATSAPP_PREFIX)


def mask_address(address: Optional[str]) -> str:
    """The address for application logs: `+44•••23` (the project's one masking, `clinic.masking`)."""
    return mask_contact(address[:64]) if address else "<none>"  # capped: From is the sender's to choose


def database_error(error: BaseException) -> str:
    """A database error for logs without its SQL parameters (they hold patients' numbers)."""
    return f"{type(error).__name__}: {getattr(error, 'orig', None) or 'database error'}"


def clean_inbound(body: str) -> str:
    """The patient's text without control characters, normalised (NFC) and trimmed."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", body)).strip()


_PUNCTUATION = str.maketrans("", "", string.punctuation + "\u2018\u2019\u201c\u201d")


def _normalise(text: str) -> str:
    """Case- and punctuation-insensitive form used to compare replies with keywords and titles."""
    return " ".join(text.casefold().translate(_PUNCTUATION).split())


def opt_keyword(body: str) -> Optional[str]:
    """`"opt_out"`, `"opt_in"` or None: the message is a bare opt-out/opt-in keyword (any case)."""
    word = _normalise(body)
    if word in OPT_OUT_KEYWORDS:
        return "opt_out"
    if word in OPT_IN_KEYWORDS:
        return "opt_in"
    return None


def reminder_reply(body: str) -> Optional[str]:
    """`"confirm"`, `"cancel"`, `"reschedule"` or None: the message is a bare reply word to a reminder."""
    word = _normalise(body)
    for answer, words in REMINDER_REPLY_WORDS.items():
        if word in words:
            return answer
    return None


def offer_reply(body: str) -> Optional[str]:
    """`"accept"`, `"decline"` or None: the message is a bare answer to a waitlist offer."""
    word = _normalise(body)
    for answer, words in OFFER_REPLY_WORDS.items():
        if word in words:
            return answer
    return None


def numbered_options(buttons: Iterable[Dict[str, Any]], first: int = 1) -> List[Option]:
    """Number a message's buttons from `first` (buttons without a payload are skipped)."""
    options: List[Option] = []
    for button in buttons:
        payload = button.get("payload")
        title = str(button.get("title") or payload or "").strip()
        if not payload or not title:
            continue
        options.append(Option(first + len(options), title, str(payload)))
    return options


def options_line(options: Sequence[Option]) -> str:
    """`Reply 1 for Hard, 2 for Soft, 3 for Not sure` (empty when there are no options)."""
    if not options:
        return ""
    return OPTIONS_LEAD + ", ".join(
        OPTION_TEMPLATE.format(number=o.number, title=o.title) for o in options
    )


def render_turn(messages: Iterable[Dict[str, Any]]) -> RenderedReply:
    """Render one turn of bot messages as text: buttons become numbered options, numbered across the turn.

    The whole turn is joined into as few Twilio messages as fit (several TwiML messages may arrive out
    of order), then split at the Twilio limit.
    """
    blocks: List[str] = []
    options: List[Option] = []
    for message in messages:
        text = str(message.get("text") or "").strip()
        buttons = message.get("buttons") or message.get("quick_replies") or []
        own = numbered_options(buttons, first=len(options) + 1)
        options.extend(own)
        block = "\n\n".join(part for part in (text, options_line(own)) if part)
        for key in ("image", "attachment"):
            if message.get(key):
                block = "\n".join(part for part in (block, str(message[key])) if part)
        if block:
            blocks.append(block)
    text = "\n\n".join(blocks)
    return RenderedReply(split_message(text) if text else [], options)


def choice_from_reply(body: str, options: Sequence[Option]) -> Optional[str]:
    """The payload the reply picks: its number ("1", "1.") or its title ("not sure", any case)."""
    if not options:
        return None
    reply = _normalise(body)
    if reply.isdigit():
        for option in options:
            if option.number == int(reply):
                return option.payload
        return None
    for option in options:
        if _normalise(option.title) == reply:
            return option.payload
    return None


def text_length(text: str) -> int:
    """Length as Twilio counts it (UTF-16 code units: an emoji can count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _pieces(text: str, limit: int) -> List[str]:
    """Cut `text` into pieces of at most `limit`: at paragraphs, then sentences, then words."""
    if text_length(text) <= limit:
        return [text]
    for separator, pattern in (("\n\n", r"\n\s*\n"), ("\n", r"\n"), (" ", r"(?<=[.!?])\s+"),
                               (" ", r"\s+")):
        chunks = [c for c in re.split(pattern, text) if c.strip()]
        if len(chunks) > 1:
            return _pack(chunks, separator, limit)
    # A single "word" longer than the limit (a URL, say): cut it.
    cut: List[str] = []
    current = ""
    for char in text:
        if text_length(current + char) > limit:
            cut.append(current)
            current = ""
        current += char
    return cut + ([current] if current else [])


def _pack(chunks: List[str], separator: str, limit: int) -> List[str]:
    """Greedily join chunks with `separator` into pieces of at most `limit`."""
    pieces: List[str] = []
    current = ""
    for chunk in chunks:
        for piece in _pieces(chunk.strip(), limit):
            candidate = f"{current}{separator}{piece}" if current else piece
            if text_length(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current)
                current = piece
    if current:
        pieces.append(current)
    return pieces


def split_message(text: str, limit: int = TWILIO_MAX_BODY) -> List[str]:
    """Split a reply into Twilio-sized messages at natural breaks, each marked `(1/3)` when split."""
    text = text.strip()
    if text_length(text) <= limit:
        return [text] if text else []
    marker_room = len("(99/99) ")
    pieces = _pieces(text, limit - marker_room)
    return [f"({i}/{len(pieces)}) {piece}" for i, piece in enumerate(pieces, start=1)]
