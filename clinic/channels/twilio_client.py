"""The clinic's Twilio client: proactive sending over the REST API (settings: clinic.config.TwilioSettings).

Proactive messages (a staff reply, a booking confirmation) are sent here, never to an opted-out
address, with a timeout per request and retries (urllib3 `Retry` on the client's session: `SendRetry`)
for failures that certainly sent nothing. The REST client is blocking, so `send_async` runs it in the
default executor, off the event loop.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, List, Optional

import requests
from sqlalchemy.exc import SQLAlchemyError
from twilio.base.exceptions import TwilioRestException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.util.retry import Retry

from clinic.channels.repository import MessagingRepository
from clinic.channels.sms_text import (
    WHATSAPP_PREFIX,
    database_error,
    is_whatsapp,
    mask_address,
    parse_address,
    split_message,
)
from clinic.config import TwilioSettings

logger = logging.getLogger(__name__)
# The twilio client logs every request and its headers at INFO; only its warnings belong in our logs.
http_logger = logging.getLogger(__name__ + ".http")
http_logger.setLevel(logging.WARNING)

# Twilio error codes: the recipient has opted out (SMS) / is not reachable by this sender.
UNSUBSCRIBED_RECIPIENT = 21610
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAYBE_SENT = "maybe-sent"


class SendRetry(Retry):
    """urllib3's retry for Twilio's REST API: `attempts` in all, 0.5 s, 1 s, 2 s... between them.

    Retried: a request that certainly never reached Twilio (connection refused, DNS, connect timeout) and
    the answers in RETRYABLE_STATUS (Retry-After is not followed). Never retried: a read timeout or a
    connection lost mid-request (Twilio may have accepted the message: retrying could text the patient
    twice); the last answer is returned rather than raised.
    """

    def __init__(self, *args: Any, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sleep_function = sleep

    @classmethod
    def for_attempts(cls, attempts: int, sleep: Callable[[float], None] = time.sleep) -> SendRetry:
        """The retry for `attempts` attempts in all (TWILIO_ATTEMPTS), sleeping with `sleep`."""
        retries = max(0, attempts - 1)
        return cls(total=retries, connect=retries, read=False, status=retries, other=0, redirect=0,
                   status_forcelist=RETRYABLE_STATUS, allowed_methods=frozenset({"POST"}),
                   respect_retry_after_header=False, raise_on_status=False, raise_on_redirect=False,
                   sleep=sleep)

    def new(self, **kw):  # type: ignore[no-untyped-def]
        """urllib3's copy for the next attempt, keeping the sleep function."""
        retry = super().new(**kw)
        retry.sleep_function = self.sleep_function
        return retry

    def get_backoff_time(self) -> float:
        """0.5 s before the second attempt, then doubling (0 before the first)."""
        return 0.5 * 2 ** (len(self.history) - 1) if self.history else 0.0

    def sleep(self, response=None) -> None:  # type: ignore[no-untyped-def]
        """Wait the backoff before the next attempt (Retry-After is not followed)."""
        backoff = self.get_backoff_time()
        if backoff > 0:
            logger.warning("Twilio request failed (%s); retrying in %.1f s.", self.history[-1].error
                           or f"HTTP {self.history[-1].status}", backoff)
            self.sleep_function(backoff)


def mount_retry(session: requests.Session, retry: Retry) -> None:
    """Every adapter of `session` (https:// and http://) retries with `retry`."""
    for adapter in session.adapters.values():
        if isinstance(adapter, requests.adapters.HTTPAdapter):
            adapter.max_retries = retry


class SendStatus(enum.Enum):
    """How a proactive send ended."""

    SENT = "sent"
    OPTED_OUT = "opted_out"
    NOT_CONFIGURED = "not_configured"
    INVALID_ADDRESS = "invalid_address"
    EMPTY = "empty"
    FAILED = "failed"


@dataclass
class SendResult:
    """Outcome of `TwilioSender.send`, with the Twilio SIDs of the messages that left."""

    status: SendStatus
    message_sids: List[str] = field(default_factory=list)
    # FAILED after a read timeout: Twilio may have accepted the message (check before sending it again).
    maybe_sent: bool = False

    @property
    def sent(self) -> bool:
        """Whether every part of the message was accepted by Twilio."""
        return self.status is SendStatus.SENT


class TwilioSender:
    """Sends texts through Twilio's REST API; checks the opt-out state before every message."""

    def __init__(
        self,
        settings: TwilioSettings,
        repository: MessagingRepository,
        http_client: Optional[HttpClient] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.repository = repository
        self._http_client = http_client
        self._sleep = sleep
        self._client: Optional[Client] = None

    def _rest_client(self) -> Client:
        if self._client is None:
            http_client = self._http_client or TwilioHttpClient(
                timeout=self.settings.timeout, logger=http_logger
            )
            session = getattr(http_client, "session", None)
            if isinstance(session, requests.Session):
                mount_retry(session, SendRetry.for_attempts(self.settings.attempts, self._sleep))
            client = Client(self.settings.account_sid, self.settings.auth_token, http_client=http_client)
            if self.settings.api_base_url:
                client.api.base_url = self.settings.api_base_url.rstrip("/")
            self._client = client
        return self._client

    def _sender_for(self, address: str) -> str:
        number = self.settings.number
        if is_whatsapp(address) and not is_whatsapp(number):
            return WHATSAPP_PREFIX + number
        return number

    def send(self, to: str, body: str) -> SendResult:
        """Send `body` to `to` (blocking), split at Twilio's limit; nothing goes to an opted-out address."""
        address = parse_address(to)
        masked = mask_address(to)
        if address is None:
            logger.warning("Not sending to %s: not a phone or WhatsApp number.", masked)
            return SendResult(SendStatus.INVALID_ADDRESS)
        if not self.settings.can_send:
            logger.warning(
                "Not sending to %s: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER.", masked
            )
            return SendResult(SendStatus.NOT_CONFIGURED)
        parts = split_message(body or "")
        if not parts:
            return SendResult(SendStatus.EMPTY)
        try:
            opted_out = self.repository.is_opted_out(address)
        except SQLAlchemyError as error:
            logger.error("Not sending to %s: opt-out state unknown (run `clinic db upgrade`?). %s", masked,
                         database_error(error))
            return SendResult(SendStatus.FAILED)
        if opted_out:
            logger.info("Not sending to %s: the number opted out.", masked)
            return SendResult(SendStatus.OPTED_OUT)
        result = SendResult(SendStatus.SENT)
        for part in parts:
            status, sid = self._create_with_retries(address, part)
            if status is not SendStatus.SENT:
                result.status = status
                result.maybe_sent = sid == MAYBE_SENT
                return result
            result.message_sids.append(sid or "")
        logger.info("Sent %d message(s) to %s.", len(parts), masked)
        return result

    def _create_with_retries(self, address: str, body: str) -> tuple[SendStatus, Optional[str]]:
        """One `messages.create`; the session's SendRetry retries what certainly sent nothing."""
        masked = mask_address(address)
        try:
            message = self._rest_client().messages.create(
                to=address, from_=self._sender_for(address), body=body
            )
            return SendStatus.SENT, message.sid
        except TwilioRestException as error:
            if error.code == UNSUBSCRIBED_RECIPIENT:
                logger.info("Twilio reports %s as unsubscribed: recording the opt-out.", masked)
                self._record_twilio_opt_out(address)
                return SendStatus.OPTED_OUT, None
            if error.status not in RETRYABLE_STATUS:
                logger.error("Twilio refused a message to %s: HTTP %s, error %s.", masked,
                             error.status, error.code)
                return SendStatus.FAILED, None
        except requests.exceptions.ConnectionError:
            # The request never reached Twilio (connection refused, DNS, connect timeout), every attempt.
            pass
        except requests.exceptions.Timeout:
            # Twilio may have accepted it: retrying could text the patient twice.
            logger.error("Twilio did not answer within %.0f s for %s; not retried (it may have "
                         "been sent).", self.settings.timeout, masked)
            return SendStatus.FAILED, MAYBE_SENT
        except requests.exceptions.RequestException as error:
            logger.error("Sending to %s failed: %s.", masked, type(error).__name__)
            return SendStatus.FAILED, None
        logger.error("Sending to %s failed after %d attempts.", masked, self.settings.attempts)
        return SendStatus.FAILED, None

    def find_sent(self, to: str, body: str, since: datetime) -> Optional[str]:
        """The SID of a message with this body Twilio accepted for `to` since `since`, if any.

        Twilio's Messages API has no idempotency key: before sending again a message whose earlier send
        may have reached Twilio (a worker killed mid-send, a read timeout), its log is asked.
        """
        address = parse_address(to)
        if address is None or not self.settings.can_send:
            return None
        for message in self._rest_client().messages.list(to=address, limit=50):
            created = message.date_created
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
            if (message.body or "") == body and (created is None or created >= since):
                sid: str = message.sid
                return sid
        return None

    def _record_twilio_opt_out(self, address: str) -> None:
        try:
            self.repository.set_opted_out(address, True, "twilio_21610")
        except SQLAlchemyError as error:
            logger.error("Could not record the opt-out of %s: %s", mask_address(address),
                         database_error(error))

    async def send_async(self, to: str, body: str) -> SendResult:
        """`send`, run in the default executor so the event loop never waits on Twilio."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.send, to, body)
