"""Questions for the team (issue 15): passed on without a pause, listed as questions until staff reply."""

import asyncio
import time

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.events import SlotSet as SdkSlotSet

from actions.questions import TEAM_QUESTION_INTENTS, ActionPassQuestionOn, question_asked
from clinic.conversations.summary import ConversationSummary, summarise
from clinic.privacy import conversation_key
from tests.conftest import ROOT, make_tracker
from tests.unit.test_staff_inbox import SECRET, inbox  # noqa: F401 - the signed-in console fixture

QUESTION = "will my skin be sore the day after?"


def user(text, intent):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.95}}}


def test_the_question_passed_on_is_the_patients_words_just_before_the_yes():
    events = [user("hello", "greet"), {"event": "bot", "text": "Hi"}, user(QUESTION, "ask_aftercare"),
              {"event": "bot", "text": "That's a good question for our team. Shall I pass it on?"},
              user("yes please", "affirm")]
    assert question_asked(events) == QUESTION
    assert question_asked(events[:2] + [user("yes", "affirm")]) is None  # a yes to something else
    assert question_asked([user("/ask_cancer", "ask_cancer"), user("yes", "affirm")]) is None  # no words
    assert question_asked([user("x" * 900, "ask_cancer"), user("yes", "affirm")]) == "x" * 500
    assert {"ask_aftercare", "ask_cause", "ask_recurrence", "ask_children", "ask_pregnancy",
            "ask_cancer"} == TEAM_QUESTION_INTENTS


def test_the_action_sets_the_question_and_never_pauses(dispatcher, domain):
    tracker = make_tracker(text="yes", intent="affirm", events=[user(QUESTION, "ask_aftercare"),
                                                                user("yes", "affirm")])
    events = asyncio.run(ActionPassQuestionOn().run(dispatcher, tracker, domain))
    assert events == [SdkSlotSet("team_question", QUESTION)]
    assert [m["response"] for m in dispatcher.messages] == ["utter_question_passed_on"]
    assert "team_question" in domain["slots"] and "action_pass_question_on" in domain["actions"]


def test_without_a_question_nothing_is_passed_on(dispatcher, domain):
    tracker = make_tracker(text="yes", intent="affirm", events=[user("yes", "affirm")])
    assert asyncio.run(ActionPassQuestionOn().run(dispatcher, tracker, domain)) == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_question_not_found"]


def rows(*events):
    return [dict(id=i + 1, timestamp=1000.0 + i, **event) for i, event in enumerate(events)]


def test_a_question_waits_until_staff_reply_and_the_bot_is_not_paused():
    slot = {"type_name": "slot", "data": '{"name": "team_question", "value": "is it cancer?"}'}
    said = {"type_name": "user", "intent_name": "ask_cancer",
            "data": '{"text": "is it cancer?", "input_channel": "twilio"}'}
    summary = summarise("+447911123456", rows(said, slot))
    assert summary.team_question == "is it cancer?" and summary.question_since is not None
    assert summary.needs_a_person and not summary.paused and summary.channel == "twilio"
    bot = {"type_name": "bot", "data": '{"text": "I\'ve passed it on", "metadata": {}}'}
    assert summarise("s", rows(said, slot, bot)).team_question == "is it cancer?"  # the bot's own words
    staff = {"type_name": "bot", "data": '{"text": "We can see you.", "metadata": {"staff_reply": true}}'}
    answered = summarise("s", rows(said, slot, staff))
    assert answered.team_question is None and not answered.needs_a_person
    assert not ConversationSummary(sender_id="x").needs_a_person


def asked_a_question(tracker_url, sender, text, intent="ask_aftercare", channel="twilio"):
    """A patient's question passed on to the team (the events action_pass_question_on leaves)."""
    store = SQLTrackerStore(domain=Domain.load(str(ROOT / "domain")), host=tracker_url)
    now = time.time()
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.97}, "entities": []}
    events = [ActionExecuted("action_session_start", timestamp=now), SessionStarted(timestamp=now),
              ActionExecuted("action_listen", timestamp=now),
              UserUttered(text, parse_data=parse, input_channel=channel, timestamp=now + 1),
              ActionExecuted("utter_question_for_team", timestamp=now + 2),
              BotUttered("That's a good question for our team. Shall I pass it on?", timestamp=now + 2),
              ActionExecuted("action_listen", timestamp=now + 2),
              UserUttered("yes", parse_data={"intent": {"name": "affirm", "confidence": 1.0}},
                          input_channel=channel, timestamp=now + 3),
              ActionExecuted("action_pass_question_on", timestamp=now + 4),
              SlotSet("team_question", text, timestamp=now + 4)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()
    return store


def staff_replied(tracker_url, sender):
    store = SQLTrackerStore(domain=Domain.load(str(ROOT / "domain")), host=tracker_url)
    tracker = asyncio.run(store.retrieve(sender))
    tracker.update(BotUttered("Hello, it may feel a little tender.", metadata={"staff_reply": True},
                              timestamp=time.time() + 10))
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def test_the_inbox_lists_a_question_with_its_channel_and_words_until_staff_answer(inbox):  # noqa: F811
    client, tracker_url, _ = inbox
    asked_a_question(tracker_url, "+447911123456", "can my 12 year old have it done", "ask_children")
    page = client.get("/staff/inbox").text
    key = conversation_key(SECRET, "+447911123456")
    assert key in page and "can my 12 year old have it done" in page and "twilio" in page
    assert '<span class="tag question">question</span>' in page and "<title>(2) Needs a person" in page
    assert "asked for a person" in page  # the paused one, told apart
    staff_replied(tracker_url, "+447911123456")
    later = client.get("/staff/inbox").text
    assert key not in later and "<title>(1) Needs a person" in later
