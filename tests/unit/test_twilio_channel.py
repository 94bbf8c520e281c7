"""The Twilio webhook in-process: signatures, bad input, numbered replies, opt-out, proactive output.

A small fake bot stands in for Rasa here; tests/integration/test_sms_channel.py runs the real one.
"""

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from rasa.core.channels.channel import UserMessage

from clinic.channels.repository import MessagingRepository
from clinic.channels.twilio_channel import InboundRequest, TwilioChannel, TwilioOutput
from clinic.channels.twilio_client import TwilioSender, TwilioSettings
from clinic.db.engine import session_factory
from clinic.testing.twilio_fake import (
    FORM,
    FakeHttpClient,
    FakeTwilioApi,
    message_form,
    signed_request,
    twiml_texts,
)

TOKEN = "unit-test-auth-token"
URL = "http://127.0.0.1:5005/webhooks/twilio/webhook"
PATIENT = "+447700900123"
HARDNESS = [
    {"title": "Hard", "payload": '/inform{"hardness": "hard"}'},
    {"title": "Soft", "payload": '/inform{"hardness": "soft"}'},
    {"title": "Not sure", "payload": '/inform{"hardness": "unsure"}'},
]


class FakeBot:
    """Records what reaches the assistant; asks the hardness question with buttons."""

    def __init__(self):
        self.received = []
        self.fail = False

    async def __call__(self, message: UserMessage) -> None:
        if self.fail:
            raise RuntimeError("the assistant broke")
        self.received.append(message)
        await message.output_channel.send_response(
            message.sender_id, {"text": "Does it feel hard or soft?", "buttons": list(HARDNESS)}
        )


@pytest.fixture
def texts(domain):
    return lambda name: domain["responses"][name][0]["text"]


@pytest.fixture
def bot():
    return FakeBot()


@pytest.fixture
def channel(messaging):
    return TwilioChannel(TwilioSettings(account_sid="AC" + "0" * 32, auth_token=TOKEN,
                                        number="+15005550006"), messaging)


@pytest.fixture
def post(channel, bot, texts):
    async def post(body=None, sender=PATIENT, form=None, token=TOKEN, url=URL, ready=True):
        form = form if form is not None else message_form(sender, body)
        data, headers = signed_request(url, form, token)
        inbound = InboundRequest(URL, headers["Content-Type"], data, headers["X-Twilio-Signature"])
        return await channel.handle(inbound, bot, texts, ready)

    return post


async def test_signed_message_reaches_the_bot_keyed_by_number(post, bot):
    reply = await post("I have a white bump")
    assert reply.status == 200 and reply.content_type.startswith("text/xml")
    assert twiml_texts(reply.body) == [
        "Does it feel hard or soft?\n\nReply 1 for Hard, 2 for Soft, 3 for Not sure"
    ]
    message = bot.received[0]
    assert (message.text, message.sender_id, message.input_channel) == (
        "I have a white bump", PATIENT, "twilio",
    )
    assert message.metadata == {"twilio": {"channel": "sms"}}


@pytest.mark.parametrize(
    "reply, payload",
    [("1", '/inform{"hardness": "hard"}'), ("soft", '/inform{"hardness": "soft"}'),
     ("NOT SURE", '/inform{"hardness": "unsure"}'), ("7", "7"), ("quite hard", "quite hard")],
)
async def test_numbered_or_titled_reply_sends_the_button_payload(post, bot, reply, payload):
    await post("hi")
    await post(reply)
    assert bot.received[-1].text == payload


async def test_whatsapp_sender_keeps_its_prefix(post, bot, messaging):
    reply = await post("hi", sender="whatsapp:" + PATIENT)
    assert twiml_texts(reply.body)
    assert bot.received[0].sender_id == "whatsapp:" + PATIENT
    assert bot.received[0].metadata["twilio"]["channel"] == "whatsapp"
    assert messaging.reply_options("whatsapp:" + PATIENT)[0].title == "Hard"
    assert messaging.reply_options(PATIENT) == []


async def test_forged_unsigned_and_tampered_requests_never_reach_the_bot(channel, bot, texts):
    form = message_form(PATIENT, "hi")
    data, headers = signed_request(URL, form, "someone-elses-token")
    forged = await channel.handle(InboundRequest(URL, FORM, data, headers["X-Twilio-Signature"]), bot, texts)
    unsigned = await channel.handle(InboundRequest(URL, FORM, data, None), bot, texts)
    data, headers = signed_request(URL, form, TOKEN)
    tampered_body = data.replace(b"Body=hi", b"Body=bye")
    tampered = await channel.handle(InboundRequest(URL, FORM, tampered_body, headers["X-Twilio-Signature"]),
                                    bot, texts)
    other_url = await channel.handle(
        InboundRequest(URL + "?x=1", FORM, data, headers["X-Twilio-Signature"]), bot, texts
    )
    assert [r.status for r in (forged, unsigned, tampered, other_url)] == [403] * 4
    assert bot.received == []


async def test_without_an_auth_token_every_request_is_refused(monkeypatch, database_url, bot, texts, caplog):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER", "TWILIO_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    channel = TwilioChannel.from_credentials(None)  # what `rasa run` does with the bare credentials entry
    data, headers = signed_request(URL, message_form(PATIENT, "hi"), "")
    reply = await channel.handle(InboundRequest(URL, FORM, data, headers["X-Twilio-Signature"]), bot, texts)
    assert reply.status == 403 and bot.received == []
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text
    assert channel.get_output_channel().name() == "twilio"


async def test_public_url_override_for_a_proxy(messaging, bot, texts):
    public = "https://clinic.example/webhooks/twilio/webhook"
    settings = TwilioSettings(auth_token=TOKEN, webhook_url=public)
    data, headers = signed_request(public, message_form(PATIENT, "hi"), TOKEN)
    inbound = InboundRequest(URL, FORM, data, headers["X-Twilio-Signature"])  # as the proxy forwards it
    assert (await TwilioChannel(settings, messaging).handle(inbound, bot, texts)).status == 200
    plain = TwilioChannel(TwilioSettings(auth_token=TOKEN), messaging)
    assert (await plain.handle(inbound, bot, texts)).status == 403


@pytest.mark.parametrize(
    "content_type, body, status",
    [
        ("application/json", json.dumps({"From": PATIENT, "Body": "hi"}).encode(), 415),
        ("multipart/form-data; boundary=x", b"--x--", 415),
        ("", b"", 415),
        (FORM, b"From=%2B447700900123&Body=\xff\xfe", 400),
        (FORM, b"x" * (300 * 1024), 413),
    ],
)
async def test_malformed_requests_get_a_4xx(channel, bot, texts, content_type, body, status):
    reply = await channel.handle(InboundRequest(URL, content_type, body, "sig"), bot, texts)
    assert reply.status == status and bot.received == []


@pytest.mark.parametrize(
    "form, status",
    [
        ({"Body": "hi"}, 400),
        ({"From": "", "Body": "hi"}, 400),
        ({"From": "not-a-number", "Body": "hi"}, 400),
        ({"From": PATIENT}, 400),  # no Body: not an inbound message
        ({"From": PATIENT, "MessageStatus": "delivered"}, 400),
    ],
)
async def test_signed_requests_without_a_usable_sender_or_body_get_400(post, bot, form, status):
    reply = await post(form=form)
    assert reply.status == status and bot.received == []


async def test_empty_media_only_and_overlong_messages_get_a_clear_answer(post, bot, texts):
    empty = await post("   ")
    media = await post(form=message_form(PATIENT, "", NumMedia="1",
                                         MediaUrl0="https://api.twilio.com/media/ME1",
                                         MediaContentType0="image/jpeg"))
    long = await post("a" * 10_000)
    assert twiml_texts(empty.body) == twiml_texts(media.body) == [texts("utter_sms_text_only")]
    assert twiml_texts(long.body) == [texts("utter_sms_too_long")]
    assert bot.received == []


async def test_stop_is_stored_and_silences_the_channel_until_start(post, bot, messaging, texts):
    await post("hi")
    reply = await post("STOP")
    assert twiml_texts(reply.body) == [texts("utter_sms_opted_out")]
    assert messaging.is_opted_out(PATIENT) and messaging.consent(PATIENT).keyword == "stop"
    assert twiml_texts((await post("stop")).body) == []  # no second confirmation
    assert twiml_texts((await post("1")).body) == []  # nothing goes back, nothing reaches the bot
    assert len(bot.received) == 1
    reply = await post("Yes")  # YES opts back in while opted out
    assert twiml_texts(reply.body) == [texts("utter_sms_opted_in")]
    assert not messaging.is_opted_out(PATIENT)
    await post("yes")  # and is an ordinary answer otherwise, as is START
    await post("START")
    assert [m.text for m in bot.received[-2:]] == ["yes", "START"]


async def test_cancel_alone_opts_out_but_cancelling_an_appointment_does_not(post, bot, messaging):
    await post("cancel my appointment")
    assert bot.received[-1].text == "cancel my appointment" and not messaging.is_opted_out(PATIENT)
    await post("Cancel")
    assert messaging.is_opted_out(PATIENT)


async def test_bot_failure_and_missing_model_get_clear_answers(post, bot, texts):
    bot.fail = True
    assert twiml_texts((await post("hi")).body) == [texts("utter_sms_trouble")]
    assert (await post("hi", ready=False)).status == 503


async def test_missing_tables_answer_503_and_send_nothing(tmp_path, bot, texts, caplog):
    unmigrated = MessagingRepository(session_factory(f"sqlite:///{tmp_path / 'empty.db'}"))
    channel = TwilioChannel(TwilioSettings(auth_token=TOKEN), unmigrated)
    data, headers = signed_request(URL, message_form(PATIENT, "hi"), TOKEN)
    reply = await channel.handle(InboundRequest(URL, FORM, data, headers["X-Twilio-Signature"]), bot, texts)
    assert reply.status == 503 and bot.received == []
    assert "no such table" in caplog.text and "clinic db upgrade" in caplog.text
    assert PATIENT not in caplog.text  # the SQL parameters (the number) stay out of the logs


async def test_proactive_output_renders_options_and_respects_opt_out(messaging, post, bot):
    api = FakeTwilioApi()
    settings = TwilioSettings(account_sid="AC" + "0" * 32, auth_token=TOKEN, number="+15005550006")
    output = TwilioOutput(TwilioSender(settings, messaging, http_client=FakeHttpClient(api)))
    await output.send_response(PATIENT, {"text": "Your booking is on Monday. Keep it?",
                                         "buttons": [{"title": "Keep it", "payload": "/affirm"},
                                                     {"title": "Change it", "payload": "/deny"}]})
    assert api.to(PATIENT) == ["Your booking is on Monday. Keep it?\n\nReply 1 for Keep it, 2 for Change it"]
    await post("2")
    assert bot.received[-1].text == "/deny"
    messaging.set_opted_out(PATIENT, True, "stop")
    await output.send_text_message(PATIENT, "A staff reply")
    assert len(api.messages) == 1


def test_form_encoding_of_the_helpers_matches_twilio():
    form = message_form(PATIENT, "a b&c=d")
    assert "Body=a+b%26c%3Dd" in urlencode(form)


async def test_logs_show_masked_numbers_only(post, caplog, channel, bot, texts):
    caplog.set_level("INFO", logger="clinic")
    await post("STOP")
    await post("hi")
    await post("START")
    await post("")
    data, headers = signed_request(URL, message_form(PATIENT, "hi"), "forged")
    await channel.handle(InboundRequest(URL, FORM, data, headers["X-Twilio-Signature"]), bot, texts)
    assert "+44•••23" in caplog.text
    assert PATIENT not in caplog.text and "7700900" not in caplog.text


async def test_a_replayed_message_sid_reaches_the_bot_once(post, bot):
    form = message_form(PATIENT, "I have a white bump")
    first = await post(form=form)
    replay = await post(form=dict(form))  # the same signed request, sent again
    assert first.status == replay.status == 200
    assert twiml_texts(first.body) and twiml_texts(replay.body) == []
    assert len(bot.received) == 1


async def test_requests_without_a_valid_signature_are_rate_limited_per_address(channel, bot, texts):
    from clinic.hardening.ratelimit import Rate, RateLimiter

    channel.unsigned_limiter = RateLimiter(Rate(3, 60))
    data, headers = signed_request(URL, message_form(PATIENT, "hi"), "not-the-token")
    forged = InboundRequest(URL, headers["Content-Type"], data, headers["X-Twilio-Signature"], "203.0.113.7")
    statuses = [(await channel.handle(forged, bot, texts)).status for _ in range(5)]
    assert statuses == [403, 403, 403, 429, 429]
    elsewhere = InboundRequest(URL, headers["Content-Type"], data, None, "198.51.100.1")
    assert (await channel.handle(elsewhere, bot, texts)).status == 403  # another address has its own budget
    assert bot.received == []


def reminder_channel(messaging, reminded_at):
    settings = TwilioSettings(account_sid="AC" + "0" * 32, auth_token=TOKEN, number="+15005550006")
    asked = []
    channel = TwilioChannel(settings, messaging,
                            reminders=lambda address, now: asked.append(address) or reminded_at(address))
    return channel, asked


async def send(channel, bot, texts, body, sender=PATIENT):
    data, headers = signed_request(URL, message_form(sender, body), TOKEN)
    inbound = InboundRequest(URL, headers["Content-Type"], data, headers["X-Twilio-Signature"])
    return await channel.handle(inbound, bot, texts, True)


@pytest.mark.parametrize("body, answer", [("C", "confirm"), ("yes!", "confirm"), ("x", "cancel"),
                                          (" R ", "reschedule")])
async def test_a_reply_to_a_reminder_reaches_the_bot_as_its_intent(messaging, bot, texts, body, answer):
    channel, asked = reminder_channel(messaging, lambda address: datetime(2030, 6, 3, tzinfo=timezone.utc))
    await send(channel, bot, texts, body)
    [message] = bot.received
    assert message.text == body.strip() and message.sender_id == PATIENT  # the patient's words, kept
    assert message.parse_data["intent"] == {"name": "reminder_reply", "confidence": 1.0}
    entities = [(e["entity"], e["value"]) for e in message.parse_data["entities"]]
    assert entities == [("reminder_answer", answer)]
    assert asked == [PATIENT]


async def test_without_a_reminder_or_from_whatsapp_or_other_words_the_text_goes_as_is(messaging, bot, texts):
    channel, asked = reminder_channel(messaging, lambda address: None)
    await send(channel, bot, texts, "X")
    channel, asked = reminder_channel(messaging, lambda address: datetime(2030, 6, 3, tzinfo=timezone.utc))
    await send(channel, bot, texts, "X", sender="whatsapp:" + PATIENT)
    await send(channel, bot, texts, "cancel my appointment")
    assert [(m.text, m.parse_data) for m in bot.received] == [
        ("X", None), ("X", None), ("cancel my appointment", None)]
    assert asked == []  # neither WhatsApp nor other words need the database


async def test_options_sent_after_the_reminder_take_precedence(messaging, bot, texts):
    before = datetime.now(timezone.utc) - timedelta(hours=1)
    channel, _ = reminder_channel(messaging, lambda address: before)
    await send(channel, bot, texts, "hi")  # the bot asks with buttons: options stored now
    await send(channel, bot, texts, "C")
    assert bot.received[-1].parse_data is None
    after = datetime.now(timezone.utc) + timedelta(minutes=1)
    channel, _ = reminder_channel(messaging, lambda address: after)  # a reminder sent after the options
    await send(channel, bot, texts, "C")
    assert bot.received[-1].parse_data["intent"]["name"] == "reminder_reply"
