"""Patients' words -> contract slot values, as a table."""

from pathlib import Path

import pytest

from clinic import findings
from clinic.findings import (
    findings_from_text,
    fluid_from_text,
    hardness_from_text,
    location_from_text,
    normalise,
    red_flags_from_text,
)


@pytest.mark.parametrize(
    "text,value",
    [
        ("hard", "hard"),
        ("its hrd n theres no pus", "hard"),
        ("firm", "hard"),
        ("like a grain of sand", "hard"),
        ("not soft at all", "hard"),
        ("it isn't soft", "hard"),
        ("it isn’t soft", "hard"),
        ("soft", "soft"),
        ("kinda squishy", "soft"),
        ("it is not hard", "soft"),
        ("not sure", "unsure"),
        ("hard to say", "unsure"),
        ("no idea tbh", "unsure"),
        ("hard, not sure about pus", "hard"),
        ("on my cheek", None),
    ],
)
def test_hardness(text, value):
    assert hardness_from_text(text) == value


@pytest.mark.parametrize(
    "text,value",
    [
        ("no pus", "no"),
        ("no pus at all", "no"),
        ("there's no fluid", "no"),
        ("nothing comes out", "no"),
        ("its hrd n theres no pus", "no"),
        ("without any liquid", "no"),
        ("yes there is pus", "yes"),
        ("full of yellow pus", "yes"),
        ("it oozes", "yes"),
        ("hard, not sure about pus", "unsure"),
        ("I have a whitehead", None),
        ("hard", None),
    ],
)
def test_fluid(text, value):
    assert fluid_from_text(text) == value


@pytest.mark.parametrize(
    "text,value",
    [
        ("eyelid", "eye_area"),
        ("under my lower lash line", "eye_area"),
        ("next to my eye", "eye_area"),
        ("around the eyes", "eye_area"),
        ("on my nose", "nose"),
        ("left cheek", "cheek"),
        ("forehead", "forehead"),
        ("chin", "chin"),
        ("top lip", "lip_mouth"),
        ("neck", "neck"),
        ("on my back", "body"),
        ("no idea", None),
    ],
)
def test_location(text, value):
    assert location_from_text(text) == value


@pytest.mark.parametrize(
    "text,flags",
    [
        ("it's been bleeding", ["bleeding"]),
        ("it's growing fast and turned black", ["fast_growth", "colour_change"]),
        ("the redness is spreading and I have a fever", ["spreading_redness", "fever"]),
        ("my vision is blurry", ["vision_changes"]),
        ("my eye is swollen", ["swollen_eye"]),
        # A swollen or puffy eyelid, in the ways patients put it (eye trouble goes to a doctor).
        ("my eyelid is puffy and swollen", ["swollen_eye"]),
        ("my upper eyelid swelled up", ["swollen_eye"]),
        ("my eye is red and swollen", ["swollen_eye"]),
        ("there's swelling around my eye", ["swollen_eye"]),
        ("no swelling around my eye", []),
        ("my eyelid isn't swollen", []),
        ("no fever, no bleeding", []),
        ("a hard white bump", []),
    ],
)
def test_red_flags(text, flags):
    assert red_flags_from_text(text) == flags


def test_three_facts_in_one_message():
    found = findings_from_text("a hard white bump under my eye, no pus")
    assert (found.hardness, found.fluid, found.location, found.red_flags) == (
        "hard", "no", "eye_area", [],
    )


@pytest.mark.parametrize(
    "kind,raw,value",
    [
        ("hardness", "hard", "hard"),
        ("hardness", "HARD", "hard"),
        ("hardness", "not hard at all", "soft"),
        ("fluid", "no", "no"),
        ("fluid", "no pus", "no"),
        ("location", "eye_area", "eye_area"),
        ("location", "lash line", "eye_area"),
        ("location", "other", "other"),
        ("hardness", None, None),
        ("hardness", "purple", None),
    ],
)
def test_normalise_entity_values(kind, raw, value):
    assert normalise(kind, raw) == value


# --- issue 12: misspellings, hedges, screening answers ---------------------------------------------
import pytest  # noqa: E402

from clinic import findings as _findings  # noqa: E402


@pytest.mark.parametrize(
    "text, value",
    [("on my forhed", "forehead"), ("its on my chek", "cheek"), ("my eyeleed", "eye_area"),
     ("cheak", "cheek")],
)
def test_misspelt_places_are_matched_against_the_lexicon(text, value):
    assert _findings.location_from_text(text) == value


@pytest.mark.parametrize("text", ["sort of", "on my hand", "check it", "I haven't checked"])
def test_ordinary_english_words_are_never_corrected(text):
    assert _findings.hardness_from_text(text) in (None, "unsure")


def test_a_misspelt_red_flag_is_still_a_red_flag():
    assert _findings.red_flags_from_text("its bleding") == ["bleeding"]


@pytest.mark.parametrize(
    "text", ["no idea", "can't tell", "haven't checked", "couldn't say", "haven't touched it", "in between"]
)
def test_hedges_are_unsure(text):
    assert _findings.hardness_from_text(text) == "unsure"


@pytest.mark.parametrize(
    "text, answer",
    [
        ("nope none", "none"), ("no just annoying", "none"), ("only that it's annoying", "none"),
        ("none thankfully", "none"), ("the second one", "present"), ("yes", "present"),
        ("no idea", None), ("hmm", None), ("not sure", None),
    ],
)
def test_screening_answers(text, answer):
    assert _findings.screening_answer(text) == answer


def test_a_red_flag_only_negated_or_as_a_worry():
    assert _findings.red_flag_only_negated("there's been no bleeding at all")
    assert _findings.red_flag_only_negated("could it bleed later?")
    assert not _findings.red_flag_only_negated("it's bleeding")
    assert not _findings.red_flag_only_negated("a white bump")


def test_contradicting_answers_are_unsure():
    assert _findings.hardness_from_text("maybe hard maybe soft") == "unsure"
    assert _findings.hardness_from_text("not really hard, not really soft") == "unsure"


def test_a_negative_phrase_is_not_turned_round_again():
    assert _findings.fluid_from_text("nah nothing comes out") == "no"
    assert _findings.fluid_from_text("nah nothin comes out") == "no"


def test_slang_is_not_a_misspelling():
    assert _findings.read("laters") == []


def test_common_words_are_never_read_as_a_misspelt_red_flag():
    assert _findings.red_flags_from_text("no idea, never squeezed it") == []
    assert _findings.red_flags_from_text("got a massive whitehead on my chin") == []


# --- classes found on the independent sets (never their messages) ------------------------------
@pytest.mark.parametrize("text", ["nah dry", "no they're dry, nothing comes out", "pus? no, never seen any"])
def test_a_no_answer_to_the_fluid_question_is_never_turned_into_yes(text):
    assert _findings.fluid_from_text(text) == "no"


@pytest.mark.parametrize(
    "text", ["I can't see it properly, it's on my back", "my eye is fine", "i can see fine"]
)
def test_words_that_only_look_like_vision_trouble_are_not_a_red_flag(text):
    assert _findings.red_flags_from_text(text) == []


@pytest.mark.parametrize("text", ["i can't see out of my eye", "everything is blurry"])
def test_real_vision_trouble_still_is(text):
    assert _findings.red_flags_from_text(text) == ["vision_changes"]


@pytest.mark.parametrize("text", ["it was tiny on monday and now its like a marble", "its got massive quick"])
def test_growth_said_by_comparison(text):
    assert _findings.red_flags_from_text(text) == ["fast_growth"]


def test_a_denial_in_words_the_lexicon_lacks_is_not_a_red_flag():
    assert _findings.red_flag_only_negated("no my eye isn't swollen and i can see fine")
    assert not _findings.red_flag_only_negated("it looks really angry")  # the classifier's call stands


@pytest.mark.parametrize(
    "text,value",
    [
        ("nothing's ever come out", "no"),
        ("never had anything come out of it", "no"),
        ("I have not been able to express anything from it", "no"),
        ("Nothing at all has come out of it.", "no"),
        ("nah nuffin came out", "no"),
        ("something came out when i touched it", "yes"),
        ("nae pus", "no"),  # dialect negation
        ("there's nowt in it", "no"),
    ],
)
def test_whether_anything_comes_out_is_fluid(text, value):
    assert findings.fluid_from_text(text) == value


@pytest.mark.parametrize("text", ["it came out of nowhere last week", "nothing out of the ordinary"])
def test_coming_out_of_nowhere_is_not_fluid(text):
    assert findings.fluid_from_text(text) is None


@pytest.mark.parametrize(
    "text,answer",
    [("nothing", "no"), ("nowt at all", "no"), ("nuthing", "no"), ("none", "no"),
     ("aye", "yes"), ("yeah", "yes"),
     ("no idea", None), ("it's hard", None)],
)
def test_a_bare_yes_or_no(text, answer):
    assert findings.bare_yes_no(text) == answer


@pytest.mark.parametrize("text", ["carnt tell", "dont no", "beats me", "havent a clue", "dinnae ken"])
def test_everyday_i_dont_know_is_unsure(text):
    assert findings.hardness_from_text(text) == "unsure"


@pytest.mark.parametrize("text", ["not one of them", "not any of them thank god", "none of em"])
def test_not_one_of_them_is_none_of_the_warning_signs(text):
    assert findings.screening_answer(text) == "none"


def test_one_of_them_is_still_a_warning_sign():
    assert findings.screening_answer("one of them, yes") == "present"


def test_of_two_bumps_the_one_near_the_eye_sets_the_place():
    text = "white bumps on my cheeks and under my eyes, hard"
    assert findings.location_from_text(text) == "eye_area"
    assert findings.findings_from_text(text).location == "eye_area"
    two = findings.findings_from_text("one on my chin thats squishy and one under my eye thats solid")
    assert two.location == "eye_area" and two.hardness == "unsure"  # a professional looks


@pytest.mark.parametrize(
    "text,facts",
    [
        ("hard... actually no its more soft", [("hardness", "soft")]),
        ("chin... no wait its more on my lip actually", [("location", "lip_mouth")]),
        ("is it hard or soft? honestly couldnt tell you", [("hardness", "unsure"), ("unsure", "unsure")]),
        ("kinda in between hard n soft", [("hardness", "unsure")]),
        ("pus or not no idea", [("fluid", "unsure")]),
        ("soft and no pus", [("hardness", "soft"), ("fluid", "no")]),
    ],
)
def test_a_correction_keeps_the_later_answer_and_alternatives_are_unsure(text, facts):
    assert [(f.entity, f.value) for f in findings.read(text)] == facts


@pytest.mark.parametrize(
    "text,facts",
    [
        ("its all red n the red keeps gettin bigger", [("red_flag", "spreading_redness")]),
        ("my i is all swolen", [("red_flag", "swollen_eye")]),
        ("hurts sooo bad", [("red_flag", "severe_pain")]),
        ("its bleedin", [("red_flag", "bleeding")]),
        ("side of me nek", [("location", "neck")]),
        ("a wite spot on my for hed", [("location", "forehead")]),
    ],
)
def test_misspelt_words_are_respelled_against_the_lexicon(text, facts):
    assert [(f.entity, f.value) for f in findings.read(text)] == facts


@pytest.mark.parametrize("text", ["come on in", "my cousin has one", "in my skin", "laters", "gotta go"])
def test_ordinary_words_are_not_respelled_into_facts(text):
    assert findings.read(text) == []


@pytest.mark.parametrize(
    "text,flag",
    [
        ("it went from white to red to purple in 2 days", "colour_change"),
        ("proper hot n sweaty since the bump came up", "fever"),
        ("it kills, like a stabbing pain", "severe_pain"),
        ("his lump has grown noticeably larger over the past week", "fast_growth"),
        ("it went from a pinhead to a pea", "fast_growth"),
    ],
)
def test_red_flags_in_everyday_words(text, flag):
    assert flag in findings.red_flags_from_text(text)


@pytest.mark.parametrize(
    "text,facts",
    [
        ("don't think there's anything in it", [("fluid", "no")]),
        ("dinnae think there is any pus", [("fluid", "no")]),
        ("no, there's pus", [("fluid", "yes")]),
        ("small spot by my nose, eye have tried to squeeze it", [("location", "nose")]),
        ("bumps on my cheek since i started an eye cream", [("location", "cheek")]),
        ("it's on the back of my neck", [("location", "neck")]),
        ("please ring me back", []),
        ("white bump under the eye", [("location", "eye_area")]),
    ],
)
def test_words_in_their_sentence(text, facts):
    assert [(f.entity, f.value) for f in findings.read(text)] == facts


@pytest.mark.parametrize(
    "text,facts",
    [
        ("firm papule, periocular, no discharge",
         [("hardness", "hard"), ("location", "eye_area"), ("fluid", "no")]),
        ("fluctuant and purulent", [("hardness", "soft"), ("fluid", "yes")]),
        ("pyrexial with periorbital oedema", [("red_flag", "fever"), ("red_flag", "swollen_eye")]),
        ("erythema now tracking down the arm", [("red_flag", "spreading_redness")]),
        ("apyrexial, non-tender, no erythema", []),
        ("reports double vision since this morning", [("red_flag", "vision_changes")]),
        ("it is double the size it was at the weekend", [("red_flag", "fast_growth")]),
    ],
)
def test_a_nurses_words(text, facts):
    assert [(f.entity, f.value) for f in findings.read(text)] == facts


@pytest.mark.parametrize("text,asks", [("how would I know if it's hard?", True), ("wdym fluid", True),
                                       ("what mean hard? like bone?", True), ("how would i know lol", False),
                                       ("hard i think?", False)])
def test_a_question_about_the_question(text, asks):
    assert findings.asks_what_it_means(text) is asks


def test_not_seeing_the_bump_is_no_vision_trouble():
    assert findings.red_flags_from_text("not sure, it's under my hair so i can't see") == []
    assert findings.red_flags_from_text("i can't see properly out of that eye") == ["vision_changes"]


@pytest.mark.parametrize(
    "text,flag",
    [
        ("been feeling a bit flu-ish since yesterday", "fever"),
        ("it throbs all night and keeps me up", "severe_pain"),
        ("taking ibuprofen every few hours for it", "severe_pain"),
        ("it grow very fast this week", "fast_growth"),
        ("the red patch is going wider", "spreading_redness"),
    ],
)
def test_more_red_flags_in_everyday_words(text, flag):
    assert flag in findings.red_flags_from_text(text)


@pytest.mark.parametrize("text", ["no, haven't needed any painkillers", "should i take paracetamol for it?"])
def test_painkillers_not_taken_or_asked_about_are_no_red_flag(text):
    assert findings.red_flags_from_text(text) == []


@pytest.mark.parametrize("text,facts", [("hardness 9/10", [("hardness", "hard")]),
                                        ("firmness 2 out of 10", [("hardness", "soft")]),
                                        ("hardness 5/10", [("hardness", "unsure")]),  # in between
                                        ("pain 9/10", [("red_flag", "severe_pain")])])
def test_a_hardness_score_is_no_pain_score(text, facts):
    assert [(f.entity, f.value) for f in findings.read(text)] == facts


@pytest.mark.parametrize("text,facts", [
    ("pain 2 out of 10, hardness about 7/10", [("hardness", "hard")]),
    ("about a 2 out of 10 for hardness", [("hardness", "soft")]),
    ("the pain's so bad I can't sleep", [("red_flag", "severe_pain")]),
    ("my eye's swollen", [("red_flag", "swollen_eye")]),
])
def test_scores_and_contractions(text, facts):
    assert [(f.entity, f.value) for f in findings.read(text)] == facts


@pytest.mark.parametrize("text", ["Only that it has grown quickly, as I described.", "it grew so quickly",
                                  "it was the size of a lentil; it is now nearer the size of a grape."])
def test_growth_said_as_how_fast_or_by_size_now(text):
    assert findings.red_flags_from_text(text) == ["fast_growth"]


@pytest.mark.parametrize("text", ["it has not grown quickly", "could it grow quickly?"])
def test_growth_denied_or_wondered_about_is_no_red_flag(text):
    assert findings.red_flags_from_text(text) == []


@pytest.mark.parametrize("text,flag", [
    ("wife reckons it was half the size a fortnight ago", "fast_growth"),
    ("it seems to have grown a good deal since last week", "fast_growth"),
    ("her eye does look a lot puffier than the other one", "swollen_eye"),
    ("red round it. spreading", "spreading_redness"),
])
def test_red_flags_that_only_the_classifier_used_to_catch(text, flag):
    assert flag in findings.red_flags_from_text(text)


@pytest.mark.parametrize("text", ["nothing spreading", "no, not spreading or anything", "will it spread?"])
def test_spreading_denied_or_wondered_about_is_no_red_flag(text):
    assert findings.red_flags_from_text(text) == []


def test_every_urgent_independent_conversation_states_its_red_flag_in_words_the_reader_finds():
    """Urgent must not hang on the intent classifier's guess, which a retrain can change (set B's b16 did)."""
    import glob

    import yaml

    missed = []
    sets = Path(__file__).resolve().parents[1] / "independent"
    for path in sorted(glob.glob(str(sets / "*" / "conversations.yml"))):
        for c in yaml.safe_load(open(path, encoding="utf-8"))["conversations"]:
            if c["expected"] != "urgent":
                continue
            m = c["messages"]
            answers = [v[0] for k, v in m.items() if k != "opening" and isinstance(v, list) and v]
            said = [findings.red_flags_from_text(t) or findings.screening_answer(t) == "present"
                    for t in [m["opening"], *answers]]
            if not any(said):
                missed.append(c["id"])
    assert missed == []


@pytest.mark.parametrize("text, facts", [
    ("pus? like the yellow stuff? nah none", [("fluid", "no")]),
    ("soft? hmm. its firm actually", [("hardness", "hard")]),
    ("what do you mean by bleeding? it has never bled", []),
    ("hard? not sure tbh", [("hardness", "unsure"), ("unsure", "unsure")]),
    ("on my chin? i think so", [("location", "chin")]),  # a hedged place is still the place
    ("is it bleeding? yes, a bit", [("red_flag", "bleeding")]),  # a red flag named in a question stays
])
def test_a_question_only_names_what_the_rest_of_the_message_answers(text, facts):
    assert [(f.entity, f.value) for f in findings.read(text)] == facts


@pytest.mark.parametrize("text, entity", [
    ("no clue how hard it is, its on my back", "hardness"),
    ("couldnt tell you whether theres pus in it", "fluid"),
    ("i not know if is soft", "hardness"),
    ("I have not attempted to express anything from it", "fluid"),
    ("havent tried so couldnt say if anything comes out", "fluid"),
])
def test_wondering_or_not_trying_is_unsure(text, entity):
    assert (entity, "unsure") in [(f.entity, f.value) for f in findings.read(text)]


@pytest.mark.parametrize("text, entity, value", [
    ("its like a tiny little bead", "hardness", "hard"),
    ("feels like a small pebble", "hardness", "hard"),
    ("pressed it and nothing", "fluid", "no"),
    ("i try to squeeze, not come out nothing", "fluid", "no"),
    ("its got bigger, increased in size in a week", "red_flag", "fast_growth"),
    ("my sight on that side is like in a fog", "red_flag", "vision_changes"),
])
def test_similes_attempts_and_everyday_signs(text, entity, value):
    assert (entity, value) in [(f.entity, f.value) for f in findings.read(text)]


def test_squeezing_hard_is_no_hardness():
    assert findings.hardness_from_text("i squeezed it hard and nothing") is None
    assert findings.fluid_from_text("i squeezed it hard and nothing") == "no"


@pytest.mark.parametrize("text, answer", [
    ("nah nothing, tried squeezing", "no"), ("nowt even with a needle", "no"),
    ("no, not tried", None), ("nothing", "no"),
])
def test_a_bare_no_may_say_what_was_tried(text, answer):
    assert findings.bare_yes_no(text) == answer


@pytest.mark.parametrize("text, facts", [
    ("got a hard dot under my eye and a spot on my chin, the chin one is the one im asking about",
     findings.Findings(None, None, "chin", [])),
    ("a squishy one on my nose and a firm one on my forehead, its the forehead one that bugs me",
     findings.Findings("hard", None, "forehead", [])),
    ("one on my cheek that's soft and one by my eye, asking about the one on my cheek",
     findings.Findings("soft", None, "cheek", [])),
    ("a hard one by my eye and one on my chin thats bleeding, the chin one please",
     findings.Findings(None, None, "chin", ["bleeding"])),  # a red flag stays, whichever bump
])
def test_of_two_bumps_the_one_asked_about_keeps_its_own_facts(text, facts):
    assert findings.findings_from_text(text) == facts


@pytest.mark.parametrize("text, entity, value", [
    ("the colours changed round it", "red_flag", "colour_change"),
    ("i'm struggling to see out of that eye", "red_flag", "vision_changes"),
    ("my sight's gone funny on that side", "red_flag", "vision_changes"),
    ("nothing expresses from it", "fluid", "no"),
    ("no sebum or anything", "fluid", "no"),
    ("its hard but i haven't squeezed it", "fluid", "unsure"),
    ("white lump on my four head", "location", "forehead"),
])
def test_trade_words_voice_typing_and_everyday_signs(text, entity, value):
    assert (entity, value) in [(f.entity, f.value) for f in findings.read(text)]


@pytest.mark.parametrize("text", ["it's agony, i can't touch it", "right i'm going now",
                                  "honestly me i think so"])
def test_i_as_the_pronoun_is_no_eye(text):
    assert findings.location_from_text(text) is None
    assert findings.location_from_text("my i is sore") == "eye_area"


def test_signs_ticked_off_one_by_one_are_denied():
    text = "bleeding no, growing no, colour no, redness no, fever no, pain no, vision no"
    assert findings.red_flags_from_text(text) == []
    assert findings.red_flags_from_text("bleeding yes, fever no") == ["bleeding"]
    assert findings.fluid_from_text("pus no") == "no"


@pytest.mark.parametrize("text, flag", [
    ("she can't open her eye properly, it's gone so puffy", "swollen_eye"),  # the negation is the sign
    ("can barely open my left eye this morning", "swollen_eye"),
    ("wasn't there last month and now it's massive", "fast_growth"),
    ("he has reduced vision on that side", "vision_changes"),
])
def test_signs_said_around_a_negation_or_a_comparison(text, flag):
    assert flag in findings.red_flags_from_text(text)


@pytest.mark.parametrize("text, value", [
    ("little hard thing by my nose, it just won't pop", "no"),
    ("they dont pop however hard i try", "no"),
    ("nothing when i press it", "no"),
    ("no idea, not pressed it", "unsure"),
    ("not sure anything's come out", "unsure"),
])
def test_what_comes_out_when_pressed(text, value):
    assert findings.fluid_from_text(text) == value


@pytest.mark.parametrize("text", ["i won't pop it, promise", "i dont pop them anymore"])
def test_the_patient_not_popping_says_nothing_of_the_fluid(text):
    assert findings.fluid_from_text(text) is None


@pytest.mark.parametrize("text, place", [("a white dot on me back", "body"), ("two on me hand", "body"),
                                         ("ay up", None), ("bleeding - no. eye - fine", None)])
def test_dialect_owners_and_greetings(text, place):
    assert findings.location_from_text(text) == place
    assert findings.red_flags_from_text(text) == []


@pytest.mark.parametrize("text, flagged", [
    ("there's a lump on my wife's back she can't see, so I'm checking it", False),
    ("spot on my back that i cant see", False),
    ("a bump on my scalp and i can't see", True),  # a new clause: her sight
    ("lump on my back i can't see properly", True),
    ("bump on my cheek, i cannot see", True),
])
def test_not_seeing_a_bump_out_of_sight_is_no_vision_trouble(text, flagged):
    assert ("vision_changes" in findings.red_flags_from_text(text)) is flagged


@pytest.mark.parametrize("text, entity, value", [
    ("it feels like a grain of salt under there", "hardness", "hard"),
    ("little thing like a sesame seed", "hardness", "hard"),
    ("press it and it doesn't give", "hardness", "hard"),
    ("kinda bouncy", "hardness", "soft"),
    ("zilch", "fluid", "no"),
    ("nothing emerges when pressed", "fluid", "no"),
    ("it's never wept or anything", "fluid", "no"),
    ("never tried pressing", "fluid", "unsure"),
    ("by my sideburn", "location", "cheek"),
])
def test_touch_words_and_landmarks(text, entity, value):
    assert {(f.entity, f.value) for f in findings.read(text)} >= {(entity, value)}


@pytest.mark.parametrize("text, flag", [
    ("my vision's gone funny on that side", "vision_changes"),
    ("achy and hot, like i have flu", "fever"),
    ("the pain is really intense", "severe_pain"),
    ("sore as hell", "severe_pain"),
    ("it's turned kind of red and purple", "colour_change"),
    ("her eye's big and puffy", "swollen_eye"),
])
def test_everyday_red_flags_of_set_m_s_kinds(text, flag):
    assert flag in findings.red_flags_from_text(text)


@pytest.mark.parametrize("text", ["hard to say", "your guess is as good as mine"])
def test_not_knowing_in_new_words_is_unsure(text):
    assert [f.entity for f in findings.read(text)] == ["unsure"]


@pytest.mark.parametrize("text", [
    "caught it shaving and there was a spot of red on the tissue",
    "there was red on my pillow this morning",
    "a bit of red off the razor, that's all",
])
def test_blood_told_as_a_mark_of_red_is_bleeding(text):
    assert findings.red_flags_from_text(text) == ["bleeding"]


@pytest.mark.parametrize("text, answer", [
    ("only that it's annoying", "none"),
    ("just that the spot is ugly", "none"),
    ("only that scabby bit beside it, no fevers", None),  # names something: unreadable, so a maybe
])
def test_only_that_is_none_unless_it_points_at_something(text, answer):
    assert findings.screening_answer(text) == answer


@pytest.mark.parametrize("text, flag", [
    ("the thermometer says 38.4", "fever"),
    ("he was hot and clammy all night", "fever"),
    ("it had me in tears this morning", "severe_pain"),
    ("kept me awake all night", "severe_pain"),
    ("it's gone from tiny to the size of a pea", "fast_growth"),
])
def test_set_o_s_kinds_of_warning_sign(text, flag):
    assert flag in findings.red_flags_from_text(text)


@pytest.mark.parametrize("text", ["my temp is 36.9 so no fever", "normal temperature", "temp is fine"])
def test_a_normal_temperature_is_no_fever(text):
    assert findings.red_flags_from_text(text) == []


@pytest.mark.parametrize("text, flagged", [
    ("what if i pop it and it bleeds everywhere", False),
    ("what happens if i squeeze it and it starts bleeding", False),
    ("if i press it, it bleeds", True),  # tells what happens
    ("it bled this morning, what if it gets infected", True),
])
def test_a_worry_reaches_past_and(text, flagged):
    assert ("bleeding" in findings.red_flags_from_text(text)) is flagged


def test_a_no_that_starts_the_next_fact_denies_nothing_before_it():
    found = {(f.entity, f.value) for f in findings.read("white and kinda squishy? no stuff comes out")}
    assert found == {("hardness", "soft"), ("fluid", "no")}


@pytest.mark.parametrize("text, flag", [("her lump has shot up in size since friday", "fast_growth"),
                                        ("his whole face has gone red", "spreading_redness")])
def test_growth_and_redness_in_set_o_s_words(text, flag):
    assert flag in findings.red_flags_from_text(text)


@pytest.mark.parametrize("text, facts", [
    # set P's classes (2026-12-03): a bump hidden by hair is no trouble seeing
    ("bump in my beard on my chin, hard, cant see it with the hair",
     {("location", "chin"), ("hardness", "hard")}),
    ("cant see with all the beard hair, no idea", {("unsure", "unsure")}),
    ("can't see if anything's in it", {("fluid", "unsure")}),
    ("can't reach to feel if it's hard", {("hardness", "unsure")}),
    # a fact before a "not sure" about another fact stands
    ("small spot on my cheek hard not sure if anything inside",
     {("location", "cheek"), ("hardness", "hard"), ("fluid", "unsure")}),
    ("its not hard not soft really", {("hardness", "unsure")}),  # neither
    ("one of them is filled with white stuff", {("fluid", "yes")}),
    ("couldn't sleep it hurts that much", {("red_flag", "severe_pain")}),
    ("keeping me up at night the pain", {("red_flag", "severe_pain")}),
    # and sight trouble still is
    ("i can't see with my left eye", {("red_flag", "vision_changes")}),
    ("cant see properly since yesterday", {("red_flag", "vision_changes")}),
])
def test_set_p_kinds(text, facts):
    assert {(f.entity, f.value) for f in findings.read(text)} == facts


@pytest.mark.parametrize("text, facts", [
    # set Q's classes (2026-12-03)
    ("would have to ask my husband, hes at work", {("unsure", "unsure")}),
    ("its on my back so would have to ask my husband how hard it is",
     {("location", "body"), ("hardness", "unsure")}),
    ("keep seeing floaters since", {("red_flag", "vision_changes")}),
    ("cant squeeze anything out", {("fluid", "no")}),
    ("It does not appear to contain anything", {("fluid", "no")}),
    ("nuffink in it mate", {("fluid", "no")}),
    ("no idea whats inside", {("fluid", "unsure")}),
    ("what's in it?", set()),  # a question about milia, no fact
    ("got a white spot on me neck, squishy, brum here bab", {("location", "neck"), ("hardness", "soft")}),
    ("small bump near the bikini line", {("location", "body")}),
])
def test_set_q_kinds(text, facts):
    assert {(f.entity, f.value) for f in findings.read(text)} == facts


@pytest.mark.parametrize("text, facts", [
    # set R's classes (2026-12-03)
    ("hey, got a zit on my lip, bloody annoying", {("location", "lip_mouth")}),  # a swear, no blood
    ("bloody hurts like hell mate", {("red_flag", "severe_pain")}),
    ("a bit bloody when i wiped it", {("red_flag", "bleeding")}),
    ("my vision went a bit wobbly", {("red_flag", "vision_changes")}),
    ("my vision is not clear", {("red_flag", "vision_changes")}),
    ("my vision is fine", set()),
    ("my eye is half closed", {("red_flag", "swollen_eye")}),
    ("it's that sair a canna touch it", {("red_flag", "severe_pain")}),
    ("red is going all around it", {("red_flag", "spreading_redness")}),
    ("aye, yella stuff", {("fluid", "yes")}),
    ("naethin comes oot", {("fluid", "no")}),
    ("ive a lump on ma heid, in ma hair", {("location", "other")}),
    ("nane o them", set()),  # Scots "none", no misspelt "nape"
])
def test_set_r_kinds(text, facts):
    assert {(f.entity, f.value) for f in findings.read(text)} == facts


@pytest.mark.parametrize("text", ["yeah nah none of those", "nane o them", "naw, jist a bit tender"])
def test_dialect_denials_answer_the_screening_question(text):
    assert findings.screening_answer(text) == "none"


@pytest.mark.parametrize("text, facts", [
    # set S's classes (2026-12-03)
    ("story, got this bleedin little white dot under me eye for months", {("location", "eye_area")}),
    ("this bleeding annoying spot", set()),
    ("its bleeding little bits", {("red_flag", "bleeding")}),  # bleeds
    ("I cannot see, is on back. maybe something, maybe not", {("location", "body"), ("unsure", "unsure")}),
    ("i cannot see. its on my back", {("red_flag", "vision_changes"), ("location", "body")}),
    ("consistency: hard - discharge: none - pain: none - bleeding: no",
     {("hardness", "hard"), ("fluid", "no")}),
])
def test_set_s_kinds(text, facts):
    assert {(f.entity, f.value) for f in findings.read(text)} == facts


def test_not_a_one_of_them_is_none():
    assert findings.screening_answer("not a one of them") == "none"
    assert findings.screening_answer("yes one of them") == "present"
