"""Which channel a conversation id belongs to: one id, one channel, so nobody writes as another patient.

- SMS and WhatsApp conversations are keyed by the sender's number as Twilio signs it (`+447700900123`,
  `whatsapp:+447700900123`): only the Twilio channel, whose requests are signed, may use such ids.
- Widget conversations are keyed by ids the server issues (`web:...`, clinic.channels.widget_session):
  only the socket.io channel may use them.
- Every other id is a REST conversation, kept exactly as the client sent it.

The REST channel refuses ids of another channel's namespace (`reserved_namespace`), and proactive
messages (staff replies) go out on the channel the id belongs to (`output_channel_for`), never on the
channel the conversation's latest message claimed to come from. Pure functions, no Rasa imports; the
id is length-checked before any pattern reads it.
"""

from __future__ import annotations

import re
from typing import Optional, Set

MAX_SENDER_ID_CHARS = 200

TWILIO = "twilio"
SOCKETIO = "socketio"
REST = "rest"

WHATSAPP_PREFIX = "whatsapp:"
# The prefix of the widget's server-issued session ids (clinic.channels.widget_session).
WIDGET_PREFIX = "web:"
# Prefixes the project keeps for channels (present or planned), compared without case or spaces.
RESERVED_PREFIXES = (WHATSAPP_PREFIX, WIDGET_PREFIX, "sms:", "tel:", "twilio:", "socketio:", "messenger:")
# A phone number in any notation: an optional + or 00, 7 to 15 digits with separators between them.
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]{7,40}")
_DIGIT = re.compile(r"\d")


def looks_like_phone_number(sender_id: str) -> bool:
    """Whether the id is (or could be read as) a phone number: `+44...`, `0044 ...`, `07911 123456`."""
    value = sender_id.strip()
    if value.startswith("+"):
        return True
    return bool(_PHONE_LIKE.fullmatch(value)) and 7 <= len(_DIGIT.findall(value)) <= 15


def reserved_namespace(sender_id: str) -> Optional[str]:
    """Whose namespace `sender_id` is in, if not the REST channel's (said in the refusal), else None.

    Ids longer than MAX_SENDER_ID_CHARS are refused before anything reads them (see `check_rest_sender`).
    """
    value = sender_id.strip().lower()
    if value.startswith(WIDGET_PREFIX):
        return "the chat widget's sessions"
    if value.startswith(WHATSAPP_PREFIX) or looks_like_phone_number(value):
        return "SMS and WhatsApp numbers"
    if value.startswith(RESERVED_PREFIXES):
        return "a prefix reserved for the clinic's channels"
    return None


def check_rest_sender(sender_id: object) -> Optional[str]:
    """Why the REST channel refuses this sender id (a sentence for the client), or None if it may use it."""
    if not isinstance(sender_id, str) or not sender_id.strip():
        return "sender must be a non-empty string"
    if len(sender_id) > MAX_SENDER_ID_CHARS:
        return f"sender must be at most {MAX_SENDER_ID_CHARS} characters"
    owner = reserved_namespace(sender_id)
    if owner:
        return (f"sender ids of {owner} belong to another channel and cannot be used over REST; "
                "choose another id")
    return None


def output_channel_for(sender_id: str, recorded_channel: Optional[str] = None) -> str:
    """The channel proactive messages to this conversation go out on (Rasa's `output_channel`).

    SMS/WhatsApp ids -> `twilio`, widget sessions -> `socketio`; any other id is a REST conversation
    (`rest` only records the message: a REST client has no address to push to), or a widget session
    from before the server issued them, when the conversation's recorded channel says `socketio`.
    Never `twilio` for an id that is not a number Twilio signed for.
    """
    if len(sender_id) > MAX_SENDER_ID_CHARS:
        return REST
    value = sender_id.strip().lower()
    if value.startswith(WIDGET_PREFIX):
        return SOCKETIO
    if value.startswith(WHATSAPP_PREFIX) or value.startswith("+"):
        return TWILIO
    return SOCKETIO if recorded_channel == SOCKETIO else REST


def allowed_output_channels(sender_id: str) -> Set[str]:
    """The output channels the HTTP API may use for this conversation id."""
    channel = output_channel_for(sender_id)
    return {REST, SOCKETIO} if channel == REST else {channel}
