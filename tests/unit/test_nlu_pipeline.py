"""The clinic spaCy pipeline: one lexicon, negation resolved, same facts as clinic.findings."""

from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from clinic import findings, lexicon
from clinic.nlu.evaluate import TRAINING_DATA, held_out_files, normalise_text, set_name
from clinic.nlu.pipeline import BARE_UNSURE, build

ROOT = Path(__file__).resolve().parents[2]
ALREADY_IN_TRAINING = {
    line.strip()
    for line in (ROOT / "tests" / "independent" / "in_training_already.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"


@pytest.fixture(scope="module")
def nlp():
    return build()


def facts(nlp, text):
    doc = nlp(text.lower())  # SpacyNLP lower-cases before the pipeline runs
    return [(ent.text, ent.label_, ent.id_) for ent in doc.ents]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("its hrd n theres no pus", [("hrd", "hardness", "hard"), ("no pus", "fluid", "no")]),
        ("Not soft at all", [("not soft", "hardness", "hard")]),
        ("it isn't soft", [("isn't soft", "hardness", "hard")]),
        ("it isnt soft", [("isnt soft", "hardness", "hard")]),
        ("it is not hard", [("not hard", "hardness", "soft")]),
        ("nope its soft", [("soft", "hardness", "soft")]),
        ("no pus just hard", [("no pus", "fluid", "no"), ("hard", "hardness", "hard")]),
        ("without any liquid", [("without any liquid", "fluid", "no")]),
        ("not sure if it's hard", [("not sure", "hardness", "unsure")]),
        ("hard, dunno about pus", [("hard", "hardness", "hard"), ("dunno", "fluid", "unsure")]),
        ("hard to say", []),
        ("under my lower lash-line", [("lower lash-line", "location", "eye_area")]),
        ("not on my eye, on my left cheek", [("left cheek", "location", "cheek")]),
        ("it came back on my back", [("back", "location", "body")]),
        ("it bled and it bleeds", [("bled", "red_flag", "bleeding"), ("bleeds", "red_flag", "bleeding")]),
        ("no fever or chills but it's bleeding", [("bleeding", "red_flag", "bleeding")]),
        ("it won't stop bleeding", [("bleeding", "red_flag", "bleeding")]),
        ("will it bleed after the extraction?", []),
        ("my eye is swollen, the colour changed", [("eye is swollen", "red_flag", "swollen_eye")]),
        ("it has changed colour", [("changed colour", "red_flag", "colour_change")]),
    ],
)
def test_pipeline_resolves_facts(nlp, text, expected):
    assert facts(nlp, text) == expected


def test_bare_not_sure_is_kept_apart_for_the_form(nlp):
    doc = nlp("not sure")
    assert list(doc.ents) == []
    assert [s.text for s in doc.spans[BARE_UNSURE]] == ["not sure"]


def test_pipeline_has_the_issue_components(nlp):
    assert nlp.pipe_names == ["lemmatizer", "sentencizer", "entity_ruler", "clinic_findings"]
    assert nlp.get_pipe("lemmatizer").mode == "lookup"
    assert nlp("bleeds")[0].lemma_ == "bleed"


def test_every_lexicon_phrase_is_a_ruler_pattern(nlp):
    labelled = {(p["label"], p["id"]) for p in nlp.get_pipe("entity_ruler").patterns}
    lex = lexicon.load()
    for entity, values in lex.terms.items():
        for value, phrases in values.items():
            assert phrases, (entity, value)
            assert (entity, value) in labelled
    assert ("unsure", "unsure") in labelled


def test_contract_values_only(nlp):
    contract = {
        "hardness": {"hard", "soft", "unsure"},  # unsure: "between hard and soft"
        "fluid": {"yes", "no", "unsure"},  # unsure: "haven't tried squeezing it"
        "location": {"eye_area", "nose", "cheek", "forehead", "chin", "lip_mouth", "neck", "body", "other"},
        "red_flag": {"bleeding", "fast_growth", "colour_change", "spreading_redness", "fever", "severe_pain",
                     "vision_changes", "swollen_eye"},
    }
    lex = lexicon.load()
    assert {entity: set(values) for entity, values in lex.terms.items()} == contract


def _holdout_texts():
    return [m.get("text") for m in load_data(str(HOLDOUT)).intent_examples]


@pytest.mark.parametrize("path", held_out_files(), ids=lambda path: set_name(path))
def test_held_out_never_seen_in_training(path):
    """No held-out message (ours, an independent set's) is in data/nlu, exactly or up to case and spaces.

    The only exceptions: the common short replies ("hi", "yes", "nah") that were already training
    examples when the independent sets were written, listed in tests/independent/in_training_already.txt.
    Any other overlap means a held-out message was trained on.
    """
    training = [m.get("text") for m in load_data(str(TRAINING_DATA)).intent_examples]
    normalised = {normalise_text(t) for t in training}
    held_out = [m.get("text") for m in load_data(str(path)).intent_examples]
    assert held_out
    allowed = set() if path == HOLDOUT else ALREADY_IN_TRAINING
    assert [t for t in held_out if normalise_text(t) in normalised and normalise_text(t) not in allowed] == []


def test_the_allowed_overlap_is_only_short_replies():
    assert ALREADY_IN_TRAINING and all(len(text.split()) <= 7 for text in ALREADY_IN_TRAINING)


def test_form_reader_and_nlu_agree_on_the_holdout(nlp):
    """The form's text reader (clinic.findings) and the NLU pipeline share lexicon and scope."""
    disagree = []
    for text in _holdout_texts():
        doc = nlp(text.lower())
        by_nlu = {(e.label_, e.id_) for e in doc.ents if e.label_ in ("hardness", "fluid", "location")}
        found = findings.findings_from_text(text)
        by_form = {(k, v) for k, v in (("hardness", found.hardness), ("fluid", found.fluid),
                                         ("location", found.location)) if v and v != "unsure"}
        by_nlu = {p for p in by_nlu if p[1] != "unsure"}
        if {k for k, _ in by_form} == {k for k, _ in by_nlu} and not by_form <= by_nlu:
            disagree.append((text, by_form, by_nlu))
    assert disagree == []


def test_a_refining_intent_scores_as_the_label_it_refines_and_nothing_else():
    from clinic.nlu.evaluate import as_labelled

    assert as_labelled("ask_who", "ask_extraction_procedure") == "ask_extraction_procedure"
    assert as_labelled("ask_cancer", "ask_what_is_milia") == "ask_what_is_milia"
    assert as_labelled("ask_opening_hours", "out_of_scope") == "ask_opening_hours"  # a real miss stays one
    assert as_labelled("ask_who", "ask_who") == "ask_who" and as_labelled(None, "greet") == "None"
    assert as_labelled("choose_time", "book_appointment") == "book_appointment"  # starts the same booking
    assert as_labelled("choose_time", "inform") == "choose_time"


def test_one_span_may_state_two_facts_and_the_pipeline_never_fails(nlp):
    """"haven't pressed it so dunno if it's hard": one "dunno" answers hardness and fluid (spaCy E1010)."""
    from clinic.nlu.pipeline import FACTS

    doc = nlp("i havent pressed it so dunno if its hard")
    assert {(s.label_, s.id_) for s in doc.spans[FACTS]} == {("hardness", "unsure"), ("fluid", "unsure")}
    texts = [m.get("text") for path in held_out_files() for m in load_data(str(path)).intent_examples]
    texts += [m.get("text") for m in load_data(str(TRAINING_DATA)).intent_examples]
    for text in texts:
        nlp(text.lower())  # raises on spans the doc cannot hold
