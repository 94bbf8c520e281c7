"""The integration tests' reading of response names (tests/integration/chat.py), on Rasa's own events."""

from rasa.core.actions.action import create_bot_utterance
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from tests.integration.chat import NO_RESPONSE, conversation_responses, turn_responses


def bot(response: str):
    """A bot message as Rasa 3.6 records a response (ActionBotResponse, or a custom action's response=)."""
    return create_bot_utterance({"text": f"the words of {response}", "utter_action": response})


def as_the_http_api_gives_it(*events) -> dict:
    tracker = DialogueStateTracker.from_events("patient", list(events))
    return tracker.current_state(EventVerbosity.AFTER_RESTART)


def test_a_turn_is_what_answered_the_latest_message_including_the_session_it_started():
    first_turn = [
        ActionExecuted("action_session_start"), SessionStarted(), bot("utter_disclaimer"),
        ActionExecuted("action_listen"), UserUttered("I have a white bump"), bot("utter_ask_bump_hardness"),
        ActionExecuted("action_listen"),
    ]
    opening = as_the_http_api_gives_it(*first_turn)
    assert turn_responses(opening) == ["utter_disclaimer", "utter_ask_bump_hardness"]
    second_turn = [UserUttered("can I pop it?"), bot("utter_squeeze_warning"), bot("utter_ask_bump_hardness"),
                   ActionExecuted("action_listen")]
    tracker = as_the_http_api_gives_it(*first_turn, *second_turn)
    assert turn_responses(tracker) == ["utter_squeeze_warning", "utter_ask_bump_hardness"]
    assert conversation_responses(tracker) == [
        "utter_disclaimer", "utter_ask_bump_hardness", "utter_squeeze_warning", "utter_ask_bump_hardness"]


def test_a_message_no_response_produced_is_named_as_such():
    staff_reply = create_bot_utterance({"text": "Hello, I'm nurse Rita", "staff_reply": True})
    tracker = as_the_http_api_gives_it(UserUttered("hello?"), staff_reply)
    assert turn_responses(tracker) == [NO_RESPONSE]
