"""What the integration tests read in the bot's replies, in one place.

Which response the patient got is read from the conversation's tracker by name (`responded`,
`conversation_responses`): Rasa 3.6 records the name in each bot message's event (`metadata.utter_action`),
whether a rule, a policy or a custom action (`dispatcher.utter_message(response=...)`) chose it. The
wording (`texts`) is asserted only where the wording is the point: a safety warning's key words, the
clinic's details from config/clinic.yml, what the patient's booking says.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Dict, Iterable, List, Tuple

# A booking reference as the confirmation gives it.
REFERENCE = re.compile(r"\bVW-[A-Z0-9]{6}\b")
# A bot message no domain response produced: a member of staff's reply, a text the clinic sent.
NO_RESPONSE = "(text)"


def responses(events: Iterable[Dict[str, Any]]) -> List[str]:
    """The responses (utter_...) the bot's messages among tracker `events` came from, in order."""
    return [
        (event.get("metadata") or {}).get("utter_action") or NO_RESPONSE
        for event in events if event.get("event") == "bot"
    ]


def conversation_responses(tracker: Dict[str, Any]) -> List[str]:
    """Every response the bot gave in the conversation (a tracker as the HTTP API returns it)."""
    return responses(tracker.get("events") or [])


def turn_responses(tracker: Dict[str, Any]) -> List[str]:
    """The responses that answered the patient's latest message, in order.

    Those the bot gave after it and, before it, those of the session the message started (the disclaimer).
    """
    events = tracker.get("events") or []
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if not users:
        return responses(events)
    latest, previous = users[-1], users[-2] if len(users) > 1 else -1
    start = latest + 1
    for i in range(previous + 1, latest):
        if events[i].get("event") == "action" and events[i].get("name") == "action_session_start":
            start = i
    return responses(events[start:])


def responded(assistant, sender: str) -> List[str]:
    """The responses of the conversation's latest turn, read from its tracker.

    A message the channel refuses before Rasa reads it (too long, too fast) never reaches the tracker:
    its answer is read in the channel's reply.
    """
    return turn_responses(assistant.tracker(sender))


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
    assert responded(assistant, sender) == ["utter_ask_patient_name"], texts(reply)
    reply = assistant.say(sender, "Jane Doe")
    if responded(assistant, sender) == ["utter_ask_patient_contact"]:  # not yet known in this conversation
        reply = assistant.say(sender, "07911 123456")
    assert responded(assistant, sender) == ["utter_booking_summary"], texts(reply)
    assert "+44 7911 123456" in texts(reply), texts(reply)  # the number as it will be used
    reply = assistant.say(sender, "/affirm")
    said = texts(reply)
    match = REFERENCE.search(said)
    assert match, said
    return match.group(0), day, said


def asked_screening(assistant, sender: str) -> bool:
    """Whether the bot's latest turn asked the warning-signs screening question."""
    return "utter_ask_warning_signs" in responded(assistant, sender)


def screened(assistant, sender: str, reply: List[Dict[str, Any]], answer: str = "no, none of these"):
    """The bot's reply once the screening question is answered (asserting that it was asked)."""
    assert asked_screening(assistant, sender), texts(reply)
    return assistant.say(sender, answer)
