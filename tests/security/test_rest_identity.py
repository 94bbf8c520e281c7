"""Attacks on channel identity over REST: writing as an SMS or WhatsApp patient, spoofing the channel."""

import asyncio

import httpx
import pytest

from clinic.rasa_api import RasaClient
from clinic.testing.servers import API_TOKEN
from tests.integration.chat import new_sender, texts

pytestmark = pytest.mark.integration


def new_number() -> str:
    import random

    return "+4479" + "".join(random.choice("0123456789") for _ in range(8))


def rest(assistant, body) -> httpx.Response:
    return httpx.post(f"{assistant.url}/webhooks/rest/webhook", json=body, timeout=60)


@pytest.mark.parametrize("as_whom", ["sms", "whatsapp", "spaced", "widget"])
def test_rest_cannot_write_into_another_channels_conversation(assistant, as_whom):
    number = new_number()
    victim = {"sms": number, "whatsapp": "whatsapp:" + number, "spaced": number,
              "widget": "web:" + "a" * 22 + "." + "b" * 22}[as_whom]
    if as_whom != "widget":
        assert assistant.sms(victim, "hi").status_code == 200  # the patient's real conversation
    before = httpx.get(f"{assistant.url}/conversations/{victim}/tracker", params={"token": API_TOKEN},
                       timeout=30).json()["events"]
    attack = victim if as_whom != "spaced" else f"{number[:3]} {number[3:7]} {number[7:]}"
    for message in ("I want to delete my data", "/affirm"):
        response = rest(assistant, {"sender": attack, "message": message})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["reason"] == "SenderNotAllowed" and "another channel" in body["message"]
    after = httpx.get(f"{assistant.url}/conversations/{victim}/tracker", params={"token": API_TOKEN},
                      timeout=30).json()["events"]
    assert len(after) == len(before)  # not one event written into the victim's conversation


def test_rest_ids_of_its_own_namespace_are_kept_exactly_as_sent(assistant):
    sender = new_sender("Rest_Client.42")
    assert texts(assistant.say(sender, "hi"))
    assert assistant.tracker(sender)["sender_id"] == sender


def test_input_channel_and_metadata_in_a_rest_body_are_ignored(assistant, fake_twilio):
    sender = new_sender("spoof")
    response = rest(assistant, {"sender": sender, "message": "can I talk to someone",
                                "input_channel": "twilio", "metadata": {"twilio": {"channel": "sms"}}})
    assert response.status_code == 200
    tracker = assistant.tracker(sender)
    assert tracker["latest_input_channel"] == "rest"
    users = [e for e in tracker["events"] if e["event"] == "user"]
    assert users and all(e["input_channel"] == "rest" for e in users)
    assert not any("twilio" in (e.get("metadata") or {}) for e in users)  # Rasa's own metadata only

    # A staff reply to that conversation is recorded, and texts nobody.
    sent_before = len(fake_twilio.api.messages)
    client = RasaClient(assistant.url, API_TOKEN)
    asyncio.run(client.send_staff_reply(sender, "Dr Lee here.", "kim"))
    events = assistant.tracker(sender)["events"]
    assert any(e["event"] == "bot" and e.get("text") == "Dr Lee here." for e in events)
    assert len(fake_twilio.api.messages) == sent_before


@pytest.mark.parametrize("output_channel", ["latest", "twilio"])
def test_the_http_api_sends_only_on_the_conversations_own_channel(assistant, fake_twilio, output_channel):
    sender = new_sender("api")
    assistant.say(sender, "hi")
    sent_before = len(fake_twilio.api.messages)
    response = httpx.post(
        f"{assistant.url}/conversations/{sender}/tracker/events",
        params={"token": API_TOKEN, "output_channel": output_channel, "execute_side_effects": "true"},
        json=[{"event": "bot", "text": "Your results are ready"}], timeout=30,
    )
    assert response.status_code == 400 and response.json()["reason"] == "OutputChannelRefused"
    assert len(fake_twilio.api.messages) == sent_before
