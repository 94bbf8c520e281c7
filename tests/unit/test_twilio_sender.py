"""Proactive sending through the Twilio REST client: opt-outs, timeouts, retries, splitting."""

import asyncio
import threading

import pytest
import requests

from clinic.channels.twilio_client import SendStatus, TwilioSender, TwilioSettings
from clinic.testing.twilio_fake import FakeHttpClient, FakeTwilioApi

PATIENT = "+447700900123"
SETTINGS = TwilioSettings(account_sid="AC" + "0" * 32, auth_token="test-token", number="+15005550006",
                          timeout=4.0, attempts=3)


@pytest.fixture
def api():
    return FakeTwilioApi()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def sender(api, messaging, sleeps):
    return TwilioSender(SETTINGS, messaging, http_client=FakeHttpClient(api, timeout=SETTINGS.timeout),
                        sleep=sleeps.append)


def test_sends_from_the_clinic_number_with_a_timeout(sender, api):
    result = sender.send(PATIENT, "Your appointment is confirmed.")
    assert result.status is SendStatus.SENT and result.message_sids[0].startswith("SM")
    assert api.messages == [{"To": PATIENT, "From": "+15005550006", "Body": "Your appointment is confirmed.",
                             "sid": result.message_sids[0]}]
    assert sender._http_client.requests[0]["timeout"] == 4.0


def test_whatsapp_keeps_the_prefix_on_both_ends(sender, api):
    sender.send("whatsapp:" + PATIENT, "Hello")
    assert (api.messages[0]["To"], api.messages[0]["From"]) == ("whatsapp:" + PATIENT,
                                                                 "whatsapp:+15005550006")


def test_nothing_is_sent_to_an_opted_out_number(sender, api, messaging):
    messaging.set_opted_out(PATIENT, True, "stop")
    assert sender.send(PATIENT, "A staff reply").status is SendStatus.OPTED_OUT
    assert api.attempts == 0
    messaging.set_opted_out(PATIENT, False, "start")
    assert sender.send(PATIENT, "A staff reply").sent


def test_transient_failures_are_retried_with_backoff(sender, api, sleeps):
    api.failures = [503, requests.exceptions.ConnectionError("refused")]
    assert sender.send(PATIENT, "Hello").sent
    assert api.attempts == 3 and len(api.messages) == 1
    assert sleeps == [0.5, 1.0]


def test_gives_up_after_the_last_attempt(sender, api, sleeps):
    api.failures = [500, 502, 429]
    assert sender.send(PATIENT, "Hello").status is SendStatus.FAILED
    assert api.attempts == 3 and api.messages == [] and len(sleeps) == 2


def test_client_errors_and_read_timeouts_are_not_retried(sender, api):
    api.failures = [(400, 21211)]  # invalid 'To' number
    assert sender.send(PATIENT, "Hello").status is SendStatus.FAILED
    api.failures = [requests.exceptions.ReadTimeout("slow")]  # Twilio may have sent it already
    assert sender.send(PATIENT, "Hello").status is SendStatus.FAILED
    assert api.attempts == 2 and api.messages == []


def test_twilio_unsubscribed_error_records_the_opt_out(sender, api, messaging):
    api.failures = [(400, 21610)]
    assert sender.send(PATIENT, "Hello").status is SendStatus.OPTED_OUT
    assert messaging.is_opted_out(PATIENT)
    assert sender.send(PATIENT, "Hello again").status is SendStatus.OPTED_OUT
    assert api.attempts == 1


def test_long_messages_go_out_in_numbered_parts(sender, api):
    result = sender.send(PATIENT, "Please leave it alone. " * 120)  # 2,760 characters
    assert result.sent and len(result.message_sids) == 2
    assert [b[:6] for b in api.to(PATIENT)] == ["(1/2) ", "(2/2) "]


def test_refuses_bad_addresses_and_missing_configuration(messaging, api):
    sender = TwilioSender(SETTINGS, messaging, http_client=FakeHttpClient(api))
    assert sender.send("web-chat-42", "Hello").status is SendStatus.INVALID_ADDRESS
    assert sender.send(PATIENT, "   ").status is SendStatus.EMPTY
    unconfigured = TwilioSender(TwilioSettings(), messaging, http_client=FakeHttpClient(api))
    assert unconfigured.send(PATIENT, "Hello").status is SendStatus.NOT_CONFIGURED
    assert api.attempts == 0


async def test_send_async_runs_off_the_event_loop(sender, api):
    loop_thread = threading.get_ident()
    threads = []
    original = api.create_message

    def record_thread(form):
        threads.append(threading.get_ident())
        return original(form)

    api.create_message = record_thread
    result = await sender.send_async(PATIENT, "Hello")
    assert result.sent and threads and threads[0] != loop_thread
    assert asyncio.get_running_loop().is_running()


def test_settings_come_from_the_environment_with_safe_defaults(monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "TWILIO_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    empty = TwilioSettings.from_env(None)
    assert not empty.can_verify and not empty.can_send and empty.timeout == 10.0
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-env")
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://clinic.example/webhooks/twilio/webhook")
    settings = TwilioSettings.from_env({"auth_token": "", "twilio_number": "+15005550006"})
    assert settings.auth_token == "from-env" and settings.number == "+15005550006"
    assert settings.webhook_url == "https://clinic.example/webhooks/twilio/webhook"
    assert TwilioSettings.from_env({"auth_token": "from-credentials"}).auth_token == "from-credentials"
