"""The REST channel, as the clinic runs it (credentials.yml: `clinic.channels.rest.ClinicRestInput`).

Rasa's `RestInput` (`POST /webhooks/rest/webhook`, same URL and body), with three changes:

- Sender ids in another channel's namespace (SMS/WhatsApp numbers, `whatsapp:...`, the widget's
  `web:...` sessions, reserved prefixes; clinic.channels.identity) are refused with a 400 that says
  why. Other ids are used exactly as sent.
- The body's `input_channel` and `metadata` are ignored: every message is recorded as `rest`, so a
  REST client cannot make a conversation look like an SMS one (and a staff reply text a number).
- `REST_CHANNEL=off` turns the channel off (404 on its routes) for clinics that only use the widget
  and SMS.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from clinic.channels import identity
from clinic.config import get_settings

logger = logging.getLogger(__name__)


def refusal(status: int, reason: str, message: str) -> HTTPResponse:
    """Rasa's error shape, with a message a developer can act on."""
    return response.json(
        {"status": "failure", "reason": reason, "message": message, "code": status}, status=status
    )


class ClinicRestInput(RestInput):
    """Rasa's REST channel with the clinic's identity rules (see the module docstring)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    @classmethod
    def name(cls) -> str:
        """Same name and URL prefix as Rasa's REST channel (`/webhooks/rest/`)."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> ClinicRestInput:
        """On unless REST_CHANNEL=off."""
        enabled = get_settings().rest_channel_enabled
        if not enabled:
            logger.info("REST channel turned off (REST_CHANNEL=off).")
        return cls(enabled)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST routes behind the namespace check (or refused altogether when turned off)."""

        async def as_rest_message(message: UserMessage) -> Any:
            # Whatever the body said: recorded as a REST message, without client metadata.
            message.input_channel = self.name()
            message.metadata = None
            return await on_new_message(message)

        webhook = super().blueprint(as_rest_message)

        async def check(request: Request) -> Optional[HTTPResponse]:
            if not self.enabled:
                return refusal(404, "ChannelOff", "The REST channel is turned off on this server.")
            if request.method != "POST":
                return None
            try:
                body = json.loads(request.body) if request.body else None
            except ValueError:  # the HTTP guards answer malformed bodies (clinic.hardening.http)
                return None
            sender = body.get("sender") if isinstance(body, dict) else None
            reason = identity.check_rest_sender(sender)
            if reason:
                logger.warning("REST channel refused a message: %s.", reason)
                return refusal(400, "SenderNotAllowed", f"Refused: {reason}.")
            return None

        webhook.middleware(check, "request")
        return webhook
