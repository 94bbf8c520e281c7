"""The rule table where the reader's facts decide the intent (clinic/nlu/intent_rules.py), pure."""

import pytest

from clinic import findings
from clinic.nlu import intent_rules
from clinic.nlu.intent_rules import DESCRIBE, INFORM, RED_FLAG


def facts(text):
    """The entity types the reader states for `text` (as ClinicEntityExtractor gives them)."""
    contract = ("hardness", "fluid", "location", "red_flag")
    return [f.entity for f in findings.read(text) if f.entity in contract]


def decided(intent, text, confidence=0.9):
    decision = intent_rules.decide(intent, confidence, facts(text), text)
    return None if decision is None else decision.intent


@pytest.mark.parametrize("classified", ["choose_time", "nlu_fallback", "describe_bump", "ask_squeeze"])
def test_a_stated_red_flag_is_reported_whatever_the_classifier_thought(classified):
    text = "temp of 39 since last night"
    decision = intent_rules.decide(classified, 0.98, facts(text), text)
    assert decision.intent == RED_FLAG and decision.confidence == 1.0


def test_a_denied_red_flag_is_not_reported():
    assert decided(RED_FLAG, "there's been no bleeding at all") == INFORM  # the screening question's answer
    assert decided(RED_FLAG, "hasn't changed colour, not grown, not bled") == INFORM
    assert decided(RED_FLAG, "could it bleed later?") == ""  # a worry, asked: the classifier's next intent
    assert decided(RED_FLAG, "hard little thing on my chin, no bleeding") == DESCRIBE


@pytest.mark.parametrize("text, intent", [
    ("white gunk came out when i squeezed", INFORM),
    ("soft when i press it", INFORM),
    ("i have white spots on my forehead that won't come out when i squeeze", DESCRIBE),
])
def test_a_squeeze_told_rather_than_asked_is_a_description_or_an_answer(text, intent):
    assert decided("ask_squeeze", text) == intent


@pytest.mark.parametrize("text", ["can i squeeze this white spot on my chin", "should i pop it, its soft",
                                  "is it ok to press the hard one on my nose"])
def test_a_squeeze_question_stays_a_question(text):
    assert decided("ask_squeeze", text) is None


@pytest.mark.parametrize("text, classified, intent", [
    ("lump. neck. hard.", INFORM, DESCRIBE),  # a named bump with facts describes it
    ("had this thing on my chin for weeks, soft and it oozes a bit", INFORM, DESCRIBE),
    ("tummy", DESCRIBE, INFORM),  # one fact in a few words answers a question
    ("dry as a bone", DESCRIBE, INFORM),
])
def test_describe_bump_or_inform_by_the_contract(text, classified, intent):
    assert decided(classified, text) == intent


@pytest.mark.parametrize("text, classified", [("soft and weepy", INFORM), ("soft and weepy", DESCRIBE),
                                              ("white spot on my chin", DESCRIBE)])
def test_in_between_the_classifier_stands(text, classified):
    assert decided(classified, text) == classified  # kept, its rivals capped below the fallback


def test_a_description_close_to_a_rival_is_not_lost_to_the_ambiguity_margin():
    text = "the bump on my chin is not soft at all and theres no liquid"
    decision = intent_rules.decide(DESCRIBE, 0.5, facts(text), text)
    assert decision.intent == DESCRIBE and decision.confidence >= intent_rules.FALLBACK_THRESHOLD + 0.1


def test_a_low_red_flag_guess_on_a_description_is_the_description():
    text = "my son has a big spot on his forehead, soft, full of yellow pus"
    assert decided(RED_FLAG, text, confidence=0.29) == DESCRIBE  # the screening question still comes


@pytest.mark.parametrize("text", ["none but could it turn into something nasty?",
                                  "NO!! none of them but IS IT CANCER??"])
def test_a_screening_answer_over_a_guess(text):
    assert decided("delete_my_data", text, confidence=0.24) == INFORM


@pytest.mark.parametrize("text, intent", [("\U0001f44d", "affirm"), ("\U0001f44d\U0001f3fd", "affirm"),
                                          ("\U0001f44e", "deny"), ("\U0001f44d thanks", None)])
def test_a_thumb_is_yes_or_no(text, intent):
    assert decided("nlu_fallback", text, confidence=0.0) == intent


def test_facts_over_a_guess_below_the_fallback_threshold():
    text = "soft one on my jaw, yellow in the middle"
    decision = intent_rules.decide("nlu_fallback", 0.3, facts(text), text)
    assert decision.intent == DESCRIBE and decision.confidence > intent_rules.FALLBACK_THRESHOLD
    assert intent_rules.decide("greet", 0.3, [], "hiya") is None  # nothing stated: the fallback asks


@pytest.mark.parametrize("text, flag", [
    ("the redness round it is spreading", "spreading_redness"),
    ("its gone really red all round and spreading", "spreading_redness"),
    ("yes her eye's swollen", "swollen_eye"),
    ("theres swelling round my eye", "swollen_eye"),
    ("under my eye has ballooned", "swollen_eye"),
    ("its turned a purply colour", "colour_change"),
    ("she's burning up", "fever"),
    ("pain is like 9/10", "severe_pain"),
])
def test_gapped_phrases_find_warning_signs_said_around_other_words(text, flag):
    assert findings.red_flags_from_text(text) == [flag]


NOT_WARNING_SIGNS = ["my eye isn't swollen", "no swelling round my eye", "got a black dot on my nose",
                     "the redness is going down and it's not spreading"]


@pytest.mark.parametrize("text", NOT_WARNING_SIGNS)
def test_a_gap_never_crosses_a_negation(text):
    assert findings.red_flags_from_text(text) == []


@pytest.mark.parametrize("text, found", [
    ("could this white bump on my chin start bleeding if i leave it?", [("location", "chin")]),  # a worry
    ("i can see it bleeding", [("red_flag", "bleeding")]),  # noticed, not wondered
    ("no fever but the redness is spreading up my neck", [("red_flag", "spreading_redness")]),  # not the bump
    ("everythings gone fuzzy in my left eye", [("red_flag", "vision_changes")]),
    ("the white lump on my neck? not hard, sort of squidgy", [("location", "neck"), ("hardness", "soft")]),
    ("maybe a bit of pus", [("fluid", "unsure")]),
    ("which hay fever tablets work best", []),
])
def test_the_reader_reads_a_sign_in_its_sentence(text, found):
    stated = [(f.entity, f.value) for f in findings.read(text)]
    assert sorted(set(stated)) == sorted(found)


@pytest.mark.parametrize("text", ["Unknown.", "dunno tbh", "no idea"])
def test_not_sure_is_no_red_flag_whatever_a_low_guess_says(text):
    assert decided(RED_FLAG, text, confidence=0.57) == INFORM


def test_a_sure_red_flag_guess_is_kept_as_the_safety_net():
    assert decided(RED_FLAG, "my eye looks really weird", confidence=0.9) is None


@pytest.mark.parametrize("text", ["no none of those", "nah none", "not one of them"])
def test_none_of_the_warning_signs_is_an_answer(text):
    assert decided("deny", text, confidence=0.99) == INFORM


@pytest.mark.parametrize("text", ["no", "no thanks", "no I don't want to"])
def test_a_plain_no_stays_a_no(text):
    assert decided("deny", text, confidence=0.99) is None


@pytest.mark.parametrize("text", ["none of that no, eye's fine", "no warning signs no, all grand"])
def test_none_said_first_or_the_signs_named_is_an_answer(text):
    assert decided("deny", text, confidence=0.96) == INFORM


def test_a_parent_describing_a_childs_bump_is_a_description_not_a_question_for_the_team():
    text = "my toddler has tiny hard white bumps on his nose"
    assert decided("ask_children", text, confidence=0.85) == DESCRIBE
    assert decided("ask_children", "can you treat my 9 year old?", confidence=0.85) is None


@pytest.mark.parametrize("text, classified", [
    ("no, tried squeezing it and nothing", "ask_squeeze"),
    ("nowt, even with the tweezers", "ask_self_extract"),
    ("not tried pressing it so couldnt say", "ask_squeeze"),
    ("nothing came of it, i only hurt my nail trying", "ask_pain"),
])
def test_an_answer_telling_what_was_tried_is_an_answer(text, classified):
    assert decided(classified, text, 0.97) == INFORM


@pytest.mark.parametrize("text", ["ive tried squeezing, can i use a needle?",
                                  "should i try squeezing it again",
                                  "i tried squeezing the white spot on my chin, should i keep going?"])
def test_a_squeeze_question_after_an_attempt_stays_a_question(text):
    assert decided("ask_squeeze", text, 0.97) is None


def test_a_stated_fact_beats_a_weak_guess_of_another_intent():
    assert decided("ask_prices", "No, there's no discharge at all.", 0.5) == INFORM
    assert decided("ask_prices", "No, there's no discharge at all.", 0.9) is None  # a sure guess stands
    assert decided("ask_prices", "how much is it for the one on my nose?", 0.5) is None  # asked


def test_a_place_is_no_time():
    assert decided("choose_time", "earlobe", 0.92) == INFORM
    assert decided("choose_time", "my chin, tuesday at 3", 0.92) is None


@pytest.mark.parametrize("text", ["where? on my nose, like i said", "fluid? none at all"])
def test_an_echo_of_the_question_asks_nothing(text):
    assert not intent_rules.asks_something(text)
    assert intent_rules.asks_something("where is it you mean? on my nose?")


def test_one_fact_in_a_short_answer_is_no_red_flag():
    assert decided(RED_FLAG, "och its awfy firm", 0.75) == INFORM
    assert decided(RED_FLAG, "its hard and throbbing", 0.75) == RED_FLAG  # a sign named: the reader's
    assert decided(RED_FLAG, "my eye looks really weird", 0.75) is None


def test_a_yes_or_no_with_a_fact_is_an_answer():
    assert decided("deny", "nah nowt inside it", 0.95) == INFORM
    assert decided("affirm", "yes, squishy", 0.95) == INFORM
    assert decided("deny", "no", 0.95) is None


def test_a_tool_question_asked_of_the_clinic_is_about_the_procedure():
    assert decided("ask_self_extract", "do you use a needle or a lancet", 0.9) == "ask_extraction_procedure"
    assert decided("ask_self_extract", "can i use a needle myself", 0.9) is None
    assert decided("ask_self_extract", "can my mum take it out with tweezers", 0.9) is None


def test_a_fact_about_the_bump_is_in_scope():
    assert decided("out_of_scope", "just where my sunglasses sit on my nose", 0.99) == INFORM
    assert decided("out_of_scope", "do you sell sunglasses that sit on my nose?", 0.99) is None  # asked
    assert decided("out_of_scope", "how do i renew my passport", 0.99) is None  # no fact


@pytest.mark.parametrize("text", ["I'm afraid not", "everything else is fine, just the spot",
                                  "none of the above"])
def test_sweeping_denials_answer_the_screening_question(text):
    assert findings.screening_answer(text) == "none"


@pytest.mark.parametrize("text, intent", [
    ("hardness 8/10", INFORM),
    ("my son (12) has a big whitehead on his chin", DESCRIBE),
])
def test_a_sure_red_flag_guess_with_facts_and_no_sign_named_is_the_description(text, intent):
    assert decided("report_red_flag", text, 0.99) == intent
    assert decided("report_red_flag", "my eye is really puffy", 0.99) == RED_FLAG  # a sign named
    assert decided("report_red_flag", "lump under my eye, looks odd", 0.99) is None  # by the eye: stands


def test_only_not_knowing_is_an_answer_whatever_the_guess():
    assert decided("book_appointment", "he won't let me near it", 0.7) == INFORM
    assert decided("book_appointment", "can i book, no idea what it is", 0.7) is None  # asks for a booking


@pytest.mark.parametrize("text", ["can i get it out with a comedone tool i bought online",
                                  "is it ok to use a sterile needle on it?"])
def test_a_question_naming_a_home_tool_asks_about_self_extraction(text):
    assert decided("out_of_scope", text, 0.8) == "ask_self_extract"


def test_a_home_tool_asked_of_the_clinic_or_told_is_not_a_self_extraction_question():
    assert decided("ask_extraction_procedure", "do you use a needle for it?", 0.9) is None
    assert decided("out_of_scope", "bought some new tweezers today", 0.9) is None


def test_a_short_answer_guessed_as_a_question_is_the_answer():
    assert decided("ask_pain", "feels hard", 0.89) == INFORM
    assert decided("ask_pain", "does it hurt when it's hard?", 0.89) is None  # a question stays one


def test_not_knowing_is_no_yes_or_no():
    assert decided("deny", "couldnt tell you", 0.96) == INFORM
    assert decided("deny", "no, not sure", 0.96) is None  # a no is in it


def test_not_knowing_is_no_red_flag_however_sure_the_guess():
    assert decided("report_red_flag", "would have to ask my husband, hes at work", 0.97) == INFORM
    assert decided("report_red_flag", "not sure, but it has been bleeding", 0.97) == RED_FLAG  # named
    assert decided("report_red_flag", "not sure, my eye feels odd", 0.97) is None  # by the eye: kept


def test_taking_it_out_at_home_asks_about_self_extraction():
    assert decided("inform", "is there a way to get the hard bit out at home", 0.75) == "ask_self_extract"
    assert decided("inform", "is it hard to get out?", 0.75) != "ask_self_extract"  # nothing done at home


def test_a_description_is_one_whatever_the_guess():
    text = "fit like, ive a wee fite plook on ma foreheid, affa hard"
    assert decided("book_appointment", text, 0.9) == DESCRIBE
    assert decided("book_appointment", "can i book in, hard bump on my chin", 0.9) is None  # asks to book


def test_a_price_question_about_a_service_is_a_price_question():
    assert decided("ask_facials", "how much is a facial", 0.5) == "ask_prices"
    assert decided("ask_extraction_procedure", "what's the price of the extraction?", 0.6) == "ask_prices"
    assert decided("ask_facials", "what's in a facial", 0.5) is None
