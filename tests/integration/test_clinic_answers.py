"""The clinic's own answers through the REST channel: its details from config/clinic.yml (issue 15)."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clinic.details import load_clinic_file, price_words, week_words
from clinic.testing.twilio_fake import twiml_texts
from tests.integration.chat import buttons, new_sender, responded, screened, texts, time_payloads

pytestmark = pytest.mark.integration

DETAILS, SCHEDULE = load_clinic_file()


def test_asking_for_a_person_gives_the_clinics_number(assistant):
    reply = texts(assistant.say(new_sender(), "can I talk to a real person please"))
    assert f"call us on {DETAILS.phone}" in reply, reply
    assert "{" not in reply


def test_the_red_flag_advice_is_the_clinics_emergency_advice(assistant):
    reply = texts(assistant.say(new_sender(), "I have a white bump and it's been bleeding a lot"))
    emergency = DETAILS.emergency
    assert f"{emergency.doctor} promptly or call {emergency.advice_line}" in reply, reply
    assert f"call {emergency.emergency_number} or go to {emergency.emergency_department}" in reply


NEXT_STEP = ["Book an appointment", "Ask something else", "Talk to a person"]
PASS_IT_ON = "That's a good question for our team. Shall I pass it on?"


def titles(messages):
    return [b["title"] for b in buttons(messages)]


def test_opening_hours_today_and_the_week_from_the_config(assistant):
    reply = assistant.say(new_sender(), "what time are you open till today?")
    said = texts(reply)
    assert f"Our opening hours: {week_words(SCHEDULE)}." in said, said
    today = datetime.now(ZoneInfo(SCHEDULE.timezone)).strftime("%A")
    assert f"({today})" in said and "{" not in said
    assert titles(reply) == NEXT_STEP


def test_where_the_clinic_is(assistant):
    reply = assistant.say(new_sender(), "whats the address of the clinic")
    said = texts(reply)
    assert DETAILS.address in said and DETAILS.phone in said, said
    assert titles(reply) == NEXT_STEP


def test_prices_and_durations_of_each_service(assistant):
    reply = assistant.say(new_sender(), "how much do you charge for milia removal?")
    said = texts(reply)
    for service in SCHEDULE.services:
        line = f"{service.name}: {service.duration_minutes} minutes, £{service.price_pence // 100}"
        assert line in said, said
    assert titles(reply) == NEXT_STEP


def test_a_facials_price_from_the_config(assistant):
    said = texts(assistant.say(new_sender(), "how much is a facial"))
    facial = next(s for s in SCHEDULE.services if s.code == "facial")
    # The facials answer or the price list (DIET may take it either way): the price from the config.
    answer = f"IMAGE Skincare facials ({facial.duration_minutes} minutes, £{facial.price_pence // 100})"
    price = price_words(facial.price_pence, SCHEDULE.currency)
    price_list = f"{facial.name}: {facial.duration_minutes} minutes, {price}"
    assert answer in said or price_list in said, said


def test_who_does_the_treatments_from_the_clinics_text(assistant):
    reply = assistant.say(new_sender(), "who will be doing my treatment")
    said = texts(reply)
    assert "fully trained aestheticians" in said and "professionals" in said, said
    assert titles(reply) == NEXT_STEP


@pytest.mark.parametrize("text, service", [("I'd like to book a facial", "facial"),
                                           ("a consultation", "consultation")])
def test_booking_a_service_by_name(assistant, text, service):
    sender = new_sender()
    reply = screened(assistant, sender, assistant.say(sender, text))  # the warning signs first
    assert assistant.tracker(sender)["slots"]["booking_service"] == service, texts(reply)
    assert time_payloads(reply), texts(reply)  # straight to that service's free times


def test_ask_something_else_asks_what(assistant):
    sender = new_sender()
    assistant.say(sender, "where are you based")
    assistant.say(sender, "/ask_something_else")
    assert responded(assistant, sender) == ["utter_ask_something_else"]


@pytest.mark.parametrize("text", [
    "what aftercare will i need after the extraction",
    "will my skin be red and sore the next day",
    "what causes milia to form in the first place",
    "will they come back after you take them out",
])
def test_questions_the_text_does_not_answer_are_offered_to_the_team(assistant, text):
    reply = assistant.say(new_sender(), text)
    assert texts(reply).endswith(PASS_IT_ON), texts(reply)
    assert titles(reply) == ["Yes, pass it on", "No, thanks"]


@pytest.mark.parametrize("text", ["can you treat my daughter, she's only 11",
                                  "is it safe while i'm pregnant"])
def test_children_and_pregnancy_also_go_to_the_gp(assistant, text):
    said = texts(assistant.say(new_sender(), text))
    assert "That's a good question for our team, and please ask your GP." in said, said


@pytest.mark.parametrize("text", ["is it cancer?", "could this be skin cancer"])
def test_is_it_cancer_gets_no_reassurance(assistant, text):
    reply = assistant.say(new_sender(), text)
    said = texts(reply)
    assert "I can't diagnose" in said and "your GP" in said and "our team can look at it" in said, said
    for reassurance in ("nothing to worry", "harmless", "not cancer", "it's just", "benign", "don't worry"):
        assert reassurance not in said.lower()
    assert "Book a consultation" in titles(reply)


def test_yes_passes_the_question_on_and_the_bot_carries_on(assistant):
    sender = new_sender()
    question = "will my skin be red and sore the next day"
    assistant.say(sender, question)
    said = texts(assistant.say(sender, "yes please"))
    assert responded(assistant, sender) == ["utter_question_passed_on"], said
    tracker = assistant.tracker(sender)
    assert tracker["paused"] is False and tracker["slots"]["team_question"] == question
    assistant.say(sender, "what are milia?")
    assert "utter_what_is_milia" in responded(assistant, sender)  # not paused: the bot answers


def test_no_keeps_the_question(assistant):
    sender = new_sender()
    assistant.say(sender, "will they come back after you take them out")
    reply = assistant.say(sender, "no thanks")
    assert responded(assistant, sender) == ["utter_question_not_passed_on"] and titles(reply) == NEXT_STEP
    assert assistant.tracker(sender)["slots"]["team_question"] is None


def test_a_question_for_the_team_during_the_triage_then_the_triage_goes_on(assistant):
    sender = new_sender()
    assistant.say(sender, "I have a white bump on my cheek")
    said = texts(assistant.say(sender, "can you treat my daughter, she's only 11"))
    assert "please ask your GP" in said and "ask me again" in said, said
    assert responded(assistant, sender)[-1] == "utter_ask_bump_hardness"  # the hardness question again


def test_the_procedure_answer_is_the_clinics_professionals_a_warning_and_a_booking(assistant):
    reply = assistant.say(new_sender(), "do you use a lancet?")
    said = texts(reply)
    extraction = next(s for s in SCHEDULE.services if s.code == "extraction")
    price = f"{extraction.duration_minutes} minutes, £{extraction.price_pence // 100}"
    assert f"by our professionals ({price})" in said, said
    assert "never try it yourself" in said and "permanent scarring" in said, said
    assert not any(word in said for word in ("blade", "pushed out", "comedone"))
    assert titles(reply) == ["Book an extraction", "Ask something else", "Talk to a person"]


def test_by_sms_a_knowledge_answer_fits_and_its_next_step_is_a_number(assistant):
    number = f"+4477009{uuid.uuid4().int % 100000:05d}"
    assistant.sms(number, "hi")
    response = assistant.sms(number, "what are milia?")
    said = "\n".join(twiml_texts(response.text))
    assert "milium" in said and "millium" not in said
    assert said.endswith("Reply 1 for Book an appointment, 2 for Ask something else, 3 for Talk to a person")
    assert len(said) <= 4 * 153, len(said)  # the answer and its next step: four SMS segments at most
    assert "what would you like to know" in " ".join(twiml_texts(assistant.sms(number, "2").text))
