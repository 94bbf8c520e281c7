"""A patient typing through the REST channel reaches each triage outcome.

Which response the bot gave is read by name from the tracker (`responded`); the wording only where it is
the point (the eye-area scarring warning).
"""


import pytest

from tests.integration.chat import new_sender, responded, screened, texts, time_payloads

pytestmark = pytest.mark.integration


def test_milia_near_the_eye_in_one_message(assistant):
    sender = new_sender()
    assistant.say(sender, "hi")
    assert responded(assistant, sender)[0] == "utter_disclaimer"  # the disclaimer opens the conversation
    reply = assistant.say(sender, "I have a hard white bump under my eye, no pus")
    reply = screened(assistant, sender, reply)  # the warning signs are asked about first
    assert responded(assistant, sender) == ["utter_assessment"]
    assert "permanent scarring" in texts(reply)  # the eye area's warning (its words are the point)
    slots = assistant.tracker(sender)["slots"]
    assert (slots["triage_result"], slots["near_eye"]) == ("milia", True)  # the assessment's variant
    assert (slots["bump_hardness"], slots["bump_fluid"], slots["bump_location"]) == (
        "hard", "no", "eye_area",
    )


def test_pustule_question_by_question_with_negations(assistant):
    sender = new_sender()
    assistant.say(sender, "I have a whitehead")
    assistant.say(sender, "it's not hard at all")
    assert responded(assistant, sender) == ["utter_ask_bump_fluid"]
    assistant.say(sender, "yes there's pus")
    screened(assistant, sender, assistant.say(sender, "chin"), "nope none")
    assert responded(assistant, sender) == ["utter_assessment"]
    assert assistant.tracker(sender)["slots"]["triage_result"] == "pustule"


def test_squeeze_question_mid_form_then_uncertain(assistant):
    sender = new_sender()
    assistant.say(sender, "there's a white spot on my face")
    assistant.say(sender, "can I just pop it?")
    # the warning, then the question again
    assert responded(assistant, sender) == ["utter_squeeze_warning", "utter_ask_bump_hardness"]
    assistant.say(sender, "not sure")
    assistant.say(sender, "no fluid")
    screened(assistant, sender, assistant.say(sender, "forehead"), "only that it's annoying")
    assert responded(assistant, sender) == ["utter_assessment"]
    assert assistant.tracker(sender)["slots"]["triage_result"] == "uncertain"


def test_red_flag_mid_form_goes_to_a_doctor(assistant):
    sender = new_sender()
    assistant.say(sender, "I've got a little white bump")
    assistant.say(sender, "it's been bleeding")
    assert responded(assistant, sender) == ["utter_red_flag_advice"]
    slots = assistant.tracker(sender)["slots"]
    assert slots["triage_result"] == "urgent"
    assert slots["requested_slot"] is None


def test_out_of_scope_gets_a_useful_answer(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "what's the weather today")
    assert reply and "utter_out_of_scope" in responded(assistant, sender)  # says what it can help with


def test_a_second_bump_gets_its_own_triage(assistant):
    sender = new_sender()
    screened(assistant, sender, assistant.say(sender, "I have a hard white bump under my eye, no pus"))
    assert responded(assistant, sender) == ["utter_assessment"]
    assert assistant.tracker(sender)["slots"]["triage_result"] == "milia"
    assistant.say(sender, "I have another white bump")
    assert responded(assistant, sender) == ["utter_ask_bump_hardness"]  # its own triage, from the start
    assistant.say(sender, "soft")
    assert responded(assistant, sender) == ["utter_ask_bump_fluid"]
    assistant.say(sender, "full of pus")
    assert responded(assistant, sender) == ["utter_ask_bump_location"]
    assistant.say(sender, "chin")  # the warning signs were answered once, for the first bump
    assert responded(assistant, sender) == ["utter_assessment"]
    slots = assistant.tracker(sender)["slots"]
    assert (slots["triage_result"], slots["near_eye"]) == ("pustule", False)  # from its own answers
    assert (slots["bump_hardness"], slots["bump_fluid"], slots["bump_location"]) == ("soft", "yes", "chin")


def test_a_second_bump_keeps_what_its_own_message_says(assistant):
    sender = new_sender()
    screened(assistant, sender, assistant.say(sender, "I have a hard white bump under my eye, no pus"))
    assert responded(assistant, sender) == ["utter_assessment"]
    assistant.say(sender, "I have another one on my chin, it's soft")
    assert responded(assistant, sender) == ["utter_ask_bump_fluid"]  # hardness and place are in the message
    assistant.say(sender, "no pus")
    assert responded(assistant, sender) == ["utter_assessment"]
    slots = assistant.tracker(sender)["slots"]
    assert (slots["triage_result"], slots["near_eye"]) == ("uncertain", False)
    assert (slots["bump_hardness"], slots["bump_fluid"], slots["bump_location"]) == ("soft", "no", "chin")


def test_yes_to_the_screening_question_goes_to_a_doctor_and_urgent_lasts(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "I have a hard white bump on my cheek, no pus")
    screened(assistant, sender, reply, "yes, the second one")
    assert responded(assistant, sender) == ["utter_red_flag_advice"]
    assert assistant.tracker(sender)["slots"]["triage_result"] == "urgent"
    assistant.say(sender, "it's hard and there's no pus")  # describing it again
    assert responded(assistant, sender) == ["utter_urgent_earlier"]
    assistant.say(sender, "can I book an extraction?")
    assert responded(assistant, sender) == ["utter_urgent_earlier"]
    assert assistant.tracker(sender)["slots"]["triage_result"] == "urgent"


def test_a_red_flag_at_the_booking_summary_stops_the_booking(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "I have a hard white bump under my eye, no pus")
    reply = screened(assistant, sender, reply)
    reply = assistant.say(sender, "/book_appointment")
    payload = time_payloads(reply)[0]
    assistant.say(sender, payload)
    assistant.say(sender, "Jane Doe")
    assistant.say(sender, "07911 123456")
    assert responded(assistant, sender) == ["utter_booking_summary"]
    reply = assistant.say(sender, "yes, but it's started bleeding")
    assert responded(assistant, sender) == ["utter_red_flag_advice"] and "VW-" not in texts(reply)
    slots = assistant.tracker(sender)["slots"]
    assert slots["triage_result"] == "urgent" and slots["booking_reference"] is None


def test_two_unreadable_answers_move_on_instead_of_looping(assistant):
    sender = new_sender()
    assistant.say(sender, "there is a white bump on my chin")
    assert responded(assistant, sender)[-1] == "utter_ask_bump_hardness"
    said = texts(assistant.say(sender, "hmm"))
    assert responded(assistant, sender) == ["utter_ask_bump_hardness"]  # once more,
    assert "tap" in said and "does the bump feel hard" not in said  # in its variant saying what it takes
    assistant.say(sender, "asdf qwerty")
    # noted as not sure; the next question
    assert responded(assistant, sender) == ["utter_noted_unsure", "utter_ask_bump_fluid"]
    assert assistant.tracker(sender)["slots"]["bump_hardness"] == "unsure"
