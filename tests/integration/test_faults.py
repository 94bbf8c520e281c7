"""Faults: the action server stops, the Rasa server restarts. The patient always gets an answer.

Which answer is read by name from the tracker (`responded`), which the Rasa server keeps without the
action server.
"""


import pytest

from tests.integration.chat import new_sender, responded, screened

pytestmark = pytest.mark.integration

UNAVAILABLE = "utter_service_unavailable"  # "...unavailable right now... please call"


def test_without_the_action_server_every_message_gets_an_answer(assistant):
    midway = new_sender("fault")
    assistant.say(midway, "I have a white bump on my face")
    assert responded(assistant, midway)[-1] == "utter_ask_bump_hardness"  # the triage's first question

    assistant.stop_actions()
    try:
        # A new conversation: the session start falls back to the disclaimer, answers still come.
        fresh = new_sender("fault")
        assistant.say(fresh, "hi")
        assert responded(assistant, fresh)[0] == "utter_disclaimer"
        assistant.say(fresh, "can I squeeze it?")
        answer = responded(assistant, fresh)
        assert "utter_squeeze_warning" in answer and UNAVAILABLE not in answer
        assistant.say(fresh, "what are milia?")
        answer = responded(assistant, fresh)
        assert "utter_what_is_milia" in answer and UNAVAILABLE not in answer

        # The triage needs the action server: a clear message, never silence.
        assistant.say(fresh, "I have a hard white bump under my eye")
        assert responded(assistant, fresh) == [UNAVAILABLE]

        # Mid-triage: the answer can't be checked now; a safety question is still answered first.
        assistant.say(midway, "it's hard")
        assert responded(assistant, midway) == [UNAVAILABLE]
        assistant.say(midway, "can I pop it?")
        assert responded(assistant, midway) == ["utter_squeeze_warning", UNAVAILABLE]
        assistant.say(midway, "it's been bleeding a lot")
        # red flags never depend on the action server
        assert responded(assistant, midway) == ["utter_red_flag_advice"]
    finally:
        assistant.start_actions()

    # Back up: the triage carries on where it stopped.
    resumed = new_sender("fault")
    assistant.say(resumed, "I have a white bump")
    assistant.say(resumed, "it's hard")
    assert responded(assistant, resumed) == ["utter_ask_bump_fluid"]
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
    assistant.say(sender, "yes, there's pus")
    assert responded(assistant, sender) == ["utter_ask_bump_location"]  # the next question, not a new start
    screened(assistant, sender, assistant.say(sender, "chin"))
    assert responded(assistant, sender) == ["utter_assessment"]
    slots = assistant.tracker(sender)["slots"]
    assert (slots["bump_hardness"], slots["bump_fluid"], slots["triage_result"]) == ("soft", "yes", "pustule")
