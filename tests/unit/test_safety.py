"""clinic/safety.py: red flags at any turn, urgent that lasts, safety questions inside a description."""

from clinic import safety
from clinic.safety import Turn

BLEEDING = ({"entity": "red_flag", "value": "bleeding"},)
EYE = ({"entity": "location", "value": "eye_area"},)


def test_a_red_flag_inside_a_form_deactivates_it_then_gets_the_advice_then_listens():
    turn = Turn(intent="inform", entities=BLEEDING, active_loop="booking_form")
    assert safety.next_action(turn) == safety.DEACTIVATE_LOOP
    turn = Turn(intent="inform", entities=BLEEDING, done=("action_deactivate_loop",))
    assert safety.next_action(turn) == safety.RED_FLAG_ADVICE
    turn = Turn(intent="inform", entities=BLEEDING, done=("action_deactivate_loop", safety.RED_FLAG_ADVICE))
    assert safety.next_action(turn) == safety.LISTEN


def test_a_red_flag_with_any_intent_outside_a_form_gets_the_advice_at_once():
    for intent in ("affirm", "describe_bump", "ask_pain", "greet", None):
        assert safety.next_action(Turn(intent=intent, entities=BLEEDING)) == safety.RED_FLAG_ADVICE


def test_the_red_flag_intent_without_a_named_flag_still_counts():
    assert safety.red_flags_in("report_red_flag", ()) == []
    assert safety.next_action(Turn(intent="report_red_flag")) == safety.RED_FLAG_ADVICE


def test_yes_or_an_ordinal_to_the_screening_question_is_a_red_flag():
    answers = (("/affirm", "affirm"), ("yeah", "affirm"), ("the second one", "inform"), ("yes", None))
    for text, intent in answers:
        turn = Turn(intent=intent, asked="warning_signs", text=text, active_loop="triage_form")
        assert safety.next_action(turn) == safety.DEACTIVATE_LOOP, text


def test_no_to_the_screening_question_or_yes_to_another_is_not():
    assert safety.next_action(Turn(intent="deny", asked="warning_signs", text="nope none")) is None
    # the classifier's guess is not a yes: the words decide
    assert safety.next_action(Turn(intent="affirm", asked="warning_signs", text="hmm")) is None
    annoyed = Turn(intent="affirm", asked="warning_signs", text="only that it's annoying")
    assert safety.next_action(annoyed) is None
    assert safety.next_action(Turn(intent="affirm", asked="bump_fluid", text="yes")) is None


def test_urgent_lasts_describing_again_or_booking_is_sent_to_a_doctor_first():
    for intent in ("describe_bump", "inform", "book_appointment", "choose_time"):
        assert safety.next_action(Turn(intent=intent, urgent=True)) == safety.URGENT_EARLIER
    assert safety.next_action(Turn(intent="thank", urgent=True)) is None
    assert safety.next_action(Turn(intent="describe_bump")) is None


def test_a_squeeze_question_that_describes_a_bump_is_warned_then_triaged():
    turn = Turn(intent="ask_squeeze", entities=EYE)
    assert safety.next_action(turn) == "utter_squeeze_warning"
    turn = Turn(intent="ask_squeeze", entities=EYE, done=("utter_squeeze_warning",))
    assert safety.next_action(turn) == safety.TRIAGE_FORM
    assert safety.next_action(Turn(intent="ask_squeeze")) is None  # the plain rule answers it
    assert safety.next_action(Turn(intent="ask_squeeze", entities=EYE, active_loop="triage_form")) is None


def test_flags_accumulate_and_urgency_lasts_fourteen_days():
    turn = Turn(intent="inform", entities=BLEEDING, red_flags=("fever",))
    assert safety.flags_after(turn) == ["fever", "bleeding"]
    day = 86400
    assert safety.still_urgent(0, 13 * day)
    assert not safety.still_urgent(0, 15 * day)
    assert not safety.still_urgent(None, 0)


def test_a_description_that_asks_to_pop_it_is_warned_first():
    turn = Turn(intent="describe_bump", entities=EYE, text="should i squeeze the white spot under my eye")
    assert safety.next_action(turn) == "utter_squeeze_warning"
    plain = Turn(intent="describe_bump", entities=EYE, text="white spot under my eye")
    assert safety.next_action(plain) is None


def test_a_squeeze_question_naming_a_spot_goes_on_to_the_triage():
    turn = Turn(intent="ask_squeeze", text="can I pop this spot?")
    assert safety.next_action(turn) == "utter_squeeze_warning"
    assert safety.next_action(Turn(intent="ask_squeeze", text="can I pop it?")) is None
