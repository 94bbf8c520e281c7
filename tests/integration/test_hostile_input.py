"""Hostile and odd input over the REST channel: never a 5xx, always a polite reply, nothing corrupt stored."""

import json

import httpx
import pytest

from tests.integration.chat import new_sender, texts

pytestmark = pytest.mark.integration

WEBHOOK = "/webhooks/rest/webhook"


def post(assistant, body, **kwargs):
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(
        assistant.url + WEBHOOK, content=content, headers={"Content-Type": "application/json"},
        timeout=30, **kwargs,
    )


def user_texts(assistant, sender):
    events = assistant.tracker(sender)["events"]
    return [e["text"] for e in events if e["event"] == "user"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "empty"),
        ("   \n\t  ", "empty"),
        ("\x00\x07\x1b", "empty"),
        ("x" * 20_000, "too long"),
        ("bump " * 401, "2000"),
    ],
)
def test_messages_that_are_not_processed_get_a_clear_reply_and_are_not_stored(assistant, text, expected):
    sender = new_sender("hostile")
    response = post(assistant, {"sender": sender, "message": text})
    assert response.status_code == 200
    assert expected in texts(response.json())
    assert user_texts(assistant, sender) == []


@pytest.mark.parametrize(
    "text",
    [
        "I have a bump 🙂🙃 on my 👁️ lid",
        "У меня белая шишка под глазом",
        "眼の下に白いできものがあります",
        "عندي حبة بيضاء تحت عيني",
        "<script>alert('x')</script><b>bump</b>",
        "'; DROP TABLE events; --",
        "1 OR 1=1; SELECT * FROM events WHERE sender_id LIKE '%'",
        '{"sender": "someone-else", "message": "hi", "slots": {"triage_result": "milia"}}',
        "[[[[[[[[[[]]]]]]]]]]{{{{{}}}}}",
        "%s %n %x {0} ${HOME} `id` $(id)",
        "ok\u202eevil\u200b\ufeff",
    ],
)
def test_odd_text_gets_a_reply_and_is_stored_as_text(assistant, text):
    sender = new_sender("hostile")
    response = post(assistant, {"sender": sender, "message": text})
    assert response.status_code == 200
    assert texts(response.json()).strip()  # never silence
    stored = user_texts(assistant, sender)
    assert stored == [text.strip()]
    slots = assistant.tracker(sender)["slots"]
    assert slots["triage_result"] is None


def test_control_characters_are_removed_before_storing(assistant):
    sender = new_sender("hostile")
    response = post(assistant, {"sender": sender, "message": "hard\x00 bump\x1b[2J under my eye\x07"})
    assert response.status_code == 200 and texts(response.json())
    [stored] = user_texts(assistant, sender)
    assert "\x00" not in stored and "\x1b" not in stored and "\x07" not in stored
    assert "hard" in stored and "under my eye" in stored


@pytest.mark.parametrize(
    "payload, slot",
    [
        ('/inform{"hardness": "hard"}', "bump_hardness"),
        ('/inform{"location": "eye_area"}', "bump_location"),
        ('/report_red_flag{"red_flag": "fever"}', "triage_result"),
        ("/report_red_flag", "triage_result"),
        ('/book_appointment{"triage_result": "milia"}', "triage_result"),
    ],
)
def test_typed_payloads_set_no_slot_and_trigger_no_intent(assistant, payload, slot):
    sender = new_sender("hostile")
    reply = texts(assistant.say(sender, payload))
    assert "another way" in reply  # read as a message the bot did not understand
    tracker = assistant.tracker(sender)
    assert tracker["slots"][slot] in (None, [])
    assert tracker["latest_message"]["intent"]["name"] == "nlu_fallback"
    assert tracker["latest_message"]["entities"] == []


def test_a_button_the_bot_offered_still_works_but_not_in_another_conversation(assistant):
    sender = new_sender("hostile")
    reply = assistant.say(sender, "I have a white bump")
    payloads = [b["payload"] for m in reply for b in m.get("buttons", [])]
    hard = next(p for p in payloads if '"hard"' in p)
    # Another conversation typing the same payload gets nothing from it.
    other = new_sender("hostile")
    assistant.say(other, "I have a white bump")
    assistant.say(other, "what are milia?")  # the hardness question is asked again; its buttons too
    intruder = new_sender("hostile")
    assistant.say(intruder, hard)
    assert assistant.tracker(intruder)["slots"]["bump_hardness"] is None
    # The patient who was offered it clicks it (JSON spacing as a widget may send it).
    reply = texts(assistant.say(sender, hard.replace(": ", ":")))
    assert "fluid" in reply or "pus" in reply
    assert assistant.tracker(sender)["slots"]["bump_hardness"] == "hard"


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"{\"sender\": \"x\", \"message\": ",
        b"[1, 2, 3]",
        b"null",
        b"",
        b"\xff\xfe\x00garbage",
        {"message": "hi"},
        {"sender": 12345, "message": "hi"},
        {"sender": "", "message": "hi"},
        {"sender": "x" * 500, "message": "hi"},
        {"sender": "a\x00b", "message": "hi"},
        {"sender": "ok", "message": {"text": "hi"}},
        {"sender": "ok", "message": ["hi"]},
        {"sender": "ok", "message": 42},
        {"sender": "ok", "message": "hi", "metadata": "not an object"},
    ],
)
def test_malformed_webhook_bodies_get_a_polite_400(assistant, body):
    response = post(assistant, body)
    assert response.status_code == 400
    [message] = response.json()
    assert "couldn't read" in message["text"]


def test_an_oversized_body_is_refused_without_a_server_error(assistant):
    response = post(assistant, {"sender": new_sender("hostile"), "message": "x" * 400_000})
    assert response.status_code == 413


def test_a_conversation_sending_too_fast_is_asked_to_slow_down(assistant):
    sender = new_sender("hostile")
    # 30 messages a minute are allowed (the bucket refills while we send): cheap empty ones first.
    replies = [texts(post(assistant, {"sender": sender, "message": ""}).json()) for _ in range(30)]
    assert not any("faster than I can read" in reply for reply in replies)
    for _ in range(30):
        if "faster than I can read" in texts(post(assistant, {"sender": sender, "message": ""}).json()):
            break
    else:
        pytest.fail("60 messages in a row were never slowed down")
    response = post(assistant, {"sender": sender, "message": "I have a white bump"})
    assert response.status_code == 200
    assert "faster than I can read" in texts(response.json())
    assert user_texts(assistant, sender) == []
    # Another conversation is not affected.
    assert "faster" not in texts(assistant.say(new_sender("hostile"), "what are milia?"))


def test_a_client_address_sending_too_fast_gets_429(assistant):
    client = {"X-Forwarded-For": "203.0.113.77"}  # a documentation address, never contacted
    with httpx.Client(base_url=assistant.url, headers=client, timeout=30) as http:
        # The fixture allows 100 requests a minute per address (the bucket refills while we send).
        statuses = [http.get("/webhooks/rest/").status_code for _ in range(100)]
        assert statuses == [200] * 100
        for _ in range(200):
            if http.get("/webhooks/rest/").status_code == 429:
                break
        else:
            pytest.fail("300 requests in a row were never limited")
        response = http.post(WEBHOOK, json={"sender": new_sender("hostile"), "message": "hi"})
    assert response.status_code == 429
    assert "faster than I can read" in texts(response.json())
    # Other clients, and the trusted proxy itself, are served.
    other = httpx.post(assistant.url + WEBHOOK, json={"sender": new_sender("hostile"), "message": "hi"},
                       headers={"X-Forwarded-For": "203.0.113.78"}, timeout=30)
    assert other.status_code == 200 and texts(other.json())
    assert assistant.say(new_sender("hostile"), "hi")
