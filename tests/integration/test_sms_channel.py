"""A patient texting the real assistant through the Twilio webhook (SMS and WhatsApp).

Requests are signed with the test auth token exactly as Twilio signs them; replies come back as
TwiML; proactive messages reach a local fake of Twilio's REST API; `triage_result` is read through
the authenticated HTTP API.
"""

import random

import httpx
import pytest

from clinic.channels.proactive import send_bot_message
from clinic.channels.repository import MessagingRepository
from clinic.config import Settings
from clinic.db.engine import session_factory
from clinic.rasa_api import RasaClient
from clinic.testing.servers import API_TOKEN, TWILIO_TEST_NUMBER
from clinic.testing.twilio_fake import FORM, message_form, sign, twiml_texts

pytestmark = pytest.mark.integration


def new_number() -> str:
    return "+44770090" + "".join(random.choices("0123456789", k=4))


def said(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return "\n".join(twiml_texts(response.text))


def user_texts(assistant, sender):
    return [e.get("text") for e in assistant.tracker(sender)["events"] if e["event"] == "user"]


def test_whole_triage_over_sms_with_numbered_and_typed_answers(assistant):
    patient = new_number()
    assert "not a diagnosis" in said(assistant.sms(patient, "hi"))
    reply = said(assistant.sms(patient, "I have a little white bump"))
    assert "hard" in reply and reply.endswith("Reply 1 for Hard, 2 for Soft, 3 for Not sure")
    reply = said(assistant.sms(patient, "1"))
    assert reply.endswith("Reply 1 for Yes, fluid or pus, 2 for No fluid, 3 for Not sure")
    reply = said(assistant.sms(patient, "NO FLUID"))  # a button's title, any case
    assert "Where is it?" in reply and "4 for Forehead" in reply
    reply = said(assistant.sms(patient, "4"))
    assert "is any of these happening" in reply and reply.endswith("Reply 1 for No, none of these, 2 for Yes")
    reply = said(assistant.sms(patient, "1"))
    assert "milium" in reply and reply.endswith("Reply 1 for Book an extraction, 2 for Not now")
    tracker = assistant.tracker(patient)
    slots = tracker["slots"]
    assert slots["triage_result"] == "milia"
    assert (slots["bump_hardness"], slots["bump_fluid"], slots["bump_location"]) == ("hard", "no", "forehead")
    assert tracker["latest_input_channel"] == "twilio"
    assert "leave the bump alone" in said(assistant.sms(patient, "2"))  # "Not now"


def test_whatsapp_triage_in_one_message_keeps_the_prefix(assistant):
    patient = "whatsapp:" + new_number()
    reply = said(assistant.sms(patient, "I have a hard white bump under my eye, no pus"))
    assert "is any of these happening" in reply
    reply = said(assistant.sms(patient, "none"))
    assert "permanent scarring" in reply
    assert assistant.tracker(patient)["slots"]["triage_result"] == "milia"


def test_forged_and_unsigned_requests_are_refused_and_never_reach_the_bot(assistant):
    patient = new_number()
    form = message_form(patient, "I have a hard white bump")
    url = assistant.twilio_webhook_url
    forged = httpx.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form, "guessed-token")})
    unsigned = httpx.post(url, data=form)
    replayed = httpx.post(url, data={**form, "Body": "delete my data"},
                          headers={"X-Twilio-Signature": sign(url, form, "integration-twilio-auth-token")})
    assert [r.status_code for r in (forged, unsigned, replayed)] == [403, 403, 403]
    assert user_texts(assistant, patient) == []


def test_bad_input_gets_a_clear_answer_or_a_4xx_and_stores_nothing(assistant):
    patient = new_number()
    url = assistant.twilio_webhook_url
    as_json = httpx.post(url, json=message_form(patient, "hi"))
    assert as_json.status_code == 415
    missing_from = {k: v for k, v in message_form(patient, "hi").items() if k != "From"}
    no_from = httpx.post(url, data=missing_from, headers={"X-Twilio-Signature": sign(url, missing_from,
                                                         "integration-twilio-auth-token")})
    assert no_from.status_code == 400
    assert assistant.sms(patient, None).status_code == 400  # no Body
    bad_utf8 = b"From=%2B447700900999&Body=\xff"
    assert httpx.post(url, content=bad_utf8, headers={"Content-Type": FORM, "X-Twilio-Signature": "x"}
                      ).status_code == 400
    text_only = said(assistant.sms(patient, ""))
    media_only = said(assistant.sms(patient, "", NumMedia="1", MediaUrl0="https://api.twilio.com/m/ME1",
                                    MediaContentType0="image/jpeg"))
    assert text_only == media_only and "only read text" in text_only
    assert "too long" in said(assistant.sms(patient, "bump " * 1999 + "bumps"))  # 10,000 characters
    assert user_texts(assistant, patient) == []


def test_stop_is_stored_and_nothing_is_sent_until_start(assistant, fake_twilio):
    patient = new_number()
    settings = Settings.from_env().copy(update=dict(
        database_url=assistant.database_url, rasa_url=assistant.url, rasa_auth_token=API_TOKEN))
    consent = MessagingRepository(session_factory(assistant.database_url))
    said(assistant.sms(patient, "hi"))

    send_bot_message(patient, "Dr Lee here: see you on Monday.", settings=settings)
    assert fake_twilio.api.to(patient) == ["Dr Lee here: see you on Monday."]
    assert fake_twilio.api.messages[-1]["From"] == TWILIO_TEST_NUMBER

    assert "Reply START" in said(assistant.sms(patient, "Stop"))
    assert consent.is_opted_out(patient)
    assert said(assistant.sms(patient, "hi again")) == ""  # silence, and the bot never sees it
    assert user_texts(assistant, patient) == ["hi"]
    send_bot_message(patient, "A reminder.", settings=settings)
    assert fake_twilio.api.to(patient) == ["Dr Lee here: see you on Monday."]

    assert "Welcome back" in said(assistant.sms(patient, "START"))
    assert not consent.is_opted_out(patient)
    send_bot_message(patient, "Would you like to book?", settings=settings,
                     buttons=[{"title": "Book", "payload": "/book_appointment"}])
    assert fake_twilio.api.to(patient)[-1] == "Would you like to book?\n\nReply 1 for Book"
    reply = said(assistant.sms(patient, "1"))  # the button's payload starts a booking
    assert "is any of these happening" in reply  # with the warning-signs question first
    assert "Which appointment" in said(assistant.sms(patient, "no none"))


async def test_staff_console_replies_reach_sms_patients_through_rasa(assistant, fake_twilio):
    patient = new_number()
    said(assistant.sms(patient, "talk to a person"))
    rasa = RasaClient(assistant.url, API_TOKEN)
    await rasa.send_staff_reply(patient, "Hello, this is Anna from Vitawell.", "anna")
    assert fake_twilio.api.to(patient) == ["Hello, this is Anna from Vitawell."]
    assert assistant.tracker(patient)["events"][-1]["text"] == "Hello, this is Anna from Vitawell."


def test_cancelling_an_appointment_is_not_an_opt_out(assistant):
    patient = new_number()
    assert "booking reference" in said(assistant.sms(patient, "cancel my appointment"))
    consent = MessagingRepository(session_factory(assistant.database_url))
    assert not consent.is_opted_out(patient)


def test_health_says_the_channel_verifies_signatures(assistant):
    health = httpx.get(f"{assistant.url}/webhooks/twilio/").json()
    assert health == {"status": "ok", "verifying": True, "sending": True}
