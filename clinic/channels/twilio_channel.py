"""SMS and WhatsApp through Twilio: a signed, text-only, opt-out-aware Rasa input channel.

Registered in credentials.yml as `clinic.channels.twilio_channel.TwilioChannel`; its webhook is
`POST /webhooks/twilio/webhook`. Settings come from TWILIO_* environment variables (see
`TwilioSettings`); without an auth token the channel starts but refuses every request (403).

- Every request is checked against `X-Twilio-Signature` before anything else reads it.
- The conversation is keyed by the sender's address (`+447700900123` or `whatsapp:+447700900123`).
- Replies go back as TwiML in the webhook response; buttons become numbered options, and a reply of
  the number or the button's title picks the button's payload.
- STOP (and synonyms) and START (and synonyms) are stored; nothing is sent to an opted-out address.
- A message whose `MessageSid` was already handled in the last 48 hours (a replayed or retried
  request, on any replica: the clinic database's `messaging_inbound`) gets an empty answer and never
  reaches the bot twice.
- Requests without a valid signature are limited per client address (RATE_LIMIT_UNSIGNED_PER_IP,
  default 20 a minute): beyond it they get 429.
- A bare C / yes, X or R from a number whose SMS reminder (clinic/outbox) was sent in the last 48 hours and
  not answered yet, for an appointment still to come, is a reply to that reminder: it reaches the
  assistant as the `reminder_reply` intent with `reminder_answer` confirm / cancel / reschedule (parse data
  set here, so no NLU guess and no typed payload can stand in for it), in the patient's own conversation.
  Numbered options sent after the reminder take precedence (the conversation asked something since).
  A bare YES / NO to a live waitlist offer becomes `waitlist_reply` (`waitlist_answer` accept / decline)
  the same way, before the reminder words are considered (an offer is held for minutes only).
- Proactive messages (staff replies, confirmations) go out through `get_output_channel()`, which
  Rasa uses for `?output_channel=twilio` on its HTTP API (see README, "SMS and WhatsApp").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import parse_qs

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from clinic.booking.handlers import offer_awaiting_reply, reminder_awaiting_reply
from clinic.booking.unit_of_work import SqlAlchemyUnitOfWork
from clinic.channels.repository import MessagingRepository
from clinic.channels.sms_text import (
    MAX_INBOUND_CHARS,
    Option,
    choice_from_reply,
    clean_inbound,
    database_error,
    is_whatsapp,
    mask_address,
    offer_reply,
    opt_keyword,
    parse_address,
    reminder_reply,
    render_turn,
)
from clinic.channels.twilio_client import TwilioSender
from clinic.config import TwilioSettings, get_settings
from clinic.contract import Entity, Intent
from clinic.hardening.http import client_address
from clinic.hardening.ratelimit import rate_limiter
from clinic.nlg import response_text
from clinic.outbox.compose import MessagePolicy
from clinic.rasa_adapter.server import agent_of

logger = logging.getLogger(__name__)

CHANNEL_NAME = "twilio"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A signed Twilio message webhook is a few kB; anything far larger is refused before parsing.
MAX_REQUEST_BYTES = 256 * 1024

# Domain responses (domain/messaging.yml) the channel itself says.
OPTED_OUT = "utter_sms_opted_out"
OPTED_IN = "utter_sms_opted_in"
TEXT_ONLY = "utter_sms_text_only"
TOO_LONG = "utter_sms_too_long"
TROUBLE = "utter_sms_trouble"

# The intent and entity of a reply to an SMS reminder (domain/reminders.yml, actions/reminders.py).
# Plain strings: they go into the parse data Rasa stores.
REMINDER_REPLY_INTENT = Intent.REMINDER_REPLY.value
REMINDER_ANSWER_ENTITY = Entity.REMINDER_ANSWER.value
# ... and to a waitlist offer (domain/waitlist.yml, actions/waitlist.py).
WAITLIST_REPLY_INTENT = Intent.WAITLIST_REPLY.value
WAITLIST_ANSWER_ENTITY = Entity.WAITLIST_ANSWER.value

ResponseTexts = Callable[[str], Optional[str]]
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
# When the unanswered SMS reminder to a number was sent (None: no reminder awaits a reply).
ReminderLookup = Callable[[str, datetime], Optional[datetime]]


def reminder_parse_data(text: str, answer: str, intent_name: str = REMINDER_REPLY_INTENT,
                        entity_name: str = REMINDER_ANSWER_ENTITY) -> Dict[str, Any]:
    """What the assistant reads for a reply to a reminder: the patient's words, a sure intent, the answer."""
    intent = {"name": intent_name, "confidence": 1.0}
    entity = {"entity": entity_name, "value": answer, "start": 0, "end": len(text),
              "extractor": "TwilioChannel"}
    return {"text": text, "intent": intent, "intent_ranking": [intent], "entities": [entity]}


def reminder_lookup(repository: MessagingRepository) -> ReminderLookup:
    """Reminders looked up in the clinic database the channel already uses (the booking service layer)."""

    def unit_of_work() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(repository.sessions, MessagePolicy())

    return lambda address, now: reminder_awaiting_reply(unit_of_work, address, now)


def offer_lookup(repository: MessagingRepository) -> ReminderLookup:
    """Live waitlist offers, looked up in the same database."""

    def unit_of_work() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(repository.sessions, MessagePolicy.from_settings(get_settings()))

    return lambda address, now: offer_awaiting_reply(unit_of_work, address, now)


@dataclass(frozen=True)
class InboundRequest:
    """What the webhook needs from an HTTP request (kept apart from Sanic so it is unit-tested)."""

    url: str
    content_type: str
    body: bytes
    signature: Optional[str]
    client: str = ""


@dataclass(frozen=True)
class WebhookReply:
    """The HTTP answer to Twilio: TwiML (200) or a plain-text refusal (4xx/503)."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class _FormFields(Dict[str, List[str]]):
    """Form fields with every value of a repeated name, as `RequestValidator` reads a MultiDict."""

    def getall(self, name: str) -> List[str]:
        """All values of `name`."""
        return self[name]


def twiml(parts: List[str]) -> WebhookReply:
    """A TwiML answer that texts each part back to the sender (no part: no reply at all)."""
    reply = MessagingResponse()
    for part in parts:
        reply.message(part)
    return WebhookReply(200, str(reply), "text/xml; charset=utf-8")


def refuse(status: int, reason: str) -> WebhookReply:
    """A plain-text refusal; the request never reaches the assistant."""
    return WebhookReply(status, reason + "\n")


def domain_texts(agent: Any) -> ResponseTexts:
    """Look up a response's first text in the loaded model's domain (None if absent)."""

    def text_of(name: str) -> Optional[str]:
        text = response_text(agent, name)
        if text is None:
            logger.error("Response %s is missing from the loaded model's domain (retrain?).", name)
        return text

    return text_of


class TwilioOutput(OutputChannel):
    """Proactive messages through the Twilio REST API, rendered as text; never to an opted-out number."""

    def __init__(self, sender: TwilioSender) -> None:
        self.sender = sender

    @classmethod
    def name(cls) -> str:
        """Same name as the input channel, so `?output_channel=twilio` finds it."""
        return CHANNEL_NAME

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        """Render one bot message as text (numbered options included) and send it."""
        rendered = render_turn([message])
        if not rendered.parts:
            return
        delivered = True
        for part in rendered.parts:
            result = await self.sender.send_async(recipient_id, part)
            delivered = delivered and result.sent
        if delivered and rendered.options:
            await _in_executor(self.sender.repository.remember_reply_options, recipient_id,
                               rendered.options)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send a plain text."""
        await self.send_response(recipient_id, {"text": text})


async def _in_executor(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking call (database, Twilio REST) in the default executor."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


class TwilioChannel(InputChannel):
    """SMS and WhatsApp input channel: `POST /webhooks/twilio/webhook`."""

    @classmethod
    def name(cls) -> str:
        """URL prefix and channel name (`/webhooks/twilio/...`, `output_channel=twilio`)."""
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> TwilioChannel:
        """Settings from the environment (values in credentials.yml, if any, take precedence)."""
        settings = get_settings().twilio(credentials)
        if not settings.can_verify:
            logger.warning("Twilio channel: TWILIO_AUTH_TOKEN is not set, so every webhook request "
                           "will be refused (403).")
        return cls(settings)

    def __init__(
        self,
        settings: TwilioSettings,
        repository: Optional[MessagingRepository] = None,
        reminders: Optional[ReminderLookup] = None,
        offers: Optional[ReminderLookup] = None,
    ) -> None:
        if repository is None:
            from clinic.db.engine import session_factory

            repository = MessagingRepository(session_factory())
        self.settings = settings
        self.repository = repository
        self.reminders = reminders or reminder_lookup(repository)
        self.offers = offers or offer_lookup(repository)
        self.sender = TwilioSender(settings, repository)
        clinic_settings = get_settings()
        self.unsigned_limiter = rate_limiter(clinic_settings.rate_limit_unsigned_per_ip, "twilio-unsigned",
                                             clinic_settings)
        self.trusted_proxies = clinic_settings.trusted_proxies

    def get_output_channel(self) -> OutputChannel:
        """The REST output channel Rasa uses for proactive messages (`?output_channel=twilio`)."""
        return TwilioOutput(self.sender)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Routes under `/webhooks/twilio/`: a health check and the message webhook."""
        twilio_webhook = Blueprint("clinic_twilio_webhook", __name__)

        # (sanic types a route as Callable[..., ...], which strict mypy calls untyped)
        @twilio_webhook.route("/", methods=["GET"])  # type: ignore[untyped-decorator]
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "verifying": self.settings.can_verify,
                                  "sending": self.settings.can_send})

        @twilio_webhook.route("/webhook", methods=["POST"])  # type: ignore[untyped-decorator]
        async def webhook(request: Request) -> HTTPResponse:
            agent = agent_of(request.app)
            inbound = InboundRequest(
                url=request.url,
                content_type=request.headers.get("content-type", ""),
                body=request.body or b"",
                signature=request.headers.get("x-twilio-signature"),
                client=client_address(request.ip, request.headers.get("x-forwarded-for"),
                                      self.trusted_proxies),
            )
            try:
                reply = await self.handle(
                    inbound, on_new_message, domain_texts(agent), bool(agent and agent.is_ready())
                )
            except Exception:  # a last resort: Twilio gets a clear status, never a stack trace
                logger.exception("Twilio webhook failed.")
                reply = refuse(503, "Temporarily unavailable")
            return response.text(reply.body, status=reply.status, content_type=reply.content_type)

        return twilio_webhook

    def _verified_form(self, inbound: InboundRequest) -> WebhookReply | Dict[str, List[str]]:
        """The signed form fields, or the refusal to send back."""
        if not self.settings.can_verify:
            logger.warning("Twilio webhook refused a request: TWILIO_AUTH_TOKEN is not set, so its "
                           "signature cannot be checked.")
            return refuse(403, "Forbidden: this channel is not configured")
        media_type = inbound.content_type.split(";")[0].strip().lower()
        if media_type != FORM_CONTENT_TYPE:
            logger.warning("Twilio webhook refused a request with content type %r.", media_type[:60])
            return refuse(415, f"Unsupported media type: expected {FORM_CONTENT_TYPE}")
        if len(inbound.body) > MAX_REQUEST_BYTES:
            return refuse(413, "Request too large")
        try:
            form = _FormFields(parse_qs(inbound.body.decode("utf-8"), keep_blank_values=True,
                                        errors="strict", max_num_fields=200))
        except (UnicodeDecodeError, ValueError):
            logger.warning("Twilio webhook refused a request whose form is not valid UTF-8.")
            return refuse(400, "Bad request: malformed form")
        sender = mask_address((form.get("From") or [""])[0])
        if not inbound.signature:
            logger.warning("Twilio webhook refused an unsigned request (From %s).", sender)
            return refuse(403, "Forbidden: missing X-Twilio-Signature")
        url = self.settings.webhook_url or inbound.url
        if not RequestValidator(self.settings.auth_token).validate(url, form, inbound.signature):
            logger.warning("Twilio webhook refused a request with an invalid signature (From %s, "
                           "checked against %s).", sender, url)
            return refuse(403, "Forbidden: invalid X-Twilio-Signature")
        return form

    async def handle(
        self,
        inbound: InboundRequest,
        on_new_message: OnNewMessage,
        texts: ResponseTexts,
        ready: bool = True,
    ) -> WebhookReply:
        """Verify, then answer one inbound message (TwiML), honouring opt-outs and numbered options."""
        form = self._verified_form(inbound)
        if isinstance(form, WebhookReply):
            if form.status == 403 and not await self.unsigned_limiter.acquire(inbound.client):
                return refuse(429, "Too many requests without a valid signature")
            return form
        raw_sender = (form.get("From") or [""])[0]
        address = parse_address(raw_sender)
        if address is None:
            logger.warning("Twilio webhook: refused a message without a valid From (%s).",
                           mask_address(raw_sender))
            return refuse(400, "Bad request: From must be a phone number (E.164) or whatsapp:+number")
        if "Body" not in form:
            logger.warning("Twilio webhook: request from %s has no Body (not a message webhook?).",
                           mask_address(address))
            return refuse(400, "Bad request: missing Body")
        body = clean_inbound(form["Body"][0])
        message_sid = (form.get("MessageSid") or [""])[0][:64]
        try:
            if message_sid and not await _in_executor(self.repository.first_delivery, message_sid):
                logger.warning("Twilio webhook: message %s from %s was already handled (replayed or "
                               "retried); not answered again.", message_sid[:40], mask_address(address))
                return twiml([])
            return await self._answer(address, body, form, on_new_message, texts, ready)
        except SQLAlchemyError as error:
            logger.error("Twilio webhook: the messaging tables are unavailable (run `clinic db upgrade`?); "
                         "nothing sent to %s. %s", mask_address(address), database_error(error))
            return refuse(503, "Temporarily unavailable")

    async def _answer(
        self,
        address: str,
        body: str,
        form: Dict[str, List[str]],
        on_new_message: OnNewMessage,
        texts: ResponseTexts,
        ready: bool,
    ) -> WebhookReply:
        masked = mask_address(address)
        keyword = opt_keyword(body)
        if keyword == "opt_out":
            changed = await _in_executor(self.repository.set_opted_out, address, True, body.casefold())
            logger.info("%s opted out (%s).", masked, "recorded" if changed else "already opted out")
            return self._say(texts, OPTED_OUT) if changed else twiml([])
        opted_out = await _in_executor(self.repository.is_opted_out, address)
        if keyword == "opt_in" and opted_out:
            await _in_executor(self.repository.set_opted_out, address, False, body.casefold())
            logger.info("%s opted in.", masked)
            return self._say(texts, OPTED_IN)
        if opted_out:
            logger.info("Ignored a message from %s: opted out (START opts back in).", masked)
            return twiml([])
        if not body:
            logger.info("Message from %s has no text (media: %s).", masked,
                        (form.get("NumMedia") or ["0"])[0][:4])
            return self._say(texts, TEXT_ONLY)
        if len(body) > MAX_INBOUND_CHARS:
            logger.info("Message from %s is too long (%d characters).", masked, len(body))
            return self._say(texts, TOO_LONG)
        if not ready:
            logger.warning("Twilio webhook: no model loaded yet; message from %s not answered.", masked)
            return refuse(503, "Temporarily unavailable: the assistant is starting")

        options = await _in_executor(self.repository.reply_options, address)
        parse_data = await self._reminder_reply(address, body, options)
        text = body if parse_data else (choice_from_reply(body, options) or body)
        collector = CollectingOutputChannel()
        message_sid = (form.get("MessageSid") or [""])[0][:64] or None
        try:
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    address,
                    # Rasa's UserMessage defaults parse_data to None but annotates it Dict (implicit Optional)
                    parse_data=parse_data,  # type: ignore[arg-type]
                    input_channel=CHANNEL_NAME,
                    message_id=message_sid,
                    metadata={"twilio": {"channel": "whatsapp" if is_whatsapp(address) else "sms"}},
                )
            )
        except Exception:
            logger.exception("The assistant failed on a message from %s.", masked)
            return self._say(texts, TROUBLE)
        rendered = render_turn(collector.messages)
        try:
            await _in_executor(self.repository.remember_reply_options, address, rendered.options)
        except SQLAlchemyError as error:
            logger.error("Could not store the numbered options for %s: %s", masked, database_error(error))
        return twiml(rendered.parts)

    async def _reminder_reply(
        self, address: str, body: str, options: List[Option]
    ) -> Optional[Dict[str, Any]]:
        """The parse data of an answer to this number's waitlist offer or SMS reminder, or None.

        None: the words go to the assistant as they are. A live offer is answered first (it is held for
        minutes only); numbered options sent after the offer or reminder take precedence over both.
        """
        if is_whatsapp(address):  # offers and reminders are texted to the E.164 number
            return None
        candidates = [(offer_reply(body), self.offers, WAITLIST_REPLY_INTENT, WAITLIST_ANSWER_ENTITY),
                      (reminder_reply(body), self.reminders, REMINDER_REPLY_INTENT, REMINDER_ANSWER_ENTITY)]
        now = datetime.now(timezone.utc)
        for answer, lookup, intent, entity in candidates:
            if answer is None:
                continue
            try:
                sent_at = await _in_executor(lookup, address, now)
                if sent_at is None:
                    continue
                asked_at = None
                if options:
                    asked_at = await _in_executor(self.repository.reply_options_sent_at, address)
            except SQLAlchemyError as error:
                logger.error("Could not look up the offers and reminders of %s: %s", mask_address(address),
                             database_error(error))
                return None
            if asked_at is not None and asked_at > sent_at:
                return None  # the conversation asked something since: the reply answers that
            logger.info("Reply %r from %s answers their %s.", answer, mask_address(address), intent)
            return reminder_parse_data(body, answer, intent, entity)
        return None

    @staticmethod
    def _say(texts: ResponseTexts, response_name: str) -> WebhookReply:
        text = texts(response_name)
        return twiml(render_turn([{"text": text}]).parts if text else [])
