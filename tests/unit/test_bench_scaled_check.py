"""make bench-scaled's read-back check (scripts/bench_scaled.py `conversation_problems`) on built trackers."""

from typing import Dict, List

from scripts.bench_scaled import conversation_problems


def listen() -> Dict:
    return {"event": "action", "name": "action_listen"}


def session_start(disclaimer: str = "Not a diagnosis.") -> List[Dict]:
    return [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "bot", "text": disclaimer},
        listen(),
    ]


def turn(text: str, *answers: str) -> List[Dict]:
    return [
        {"event": "user", "text": text},
        {"event": "user_featurization"},
        *({"event": "bot", "text": answer} for answer in answers),
        listen(),
    ]


EXCHANGES = [("hi", ["Not a diagnosis.", "Hello!"]), ("a bump", ["Is it hard?"])]
WHOLE = [*session_start(), *turn("hi", "Hello!"), *turn("a bump", "Is it hard?")]


def test_a_whole_conversation_has_no_problem():
    assert conversation_problems(WHOLE, EXCHANGES) == []


def test_a_fresh_tracker_without_the_messages_is_reported():
    # What Rasa's API returns for a conversation its tracker store doesn't have: a new session.
    problems = conversation_problems(session_start(), EXCHANGES)
    assert len(problems) == 1 and problems[0].startswith("no user message stored")


def test_a_lost_or_reordered_message_is_reported():
    lost = [*session_start(), *turn("a bump", "Is it hard?")]
    assert conversation_problems(lost, EXCHANGES) == ["messages ['a bump'] != sent ['hi', 'a bump']"]
    swapped = [*session_start(), *turn("a bump", "Is it hard?"), *turn("hi", "Hello!")]
    assert "!= sent" in conversation_problems(swapped, EXCHANGES)[0]


def test_a_reply_the_patient_got_but_the_tracker_lacks_is_reported():
    # The hardened processor's "unavailable" answer after a failed save reaches the patient, not the store.
    unstored = [("hi", ["Not a diagnosis.", "Hello!"]), ("a bump", ["This part is unavailable right now."])]
    problems = conversation_problems(WHOLE, unstored)
    assert problems == [
        "turn 1 ('a bump'): the reply got ['This part is unavailable right now.'] != stored ['Is it hard?']"
    ]


def test_a_turn_without_its_listen_or_with_extra_events_is_not_whole():
    cut = WHOLE[:-1]
    assert conversation_problems(cut, EXCHANGES) == [
        "turn 1 ('a bump') is not whole: no action_listen after it"
    ]
    doubled = [*WHOLE, listen()]
    assert conversation_problems(doubled, EXCHANGES) == ["turn 1 ('a bump') is followed by ['action']"]


def test_a_new_session_before_a_message_belongs_to_that_messages_reply():
    # A session that expired between two messages: the new disclaimer is stored before the second message.
    events = [*session_start(), *turn("hi", "Hello!"), *session_start("Again: not a diagnosis."),
              *turn("a bump", "Is it hard?")]
    exchanges = [
        ("hi", ["Not a diagnosis.", "Hello!"]), ("a bump", ["Again: not a diagnosis.", "Is it hard?"]),
    ]
    assert conversation_problems(events, exchanges) == []
    assert conversation_problems(events, EXCHANGES) != []
