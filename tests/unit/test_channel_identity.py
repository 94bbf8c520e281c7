"""One conversation id, one channel: the namespace rule, the REST refusal, the staff reply's channel."""

import pytest

from clinic.channels.identity import (
    MAX_SENDER_ID_CHARS,
    check_rest_sender,
    output_channel_for,
    reserved_namespace,
)
from clinic.hardening.http import output_channel_refusal


@pytest.mark.parametrize(
    "sender",
    [
        "+447911123456", " +447911123456", "+44 7911 123456", "+1 (415) 555-0100", "0044 7911 123456",
        "07911 123456", "07911123456", "447911123456", "whatsapp:+447911123456", "WhatsApp:+447911123456",
        "  whatsapp:+44", "web:abc.def", "WEB:anything", "sms:+44", "tel:+44", "twilio:x", "socketio:x",
        "messenger:x",
    ],
)
def test_ids_of_other_channels_are_reserved(sender):
    assert reserved_namespace(sender)
    assert check_rest_sender(sender) and "another channel" in check_rest_sender(sender)


@pytest.mark.parametrize(
    "sender", ["me", "patient-1234abcd", "kim", "test_user", "123", "order-4471", "a" * MAX_SENDER_ID_CHARS,
               "0f8fad5bd9cb469fa16570867728950e", "user:42", "anna@example.org"],
)
def test_other_ids_stay_rest_ids_exactly_as_sent(sender):
    assert reserved_namespace(sender) is None
    assert check_rest_sender(sender) is None
    assert output_channel_for(sender) == "rest"


@pytest.mark.parametrize("sender", [None, 42, "", "   ", "x" * (MAX_SENDER_ID_CHARS + 1), "x" * 250_000])
def test_missing_empty_and_overlong_ids_are_refused(sender):
    assert check_rest_sender(sender)


def test_a_staff_reply_goes_out_on_the_channel_the_id_belongs_to():
    assert output_channel_for("+447911123456") == "twilio"
    assert output_channel_for("whatsapp:+447911123456") == "twilio"
    assert output_channel_for("web:abc.def") == "socketio"
    assert output_channel_for("patient-1") == "rest"
    assert output_channel_for("+" * 250_000) == "rest"  # never read past the cap


@pytest.mark.parametrize(
    "path, requested, refused",
    [
        ("/conversations/+447911123456/tracker/events", "twilio", False),
        ("/conversations/+447911123456/tracker/events", "latest", True),
        ("/conversations/patient-1/tracker/events", "twilio", True),
        ("/conversations/patient-1/tracker/events", "latest", True),
        ("/conversations/patient-1/tracker/events", "socketio", False),
        ("/conversations/patient-1/execute", "rest", False),
        ("/conversations/web:abc.def/trigger_intent", "socketio", False),
        ("/conversations/web:abc.def/trigger_intent", "twilio", True),
        ("/conversations/patient-1/tracker/events", None, False),
        ("/status", "twilio", False),
    ],
)
def test_the_http_api_sends_only_on_the_conversations_own_channel(path, requested, refused):
    assert bool(output_channel_refusal(path, requested)) is refused


def test_proactive_sms_refuses_an_id_that_is_not_a_number():
    from clinic.channels.proactive import send_bot_message
    from clinic.config import Settings

    unreachable = Settings.from_env().copy(update={"rasa_url": "http://127.0.0.1:9"})  # nothing may be called
    for conversation in ("patient-1", "web:abc.def", "0f8fad5bd9cb469fa16570867728950e"):
        with pytest.raises(ValueError):
            send_bot_message(conversation, "Your results are ready", settings=unreachable)
