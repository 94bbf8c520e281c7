"""Every knowledge and assessment response names the clinic's facts or config values it relies on (issue 15).

docs/clinic-facts.yml lists the facts of the clinic's page (and the assistant's own rules), one per id;
docs/response-facts.yml maps each response of domain/knowledge.yml, clinic_answers.yml and triage.yml to them.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from clinic.details import is_config_placeholder, placeholders

ROOT = Path(__file__).resolve().parents[2]
FACTS_FILE = ROOT / "docs" / "clinic-facts.yml"
MAP_FILE = ROOT / "docs" / "response-facts.yml"
# The responses that state something about the bump, the treatment or the clinic.
KNOWLEDGE_FILES = ("knowledge.yml", "clinic_answers.yml", "triage.yml")
SMS_SEGMENTS = 3  # a knowledge answer fits in three SMS segments (153 characters each), buttons apart
PRICE_EXAMPLE = "IMAGE Skincare facial: 60 minutes, £85.00"  # the longest a filled-in value is, roughly


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def knowledge_responses() -> dict:
    """Response name -> its variants, from the knowledge and assessment domain files."""
    found = {}
    for name in KNOWLEDGE_FILES:
        found.update(load(ROOT / "domain" / name)["responses"])
    return found


FACTS = load(FACTS_FILE)
MAPPING = load(MAP_FILE)
RESPONSES = knowledge_responses()


def top_level_keys(path: Path, indent: str) -> list:
    """The keys at `indent` in a YAML file, as written (yaml.safe_load keeps only the last of a duplicate)."""
    pattern = re.compile(rf"^{indent}([A-Za-z0-9_-]+):")
    return [m[1] for line in path.read_text(encoding="utf-8").splitlines() if (m := pattern.match(line))]


def test_every_fact_has_one_id_and_words():
    ids = top_level_keys(FACTS_FILE, "  ")
    assert len(ids) >= 30
    assert not [i for i, n in Counter(ids).items() if n > 1]
    for section in ("facts", "assistant_rules"):
        for fact_id, words in FACTS[section].items():
            assert isinstance(words, str) and len(words.split()) >= 4, fact_id
    assert not set(FACTS["facts"]) & set(FACTS["assistant_rules"])


def test_every_knowledge_and_assessment_response_is_mapped():
    mapped = top_level_keys(MAP_FILE, "")
    assert not [name for name, n in Counter(mapped).items() if n > 1]
    assert sorted(set(RESPONSES) - set(MAPPING)) == [], "responses with no facts named"
    assert sorted(set(MAPPING) - set(RESPONSES)) == [], "mapped responses that no longer exist"


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_a_response_names_known_facts_and_config_keys(name):
    entry = MAPPING.get(name) or {}
    assert set(entry) <= {"facts", "rules", "config"}, name
    facts, rules, config = (entry.get(key) or [] for key in ("facts", "rules", "config"))
    assert facts or rules or config, f"{name} names nothing it relies on"
    assert [f for f in facts if f not in FACTS["facts"]] == [], f"{name}: unknown fact ids"
    assert [r for r in rules if r not in FACTS["assistant_rules"]] == [], f"{name}: unknown rule ids"
    assert [c for c in config if not is_config_placeholder(c)] == [], f"{name}: unknown config keys"
    said = {key for variant in RESPONSES[name] for key in placeholders(variant.get("text", ""))}
    used_config = {key for key in said if is_config_placeholder(key)}
    assert used_config <= set(config), (name, used_config - set(config))


def test_the_bot_spells_milium_and_milia():
    for name, variants in RESPONSES.items():
        for variant in variants:
            text = variant.get("text", "").lower()
            assert "millium" not in text and "millia" not in text, name
    assert "milium" in RESPONSES["utter_what_is_milia"][0]["text"]


def test_knowledge_answers_fit_in_three_sms_segments():
    for file in ("knowledge.yml", "clinic_answers.yml"):
        for name, variants in load(ROOT / "domain" / file)["responses"].items():
            for variant in variants:
                text = re.sub(r"\{[a-z_]+\}", PRICE_EXAMPLE, variant["text"])
                if name in ("utter_prices", "utter_opening_hours"):
                    continue  # a list from the config: as long as the clinic makes it
                assert len(text) <= SMS_SEGMENTS * 153, (name, len(text))


def test_claims_stay_within_the_clinics_text():
    """The page says 'quite possibly damaged skin', not that squeezing 'only leaves' it; no 'quick'."""
    texts = " ".join(v.get("text", "") for variants in RESPONSES.values() for v in variants)
    assert "only leaves" not in texts and "only gives" not in texts
    assert "quite possibly damaged skin" in texts
    assert not re.search(r"\bquick\b", texts)
    pustule = [v["text"] for v in RESPONSES["utter_assessment"]
               if any(c.get("value") == "pustule" for c in v.get("condition", []))]
    assert len(pustule) == 2 and not any("scar" in text for text in pustule)


def test_the_procedure_answer_is_no_how_to():
    for variant in RESPONSES["utter_extraction_procedure"]:
        text = variant["text"].lower()
        assert "professionals" in text and "never try it yourself" in text
        assert not any(word in text for word in ("lancet", "blade", "pushed out", "opening", "extractor"))
    offered = [b["payload"] for v in RESPONSES["utter_extraction_procedure"] for b in v.get("buttons", [])]
    assert any(p.startswith("/book_appointment") for p in offered)


def test_the_hardness_question_says_not_to_press():
    asked = [v["text"] for v in RESPONSES["utter_ask_bump_hardness"] if not v.get("condition")]
    assert "touch it gently, without pressing, especially near the eye" in asked[0].lower()
