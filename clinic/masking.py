"""The project's one way to mask patients' contact details: `+44•••56`, `j•••@example.com`.

Pure Python with no dependencies, so the staff console, the messaging channels and the log filter
all use it. `mask_contact` masks one value (a sender id, a booking's contact); `mask_text` masks every
phone number and e-mail address inside free text (messages, slot and entity values, log lines);
`mask_value` does the same inside lists and dicts.

The patterns run in linear time on any input (every repetition is bounded and a match can only start
where a word starts), so 100,000 characters of hostile text are masked in milliseconds.
"""

from __future__ import annotations

import re
from typing import Any, Optional

MASK = "•••"
# An e-mail address: RFC 5321's 64-character local part, up to 8 labels of up to 63 characters.
EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}(?![\w-])")
# A phone number: 7 to 15 digits, optionally after + (or `whatsapp:+`) or 00, with up to two spaces,
# dots, dashes, slashes or brackets between digits; never inside a word, a path or a longer number.
PHONE_IN_TEXT = re.compile(
    r"(?:(?<![\w+])(?:(?i:whatsapp):)?\+|(?<![\w.:/+-])(?:00)?)\(?\d(?:[\s().\-/]{0,2}\d){6,14}(?![\w:])"
)
# Found by PHONE_IN_TEXT but not phone numbers: 2026-11-26, 192.168.10.20, 0.9876543.
_NOT_A_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,3}(?:\.\d{1,3}){3}|\d{1,3}\.\d+")
_EMAIL = re.compile(r"(?<![^@\s])([^@\s]{1,64})@([^@\s]{1,253}\.[^@\s]{1,63})")
_PHONE = re.compile(r"\+?[\d\s().\-/]{7,30}")
_CHANNEL = re.compile(r"([A-Za-z]{1,16}):(.+)", re.DOTALL)


def _mask_phone(value: str) -> str:
    """+447700900123 -> +44•••23: enough to tell two numbers apart, not to call one."""
    digits = re.sub(r"\D", "", value)
    prefix = "+" if value.strip().startswith("+") else ""
    if len(digits) < 6:
        return MASK
    return f"{prefix}{digits[:2]}{MASK}{digits[-2:]}"


def _mask_email(local: str, domain: str) -> str:
    """jane.doe@example.com -> j•••@example.com."""
    return f"{local[0]}{MASK}@{domain}"


def mask_contact(value: Optional[str]) -> str:
    """A phone number, e-mail address, name or id, masked for someone who may not see it."""
    if not value:
        return ""
    value = str(value).strip()
    channel = _CHANNEL.fullmatch(value)
    if channel and channel.group(2):  # e.g. whatsapp:+4477...
        return f"{channel.group(1)}:{mask_contact(channel.group(2))}"
    email = _EMAIL.fullmatch(value)
    if email:
        return _mask_email(email.group(1), email.group(2))
    if _PHONE.fullmatch(value) and sum(c.isdigit() for c in value) >= 7:
        return _mask_phone(value)
    if len(value) <= 6:
        return MASK
    return f"{value[:3]}{MASK}{value[-2:]}"


def _phone_in_text(match: re.Match[str]) -> str:
    found: str = match.group(0)
    if _NOT_A_PHONE.fullmatch(found.lstrip("(")):
        return found
    return mask_contact(found)


def mask_text(text: str) -> str:
    """`text` with every e-mail address and phone number in it masked as `mask_contact` masks them."""
    if not text:
        return text
    text = EMAIL_IN_TEXT.sub(lambda m: mask_contact(m.group(0)), text)
    return PHONE_IN_TEXT.sub(_phone_in_text, text)


def mask_value(value: Any) -> Any:
    """`mask_text` applied to every string inside `value` (lists, tuples and dicts included)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_value(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(v) for v in value)
    return value


# Training data keeps no patient's details: fixed, obviously fictional stand-ins of the same kind, so the
# sentence still reads naturally (07700 900000 is in Ofcom's range reserved for drama).
PHONE_PLACEHOLDER = "07700 900000"
EMAIL_PLACEHOLDER = "patient@example.com"
NAME_PLACEHOLDER = "Sam"
_NAME_AFTER = re.compile(
    r"(?i:\b(my name is|my name's|name is|call me|this is|i am called|i'm called)\s+)"
    r"([A-Z][a-z'’-]{1,30}(?:\s+[A-Z][a-z'’-]{1,30}){0,2})"
)


def with_placeholders(text: str, names: tuple[str, ...] | list[str] = ()) -> str:
    """`text` with e-mail addresses, phone numbers and names replaced by placeholders.

    Names are those known for the conversation (`names`, e.g. the name given for a booking, whole words,
    any case) and capitalised words after "my name is", "call me", "this is"...
    """
    if not text:
        return text
    text = EMAIL_IN_TEXT.sub(EMAIL_PLACEHOLDER, text)
    text = PHONE_IN_TEXT.sub(lambda m: m.group(0) if _NOT_A_PHONE.fullmatch(m.group(0).lstrip("("))
                             else PHONE_PLACEHOLDER, text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) > 1}, key=len, reverse=True):
        parts = [re.escape(p) for p in name.split()]
        whole = r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)"
        text = re.sub(whole, NAME_PLACEHOLDER, text, flags=re.IGNORECASE)
        for part in name.split():  # a first or last name on its own
            if len(part) > 2:
                alone = r"(?<!\w)" + re.escape(part) + r"(?!\w)"
                text = re.sub(alone, NAME_PLACEHOLDER, text, flags=re.IGNORECASE)
    return _NAME_AFTER.sub(lambda m: f"{m.group(1)} {NAME_PLACEHOLDER}", text)
