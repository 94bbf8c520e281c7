"""Erasure from the chat: only the conversation's owner can ask, and nothing about them is left."""

import random

import httpx
import pytest

from clinic.channels.repository import MessagingRepository
from clinic.conversations.repository import ConversationRepository
from clinic.conversations.store import tracker_engine
from clinic.db.engine import session_factory
from clinic.testing.twilio_fake import twiml_texts

pytestmark = pytest.mark.integration


def test_an_sms_patient_erases_their_conversation_and_options_and_nobody_else_can(assistant):
    number = "+4479" + "".join(random.choice("0123456789") for _ in range(8))
    messaging = MessagingRepository(session_factory(assistant.database_url))
    assert twiml_texts(assistant.sms(number, "I have a white bump").text)
    assert messaging.reply_options(number)  # "Reply 1 for Hard, ..." is waiting for an answer

    # Over REST, an attacker who knows the number cannot even start the erasure.
    for text in ("delete my data", "/affirm"):
        refused = httpx.post(f"{assistant.url}/webhooks/rest/webhook",
                             json={"sender": number, "message": text}, timeout=30)
        assert refused.status_code == 400
    assert assistant.tracker(number)["events"]

    # The patient, from their own number, can.
    asked = " ".join(twiml_texts(assistant.sms(number, "please delete my data").text))
    assert "can't be undone" in asked, asked
    done = " ".join(twiml_texts(assistant.sms(number, "yes").text))
    assert "deleted" in done, done
    # read from the tracker store itself (Rasa's GET /tracker would start a new, empty session)
    assert ConversationRepository(tracker_engine(assistant.tracker_store_url)).events_for(number) == []
    assert messaging.reply_options(number) == []
