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

from clinic.channels.identity import TWILIO, output_channel_for
from clinic.config import Settings, get_settings
from clinic.rasa_api import post_events


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
    return post_events(settings.rasa_url, settings.rasa_auth_token, conversation_id, [event],
                       {"output_channel": "twilio", "execute_side_effects": "true"}, timeout=timeout)
