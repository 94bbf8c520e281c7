"""Faults: the action server stops, the Rasa server restarts. The patient always gets an answer."""


import pytest

from tests.integration.chat import new_sender, screened, texts

pytestmark = pytest.mark.integration

UNAVAILABLE = "unavailable right now"


def test_without_the_action_server_every_message_gets_an_answer(assistant):
    midway = new_sender("fault")
    reply = assistant.say(midway, "I have a white bump on my face")
    assert "hard" in texts(reply).lower()  # the triage's first question

    assistant.stop_actions()
    try:
        # A new conversation: the session start falls back to the disclaimer, answers still come.
        fresh = new_sender("fault")
        reply = texts(assistant.say(fresh, "hi"))
        assert "not a diagnosis" in reply
        reply = texts(assistant.say(fresh, "can I squeeze it?"))
        assert "squeez" in reply.lower() and UNAVAILABLE not in reply
        reply = texts(assistant.say(fresh, "what are milia?"))
        assert "keratin" in reply and UNAVAILABLE not in reply

        # The triage needs the action server: a clear message, never silence.
        reply = texts(assistant.say(fresh, "I have a hard white bump under my eye"))
        assert UNAVAILABLE in reply and "call" in reply

        # Mid-triage: the answer can't be checked now; a safety question is still answered first.
        reply = texts(assistant.say(midway, "it's hard"))
        assert UNAVAILABLE in reply
        reply = texts(assistant.say(midway, "can I pop it?"))
        assert "squeez" in reply.lower() and UNAVAILABLE in reply
        reply = texts(assistant.say(midway, "it's been bleeding a lot"))
        assert "doctor" in reply  # red flags never depend on the action server
    finally:
        assistant.start_actions()

    # Back up: the triage carries on where it stopped.
    resumed = new_sender("fault")
    assistant.say(resumed, "I have a white bump")
    reply = texts(assistant.say(resumed, "it's hard"))
    assert "fluid" in reply or "pus" in reply
    assert assistant.tracker(resumed)["slots"]["bump_hardness"] == "hard"


def test_a_restarted_rasa_server_continues_the_conversation(assistant):
    sender = new_sender("fault")
    assistant.say(sender, "I have a white bump")
    assistant.say(sender, "it's soft")
    before = assistant.tracker(sender)["events"]

    assistant.stop_rasa()
    assistant.start_rasa()

    after = assistant.tracker(sender)["events"]
    assert after == before  # nothing lost, nothing changed
    reply = texts(assistant.say(sender, "yes, there's pus"))
    assert "where" in reply.lower()  # the next question, not a new start
    reply = texts(screened(assistant, sender, assistant.say(sender, "chin")))
    assert "pustule" in reply
    slots = assistant.tracker(sender)["slots"]
    assert (slots["bump_hardness"], slots["bump_fluid"], slots["triage_result"]) == ("soft", "yes", "pustule")
