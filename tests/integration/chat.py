"""What the integration tests read in the bot's replies, in one place."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Dict, List, Tuple

# A booking reference as the confirmation gives it.
REFERENCE = re.compile(r"\bVW-[A-Z0-9]{6}\b")


def texts(messages: List[Dict[str, Any]]) -> str:
    """The bot's messages' texts, joined."""
    return " ".join(m.get("text") or "" for m in messages)


def buttons(messages: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    """Every button the bot's messages offer."""
    return [b for m in messages for b in m.get("buttons") or []]


def time_payloads(messages: List[Dict[str, Any]]) -> List[str]:
    """The payloads of the free times offered as buttons."""
    return [b["payload"] for b in buttons(messages) if b["payload"].startswith("/choose_time")]


def listed(assistant, day: str) -> Dict[str, Dict[str, Any]]:
    """The clinic's `clinic bookings list --date DAY --json`, by reference."""
    rows = json.loads(assistant.clinic("bookings", "list", "--date", day, "--json"))
    return {row["reference"]: row for row in rows}


def new_sender(prefix: str = "patient") -> str:
    """A conversation id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def book_first_free_time(assistant, sender: str, reply: List[Dict[str, Any]]) -> Tuple[str, str, str]:
    """From the time offer to the confirmation, as Jane Doe on a mobile; (reference, day, confirmation)."""
    times = time_payloads(reply)
    assert len(times) >= 2, texts(reply)
    payload = times[1]
    day = json.loads(payload[len("/choose_time"):])["booking_time"][:10]
    reply = assistant.say(sender, payload)
    assert "name" in texts(reply), texts(reply)
    reply = assistant.say(sender, "Jane Doe")
    if "mobile number or email" in texts(reply):  # not yet known in this conversation
        reply = assistant.say(sender, "07911 123456")
    assert "Shall I book it?" in texts(reply) and "+44 7911 123456" in texts(reply), texts(reply)
    reply = assistant.say(sender, "/affirm")
    said = texts(reply)
    match = REFERENCE.search(said)
    assert match, said
    return match.group(0), day, said


SCREENING_QUESTION = "is any of these happening"


def asked_screening(messages: List[Dict[str, Any]]) -> bool:
    """Whether the bot asked the warning-signs screening question."""
    return SCREENING_QUESTION in texts(messages).lower()


def screened(assistant, sender: str, reply: List[Dict[str, Any]], answer: str = "no, none of these"):
    """The bot's reply once the screening question is answered (asserting that it was asked)."""
    assert asked_screening(reply), texts(reply)
    return assistant.say(sender, answer)
