"""Attacks on the SMS/WhatsApp webhook: a replayed signed request, a flood of unsigned ones."""

import random

import httpx
import pytest

from clinic.testing.twilio_fake import message_form, twiml_texts

pytestmark = pytest.mark.integration


def new_number() -> str:
    return "+4479" + "".join(random.choice("0123456789") for _ in range(8))


def test_a_replayed_signed_webhook_reaches_the_bot_once(assistant):
    patient = new_number()
    sid = f"SM{random.getrandbits(128):032x}"
    first = assistant.sms(patient, "I have a white bump", MessageSid=sid)
    assert first.status_code == 200 and twiml_texts(first.text)
    user_events = [e for e in assistant.tracker(patient)["events"] if e["event"] == "user"]
    for _ in range(3):  # the very same signed request, captured and sent again
        replay = assistant.sms(patient, "I have a white bump", MessageSid=sid)
        assert replay.status_code == 200 and twiml_texts(replay.text) == []
    assert [e for e in assistant.tracker(patient)["events"] if e["event"] == "user"] == user_events
    # a new message (its own MessageSid) is answered as usual
    assert twiml_texts(assistant.sms(patient, "it's hard").text)


def test_unsigned_requests_are_refused_then_rate_limited(assistant):
    attacker = f"198.51.100.{random.randint(1, 254)}"  # named by the trusted proxy (tests: localhost)
    statuses = []
    for _ in range(25):
        response = httpx.post(assistant.twilio_webhook_url, data=message_form(new_number(), "hi"),
                              headers={"X-Forwarded-For": attacker}, timeout=30)
        statuses.append(response.status_code)
    assert statuses[:20] == [403] * 20 and set(statuses[20:]) == {429}, statuses
    # the real Twilio (signed requests) is not affected
    assert assistant.sms(new_number(), "hi").status_code == 200
