"""clinic/contract.py against domain/ both ways, and against the README's "The conversation contract"."""

import re
from pathlib import Path
from typing import Any, Dict, Set

import pytest
import yaml

from clinic import contract, lexicon
from clinic.contract import (
    CATEGORICAL,
    SLOT_OF_ENTITY,
    VALUES_OF_ENTITY,
    BookingStatus,
    Entity,
    Fluid,
    Hardness,
    Intent,
    Location,
    RedFlag,
    Slot,
    TriageResult,
)

ROOT = Path(__file__).resolve().parents[2]


def _names(items) -> Set[str]:  # noqa: ANN001
    return {item if isinstance(item, str) else next(iter(item)) for item in items or []}


def _domain() -> Dict[str, Any]:
    intents: Set[str] = set()
    entities: Set[str] = set()
    slots: Dict[str, Dict[str, Any]] = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        intents |= _names(part.get("intents"))
        entities |= _names(part.get("entities"))
        slots.update(part.get("slots") or {})
    return {"intents": intents, "entities": entities, "slots": slots}


DOMAIN = _domain()


def test_intents_are_the_domains_both_ways():
    assert set(Intent.values()) == DOMAIN["intents"]
    assert contract.NLU_FALLBACK not in DOMAIN["intents"]  # Rasa's own


def test_entities_are_the_domains_both_ways():
    assert set(Entity.values()) == DOMAIN["entities"]


def test_slot_names_are_the_domains_both_ways():
    assert set(Slot.values()) == set(DOMAIN["slots"])
    assert contract.REQUESTED_SLOT not in DOMAIN["slots"]  # Rasa's own


def test_categorical_slot_values_are_the_domains_both_ways():
    categorical = {name: slot for name, slot in DOMAIN["slots"].items() if slot.get("type") == "categorical"}
    assert set(CATEGORICAL) == set(categorical)
    for name, slot in categorical.items():
        assert CATEGORICAL[Slot(name)].values() == tuple(str(v) for v in slot["values"]), name


def test_triage_entities_fill_their_slots():
    for entity, slot in SLOT_OF_ENTITY.items():
        mappings = DOMAIN["slots"][slot]["mappings"]
        assert {"type": "from_entity", "entity": entity.value} in mappings, slot
    assert set(SLOT_OF_ENTITY) == set(VALUES_OF_ENTITY) == set(contract.TRIAGE_ENTITIES)
    assert contract.DESCRIBING_ENTITIES < set(contract.TRIAGE_ENTITIES)


def test_the_lexicon_spells_out_the_contract_values():
    # data/lookups/<entity>.<value>: every value a word can name ("unsure" and "other" have no words).
    terms = lexicon.load().terms
    assert tuple(terms) == contract.TRIAGE_ENTITIES
    for entity, values in VALUES_OF_ENTITY.items():
        assert set(terms[entity]) <= set(values.values()), entity
    assert set(terms[Entity.RED_FLAG]) == set(RedFlag.values())


def test_members_compare_and_print_as_their_values():
    assert Slot.TRIAGE_RESULT == "triage_result" and {"urgent": 1}[TriageResult.URGENT] == 1
    assert str(BookingStatus.NO_SHOW) == f"{BookingStatus.NO_SHOW}" == "no_show"
    assert TriageResult("milia") is TriageResult.MILIA
    assert all(type(v) is str for v in Hardness.values())


def _readme_contract() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The conversation contract", 1)[1]
    return section.split("\n## ", 1)[0]


def _after(label: str, section: str) -> str:
    """The line(s) of the README's bullet that starts with **label**, up to the next bullet."""
    return re.search(r"- \*\*" + re.escape(label) + r"\*\*(.*?)(?=\n- |\Z)", section, re.S).group(1)


README = _readme_contract()


# Intents the README's contract leaves to the sections of their features (booking, reminders, waiting list).
NOT_IN_README = {Intent.CHOOSE_TIME, Intent.REMINDER_REPLY, Intent.JOIN_WAITLIST, Intent.WAITLIST_REPLY}


def test_readme_names_the_intents():
    bullet = _after("Intents", README)
    named = {word for word in re.findall(r"[a-z_]{3,}", bullet) if "_" in word or word in DOMAIN["intents"]}
    named -= {"team_question"}  # the slot the questions for the team set, named alongside
    assert named == set(Intent.values()) - NOT_IN_README


@pytest.mark.parametrize(
    "entity, slot, values",
    [
        (Entity.HARDNESS, Slot.BUMP_HARDNESS, Hardness),
        (Entity.FLUID, Slot.BUMP_FLUID, Fluid),
        (Entity.LOCATION, Slot.BUMP_LOCATION, Location),
        (Entity.RED_FLAG, Slot.RED_FLAGS, RedFlag),
    ],
)
def test_readme_names_the_entity_values(entity, slot, values):
    bullet = " ".join(_after("Entities -> slots", README).split())
    found = re.search(rf"`{entity}` -> `{slot}` \(([^)]*)\)", bullet)
    assert found, entity
    named = re.findall(r"[a-z_]+", found.group(1).replace("list of", ""))
    assert tuple(named) == values.values()


def test_readme_names_the_triage_results():
    found = re.search(r"\*\*`triage_result`\*\*: ([a-z_ |]+)", README)
    assert tuple(v.strip() for v in found.group(1).split("|")) == TriageResult.values()


def test_triage_keeps_its_names():
    from clinic import triage

    assert triage.TriageResult is TriageResult
    assert triage.HARDNESS_VALUES == Hardness.values()
    assert triage.RED_FLAG_VALUES == RedFlag.values()


def test_booking_statuses_are_the_tables():
    from clinic.db import booking

    assert booking.BOOKING_STATUSES == BookingStatus.values()
    assert set(contract.STANDING_STATUSES) == set(BookingStatus) - {BookingStatus.CANCELLED}


def test_reminder_replies_are_the_contracts():
    from clinic.db import outbox

    assert outbox.REMINDER_REPLIES == contract.ReminderAnswer.values()
