"""Text a patient outside their own turn (a staff reply, a confirmation), through the Rasa server.

The message is appended to the patient's conversation as a bot event with side effects, so Rasa hands
it to the Twilio output channel (`output_channel=twilio`), which renders it as text, refuses opted-out
numbers and sends it through the Twilio REST API off the event loop. The conversation keeps a record.
A response defined in the domain can be sent the same way with Rasa's
`POST /conversations/{id}/trigger_intent?output_channel=twilio` (an external event and its rule).
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import httpx

from clinic.channels.identity import TWILIO, output_channel_for
from clinic.config import Settings, get_settings


def conversation_url(rasa_url: str, conversation_id: str, endpoint: str) -> str:
    """URL of a conversation endpoint for an id such as `+44...` or `whatsapp:+44...`.

    Rasa does not percent-decode the id in the path, so `+` and `:` stay as they are.
    """
    return f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='+:@')}/{endpoint}"


def send_bot_message(
    conversation_id: str,
    text: str,
    buttons: Optional[List[Dict[str, str]]] = None,
    settings: Optional[Settings] = None,
    timeout: float = 15.0,
) -> Dict[str, Any]:
    """Send `text` (and buttons, shown as numbered options) to an SMS/WhatsApp conversation.

    Returns the conversation's tracker as Rasa answers it; raises `httpx.HTTPError` if Rasa refuses,
    `ValueError` for an id that is not an SMS/WhatsApp conversation's (nothing is sent).
    Nothing reaches an opted-out number (the channel logs and drops it).
    """
    if output_channel_for(conversation_id) != TWILIO:
        raise ValueError("not an SMS/WhatsApp conversation id (+44... or whatsapp:+44...)")
    settings = settings or get_settings()
    event: Dict[str, Any] = {"event": "bot", "text": text, "timestamp": time.time()}
    if buttons:
        event["data"] = {"buttons": buttons}
    response = httpx.post(
        conversation_url(settings.rasa_url, conversation_id, "tracker/events"),
        params={"token": settings.rasa_auth_token, "output_channel": "twilio",
                "execute_side_effects": "true"},
        json=[event],
        timeout=timeout,
    )
    response.raise_for_status()
    return response.json()
