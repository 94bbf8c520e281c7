"""Names, mobile numbers and emails as patients type them, validated and normalised.

Mobiles are stored in E.164 (`phonenumbers`), read in the clinic's default region
(CLINIC_PHONE_REGION, GB unless set), so "07911 123456" becomes "+447911123456".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from clinic.config import get_settings

MAX_NAME_LENGTH = 80
MAX_NAME_WORDS = 6
MAX_CONTACT_TEXT = 200
MAX_EMAIL_LENGTH = 254
MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}

# Linear on any text: the local part (at most 64 characters, RFC 5321) starts where a run of its
# characters starts, labels are at most 63 characters (tests/unit/test_regex_budget.py).
_EMAIL = re.compile(r"(?<![A-Za-z0-9.!#$%&'*+/=?^_`{|}~-])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
                    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}\.[A-Za-z]{2,63}")
_NAME_INTRO = re.compile(
    r"^(?:(?:hi|hello|hey|ok|okay|sure|yes)[,.!]?\s+)?(?:my name is|my name's|name is|name's|i am|i'm|im|"
    r"it's|its|this is|call me)(?:\s+|$)",
    re.IGNORECASE,
)
# Words of replies, not of names ("no thanks", "stop", "cancel it").
NOT_NAMES = frozenset({
    "yes", "no", "ok", "okay", "sure", "hi", "hello", "hey", "thanks", "thank", "yeah", "yep", "nope",
    "nah", "stop", "cancel", "book", "help", "what", "why", "maybe", "don't", "dont", "not", "please",
    "appointment", "booking", "changed", "mind", "forget",
})
_NAME_PART = re.compile(r"^[^\W\d_]+(?:['’.-][^\W\d_]*)*\.?$")


def default_region() -> str:
    """The region numbers without a country code are read in (CLINIC_PHONE_REGION, default GB)."""
    return get_settings().clinic_phone_region


class InvalidName(ValueError):
    """Not a usable name; `reason` is empty, too_long or not_a_name."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidContact(ValueError):
    """Not a usable contact; `reason` is empty, too_long, not_a_number, landline or not_an_email."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Contact:
    """A validated contact: a mobile in E.164, or a lower-case email."""

    kind: str  # phone | email
    value: str

    @classmethod
    def stored(cls, value: str) -> Contact:
        """A contact as `parse_contact` stored it (on a booking, in a slot): an email has an @."""
        return cls("email" if "@" in value else "phone", value)

    def display(self) -> str:
        """How the patient reads it back ("+44 7911 123456")."""
        if self.kind == "phone":
            number = phonenumbers.parse(self.value)
            return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        return self.value


def parse_name(text: str) -> str:
    """The patient's name, tidied ("my name is jane  smith" -> "jane smith"); InvalidName otherwise."""
    cleaned = unicodedata.normalize("NFC", " ".join((text or "").split()))
    if len(cleaned) > MAX_NAME_LENGTH * 2:
        raise InvalidName("too_long")
    cleaned = _NAME_INTRO.sub("", cleaned).strip(" .,!")
    if not cleaned:
        raise InvalidName("empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidName("too_long")
    words = cleaned.split()
    if len(words) > MAX_NAME_WORDS or not all(_NAME_PART.match(word) for word in words):
        raise InvalidName("not_a_name")
    if any(word.casefold().strip(".!") in NOT_NAMES for word in words):
        raise InvalidName("not_a_name")
    return cleaned


def parse_contact(text: str, region: str | None = None) -> Contact:
    """A mobile number (E.164) or an email found in `text`; InvalidContact otherwise."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InvalidContact("empty")
    if len(cleaned) > MAX_CONTACT_TEXT:
        raise InvalidContact("too_long")
    if "@" in cleaned:
        match = _EMAIL.search(cleaned)
        if not match or len(match[0]) > MAX_EMAIL_LENGTH:
            raise InvalidContact("not_an_email")
        return Contact("email", match[0].lower())
    region = region or default_region()
    matcher = phonenumbers.PhoneNumberMatcher(cleaned, region, leniency=phonenumbers.Leniency.POSSIBLE)
    numbers = [match.number for match in matcher]
    if not numbers:
        try:
            numbers = [phonenumbers.parse(cleaned, region)]
        except phonenumbers.NumberParseException as error:
            raise InvalidContact("not_a_number") from error
    number = numbers[0]
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact("not_a_number")
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidContact("landline")
    return Contact("phone", phonenumbers.format_number(number, PhoneNumberFormat.E164))


def same_contact(stored: str, given: str, region: str | None = None) -> bool:
    """Whether what the patient typed is the contact stored on a booking."""
    try:
        return parse_contact(given, region).value == stored
    except InvalidContact:
        return False
