"""A patient waiting for a person: red flags always answered, told once that the team has the message."""

import pytest

from actions.session import ActionSessionStart
from clinic.handoff import (
    RED_FLAG_WHILE_WAITING,
    STILL_WAITING,
    paused_at_end,
    reply_while_waiting,
    reports_red_flag,
)
from tests.conftest import make_tracker

ASKED = [("user", "greet"), ("bot", "utter_greet"), ("user", "human_handoff"),
         ("bot", "utter_handoff_waiting"), ("pause", None)]
TAKEN_OVER = [("user", "describe_bump"), ("bot", "utter_ask_bump_hardness"),
              ("bot", "utter_staff_joined"), ("pause", None)]


@pytest.mark.parametrize(
    "steps, red_flag, expected",
    [
        (ASKED + [("user", "greet")], False, STILL_WAITING),  # the first message after asking
        (ASKED + [("user", "greet"), ("bot", STILL_WAITING), ("user", "x")], False, None),  # told once
        (ASKED + [("user", "x"), ("bot", None), ("user", "ok")], False, None),  # staff replied
        (TAKEN_OVER + [("user", "ok")], False, None),  # staff joined on their own: they answer
        (TAKEN_OVER + [("user", "report_red_flag")], True, RED_FLAG_WHILE_WAITING),  # safety first
        (ASKED + [("user", "x"), ("bot", STILL_WAITING), ("user", "y")], True, RED_FLAG_WHILE_WAITING),
        ([("user", "greet")], False, None),  # not paused at all
    ],
)
def test_reply_while_waiting(steps, red_flag, expected):
    assert reply_while_waiting(steps, red_flag) == expected


def test_red_flags_by_intent_or_entity():
    assert reports_red_flag("report_red_flag", [])
    assert reports_red_flag("describe_bump", [{"entity": "red_flag", "value": "bleeding"}])
    assert not reports_red_flag("greet", [{"entity": "location", "value": "eye_area"}])


def test_paused_at_end():
    assert paused_at_end(["user", "bot", "pause", "user"])
    assert not paused_at_end(["pause", "resume", "user"])
    assert not paused_at_end(["user"])


async def test_a_new_session_keeps_a_waiting_patient_waiting(dispatcher, domain):
    events = [{"event": "user", "text": "a person please"}, {"event": "bot", "text": "..."},
              {"event": "pause"}, {"event": "user", "text": "hello?"}]
    started = await ActionSessionStart().run(dispatcher, make_tracker(events=events), domain)
    assert [e["event"] for e in started] == ["session_started", "pause", "action"]
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_still_waiting"]


async def test_a_new_session_after_hand_back_is_an_ordinary_one(dispatcher, domain):
    events = [{"event": "pause"}, {"event": "resume"}, {"event": "user", "text": "thanks"}]
    started = await ActionSessionStart().run(dispatcher, make_tracker(events=events), domain)
    assert [e["event"] for e in started] == ["session_started", "action"]
    assert [m["response"] for m in dispatcher.messages] == ["utter_disclaimer"]
