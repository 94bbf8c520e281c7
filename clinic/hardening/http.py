"""Guards on the Rasa server's HTTP layer (Sanic middleware), installed by the launcher.

- Model changes over the HTTP API (upload, unload, training, tests) are refused, token or not:
  a new model is deployed as a file and the server restarted.
- Browser-facing channels (REST, socket.io) are limited per client address (RATE_LIMIT_PER_IP);
  behind a trusted proxy (RATE_LIMIT_TRUSTED_PROXIES) the address comes from X-Forwarded-For, and the
  proxy's own requests (no X-Forwarded-For) are not limited per address (still per conversation).
- A malformed REST webhook body gets a 400 with a polite message instead of a 500 or silence.
- Request bodies are limited to MAX_REQUEST_BYTES.
- Proactive messages over the HTTP API (`?output_channel=...`) go out only on the channel the
  conversation id belongs to (clinic.channels.identity): `latest`, or another channel, gets a 400, so a
  conversation whose latest message claimed to be an SMS cannot make the clinic text a number.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any, Dict, List, Optional

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from clinic.channels.identity import allowed_output_channels
from clinic.config import Settings, get_settings
from clinic.hardening import input_guard
from clinic.hardening.ratelimit import rate_limiter
from clinic.nlg import response_text
from clinic.rasa_adapter.server import agent_of

logger = logging.getLogger(__name__)

REST_WEBHOOK = "/webhooks/rest/webhook"
# Browser-facing channels are limited per address. Not Twilio's webhook: all SMS/WhatsApp traffic comes
# from Twilio's few addresses (its channel checks Twilio's signature; conversations are still limited).
ADDRESS_LIMITED_PREFIXES = ("/webhooks/rest/", "/socket.io/")
BAD_REQUEST = "utter_bad_request"
SLOW_DOWN = "utter_slow_down"
CONVERSATIONS = "/conversations/"


def model_change_refused(method: str, path: str) -> bool:
    """Whether the request would load, unload, train or test a model."""
    path = path.rstrip("/") or "/"
    return (
        (method in ("PUT", "DELETE") and path == "/model")
        or (method == "POST" and (path == "/model/train" or path.startswith("/model/test")))
    )


def output_channel_refusal(path: str, requested: Optional[str]) -> Optional[str]:
    """Why `?output_channel=requested` on this HTTP API path is refused, or None if it is allowed."""
    if requested is None or not path.startswith(CONVERSATIONS):
        return None
    conversation_id = path[len(CONVERSATIONS):].split("/", 1)[0]
    allowed = allowed_output_channels(conversation_id)
    if requested in allowed:
        return None
    return (f"output_channel must be this conversation's own channel ({' or '.join(sorted(allowed))}), "
            f"not {requested[:40]!r}: the channel comes from the conversation id, never its latest message")


def client_address(peer: str, forwarded_for: Optional[str], trusted_proxies: List[str]) -> str:
    """The client's address: the peer's, or the last X-Forwarded-For hop when the peer is a trusted proxy."""
    if forwarded_for and peer in trusted_proxies:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                break
            if hop not in trusted_proxies:
                return hop
    return peer


def _response_text(app: Sanic, name: str) -> Optional[str]:
    return response_text(agent_of(app), name)


def _bot_reply(app: Sanic, name: str, status: int, recipient: Optional[str] = None) -> HTTPResponse:
    """A REST-channel-shaped reply: a list of bot messages, so a chat widget can show it."""
    text = _response_text(app, name)
    messages: List[Dict[str, Any]] = [{"recipient_id": recipient, "text": text}] if text else []
    return response.json(messages, status=status)


def install(app: Sanic, settings: Optional[Settings] = None) -> None:
    """Register the guards on the Rasa server's Sanic app (with this process's settings unless given)."""
    settings = settings or get_settings()
    app.config.REQUEST_MAX_SIZE = settings.max_request_bytes
    ip_limiter = rate_limiter(settings.rate_limit_per_ip, "ip", settings)
    proxies = settings.trusted_proxies

    async def guard(request: Request) -> Optional[HTTPResponse]:
        path = request.path
        if model_change_refused(request.method, path):
            logger.warning("Refused %s %s: model changes over the API are disabled.", request.method, path)
            return response.json(
                {
                    "status": "failure",
                    "reason": "ModelChangesDisabled",
                    "message": "Model changes over the HTTP API are disabled on this server. "
                    "Deploy the model file and restart the server instead.",
                    "code": 403,
                },
                status=403,
            )
        refused_channel = output_channel_refusal(path, request.args.get("output_channel"))
        if refused_channel:
            logger.warning("Refused %s %s: %s.", request.method, path[:120], refused_channel)
            return response.json(
                {"status": "failure", "reason": "OutputChannelRefused", "message": refused_channel,
                 "code": 400},
                status=400,
            )
        if not path.startswith(ADDRESS_LIMITED_PREFIXES):
            return None
        address = client_address(request.ip, request.headers.get("x-forwarded-for"), proxies)
        # A trusted proxy's own requests carry many clients: only the clients it names are limited.
        if address not in proxies and not await ip_limiter.acquire(address):
            logger.warning("Client %s is over its request rate limit.", address)
            return _bot_reply(request.app, SLOW_DOWN, 429)
        if request.method == "POST" and path.rstrip("/") == REST_WEBHOOK:
            # Request middleware runs before Sanic reads the body (and enforces REQUEST_MAX_SIZE: 413).
            await request.receive_body()  # type: ignore[no-untyped-call]  # (sanic leaves it unannotated)
            try:
                input_guard.parse_rest_body(request.body)
            except input_guard.BadWebhookBody as error:
                logger.info("Refused a REST webhook body: %s.", error)
                return _bot_reply(request.app, BAD_REQUEST, 400)
        return None

    app.register_middleware(guard, "request")
