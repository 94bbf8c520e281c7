"""A patient typing through the REST channel reaches each triage outcome."""


import pytest

from tests.integration.chat import new_sender, screened, texts, time_payloads

pytestmark = pytest.mark.integration


def test_milia_near_the_eye_in_one_message(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "hi")
    assert "not a diagnosis" in texts(reply)  # the disclaimer opens the conversation
    reply = assistant.say(sender, "I have a hard white bump under my eye, no pus")
    reply = screened(assistant, sender, reply)  # the warning signs are asked about first
    said = texts(reply)
    assert "milium" in said
    assert "permanent scarring" in said
    slots = assistant.tracker(sender)["slots"]
    assert slots["triage_result"] == "milia"
    assert (slots["bump_hardness"], slots["bump_fluid"], slots["bump_location"]) == (
        "hard", "no", "eye_area",
    )


def test_pustule_question_by_question_with_negations(assistant):
    sender = new_sender()
    assistant.say(sender, "I have a whitehead")
    reply = assistant.say(sender, "it's not hard at all")
    assert "fluid" in texts(reply) or "pus" in texts(reply)
    assistant.say(sender, "yes there's pus")
    reply = screened(assistant, sender, assistant.say(sender, "chin"), "nope none")
    assert "pustule" in texts(reply)
    assert assistant.tracker(sender)["slots"]["triage_result"] == "pustule"


def test_squeeze_question_mid_form_then_uncertain(assistant):
    sender = new_sender()
    assistant.say(sender, "there's a white spot on my face")
    reply = assistant.say(sender, "can I just pop it?")
    said = texts(reply)
    assert "no opening" in said and "hard" in said.lower()  # warning, then the question again
    assistant.say(sender, "not sure")
    assistant.say(sender, "no fluid")
    reply = screened(assistant, sender, assistant.say(sender, "forehead"), "only that it's annoying")
    assert "can't tell" in texts(reply)
    assert assistant.tracker(sender)["slots"]["triage_result"] == "uncertain"


def test_red_flag_mid_form_goes_to_a_doctor(assistant):
    sender = new_sender()
    assistant.say(sender, "I've got a little white bump")
    reply = assistant.say(sender, "it's been bleeding")
    assert "doctor" in texts(reply)
    slots = assistant.tracker(sender)["slots"]
    assert slots["triage_result"] == "urgent"
    assert slots["requested_slot"] is None


def test_out_of_scope_gets_a_useful_answer(assistant):
    reply = assistant.say(new_sender(), "what's the weather today")
    assert reply and "milia" in texts(reply)


def test_a_second_bump_gets_its_own_triage(assistant):
    sender = new_sender()
    screened(assistant, sender, assistant.say(sender, "I have a hard white bump under my eye, no pus"))
    assert assistant.tracker(sender)["slots"]["triage_result"] == "milia"
    reply = assistant.say(sender, "I have another white bump")
    assert "hard" in texts(reply).lower()  # asks about hardness again
    assistant.say(sender, "soft")
    assistant.say(sender, "full of pus")
    assistant.say(sender, "chin")  # the warning signs were answered once, for the first bump
    assert assistant.tracker(sender)["slots"]["triage_result"] == "pustule"


def test_yes_to_the_screening_question_goes_to_a_doctor_and_urgent_lasts(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "I have a hard white bump on my cheek, no pus")
    reply = screened(assistant, sender, reply, "yes, the second one")
    assert "NHS 111" in texts(reply)
    assert assistant.tracker(sender)["slots"]["triage_result"] == "urgent"
    reply = assistant.say(sender, "it's hard and there's no pus")  # describing it again
    assert "mentioned a warning sign earlier" in texts(reply)
    reply = assistant.say(sender, "can I book an extraction?")
    assert "mentioned a warning sign earlier" in texts(reply)
    assert assistant.tracker(sender)["slots"]["triage_result"] == "urgent"


def test_a_red_flag_at_the_booking_summary_stops_the_booking(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "I have a hard white bump under my eye, no pus")
    reply = screened(assistant, sender, reply)
    reply = assistant.say(sender, "/book_appointment")
    payload = time_payloads(reply)[0]
    assistant.say(sender, payload)
    assistant.say(sender, "Jane Doe")
    reply = assistant.say(sender, "07911 123456")
    assert "Shall I book it?" in texts(reply)
    reply = assistant.say(sender, "yes, but it's started bleeding")
    assert "NHS 111" in texts(reply) and "VW-" not in texts(reply)
    slots = assistant.tracker(sender)["slots"]
    assert slots["triage_result"] == "urgent" and slots["booking_reference"] is None


def test_two_unreadable_answers_move_on_instead_of_looping(assistant):
    sender = new_sender()
    opening = texts(assistant.say(sender, "there is a white bump on my chin"))
    hardness_question = "does the bump feel hard"
    assert hardness_question in opening
    replies = [texts(assistant.say(sender, nonsense)) for nonsense in ("hmm", "asdf qwerty")]
    assert "tap" in replies[0] and hardness_question not in replies[0]  # once more, saying what it takes
    assert "not sure" in replies[1] and "fluid" in replies[1]  # noted as not sure; the next question
    assert assistant.tracker(sender)["slots"]["bump_hardness"] == "unsure"
