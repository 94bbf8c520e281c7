"""The clinic's one lexicon: patients' words for each contract value, read from data/lookups/.

data/lookups/*.yml are Rasa lookup tables named "<entity>.<value>" (e.g. "hardness.hard",
"red_flag.fever") plus the context words of the negation scope ("negation.cue", "unsure", ...).
DIET sees them as lookup features; clinic/findings.py and the spaCy entity ruler
(clinic/nlu/pipeline.py) are built from this module, so there is no second word list anywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Dict, FrozenSet, Tuple

import yaml

from clinic.contract import TRIAGE_ENTITIES

LOOKUPS_DIR = Path(__file__).resolve().parents[1] / "data" / "lookups"

# Contract entities whose values the lexicon spells out (README "The conversation contract").
ENTITIES: Tuple[str, ...] = tuple(entity.value for entity in TRIAGE_ENTITIES)  # plain strings: spaCy labels

Terms = Dict[str, Tuple[str, ...]]
# Tables under an entity's name that are context, not values.
CONTEXT_TABLES = frozenset({"needs_owner", "owner", "modifier"})


@dataclass(frozen=True)
class Lexicon:
    """Every word list the readers use, keyed as in data/lookups/."""

    terms: Dict[str, Terms]  # entity -> contract value -> phrases
    unsure: Tuple[str, ...]
    negation_cues: FrozenSet[str]
    hypothetical_cues: FrozenSet[str]
    scope_ends: FrozenSet[str]
    clause_breaks: FrozenSet[str]
    modifiers: FrozenSet[str]
    needs_owner: FrozenSet[str]
    owners: FrozenSet[str]
    screening_none: Tuple[str, ...] = ()
    screening_present: Tuple[str, ...] = ()
    squeeze_questions: Tuple[str, ...] = ()
    neutral: Tuple[str, ...] = ()
    bump_words: Tuple[str, ...] = ()  # phrases that name the bump itself ("this spot")
    question_cues: Tuple[str, ...] = ()  # words that make a message a question ("can i", "is it ok")
    corrections: Tuple[str, ...] = ()  # "actually", "no wait": what follows replaces what went before
    clarifications: Tuple[str, ...] = ()  # "what do you mean?": about the question


def read_lookups(directory: Path = LOOKUPS_DIR) -> Dict[str, Tuple[str, ...]]:
    """All lookup tables in `directory`: name -> phrases (lower case, in file order)."""
    tables: Dict[str, Tuple[str, ...]] = {}
    for path in sorted(directory.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "lookup" not in item:
                continue
            phrases = [
                line.strip()[2:].strip().lower()
                for line in str(item.get("examples") or "").splitlines()
                if line.strip().startswith("- ")
            ]
            name = str(item["lookup"])
            if name in tables:
                raise ValueError(f"lookup table {name!r} is defined twice in {directory}")
            tables[name] = tuple(p for p in phrases if p)
    return tables


_SLOT = re.compile(r"\{([a-z_]+)(\??)\}")
_IS = re.compile(r"(?<=[a-z]) is (?=\S)")


def _contracted(phrase: str) -> Tuple[str, ...]:
    """The phrase, and the same with "is" contracted: "pain is so bad" -> also "pain's so bad"."""
    return (phrase, _IS.sub("'s ", phrase)) if _IS.search(phrase) else (phrase,)


def expand(phrase: str, tables: Dict[str, Tuple[str, ...]]) -> Tuple[str, ...]:
    """A template's phrases: "{change} {degree?} {colour}" -> "gone purple", "turned a bit blue", ...

    `{name}` stands for any phrase of the table `word.name`; `{name?}` also for nothing. How patients
    describe a warning sign in their own words ("it's gone purplish", "my eye is nearly shut") is a
    combination of a few small word lists, not a list of every sentence.
    """
    match = _SLOT.search(phrase)
    if match is None:
        return (" ".join(phrase.split()),)
    name, optional = match.group(1), match.group(2) == "?"
    words = list(tables.get(f"word.{name}", ()))
    if not words:
        raise ValueError(f"template {phrase!r} names the table word.{name}, which is not defined")
    if optional:
        words.append("")
    head, tail = phrase[: match.start()], phrase[match.end():]
    return tuple(dict.fromkeys(out for word in words for out in expand(head + word + tail, tables)))


@cache
def load(directory: Path = LOOKUPS_DIR) -> Lexicon:
    """The lexicon in `directory` (data/lookups/ by default), read once per process."""
    tables = read_lookups(directory)
    tables = {
        name: tuple(dict.fromkeys(
            variant for phrase in phrases for out in expand(phrase, tables) for variant in _contracted(out)))
        for name, phrases in tables.items()
    }
    terms: Dict[str, Terms] = {entity: {} for entity in ENTITIES}
    for name, phrases in tables.items():
        entity, _, value = name.partition(".")
        if entity in terms and value and value not in CONTEXT_TABLES:
            terms[entity][value] = phrases

    def words(name: str) -> FrozenSet[str]:
        return frozenset(tables.get(name, ()))

    return Lexicon(
        terms=terms,
        unsure=tables.get("unsure", ()),
        negation_cues=words("negation.cue"),
        hypothetical_cues=words("negation.hypothetical"),
        scope_ends=words("negation.scope_end"),
        clause_breaks=words("clause.break"),
        modifiers=words("location.modifier"),
        needs_owner=words("location.needs_owner"),
        owners=words("location.owner") | words("location.modifier"),
        screening_none=tables.get("screening.none", ()),
        screening_present=tables.get("screening.present", ()),
        squeeze_questions=tables.get("question.squeeze", ()),
        neutral=tables.get("neutral", ()),
        bump_words=tables.get("bump.word", ()),
        question_cues=tables.get("question.cue", ()),
        corrections=tables.get("correction.cue", ()),
        clarifications=tables.get("question.clarify", ()),
    )
