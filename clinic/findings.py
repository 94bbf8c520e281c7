"""Turn what patients write into the contract's slot values, negations included.

"its hrd n theres no pus" -> hardness=hard, fluid=no; "not soft at all" -> hardness=hard;
"under my lower lash line" -> location=eye_area; "not sure" -> unsure.
Pure Python: used by the form validators and by the NLU normalisation component.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

# Phrases per canonical value. Multi-word phrases are matched on whole tokens.
HARDNESS_TERMS: Dict[str, Sequence[str]] = {
    "hard": (
        "hard", "hrd", "hardish", "firm", "solid", "rock hard", "stiff", "rigid", "tough",
        "like a grain of sand", "grain of sand", "like sand", "like a seed", "pebble", "bead",
        "like a bead", "doesn't move", "rock",
    ),
    "soft": ("soft", "sft", "squishy", "squashy", "mushy", "spongy", "tender and soft", "gives"),
}
FLUID_TERMS: Dict[str, Sequence[str]] = {
    "yes": (
        "pus", "puss", "fluid", "liquid", "yellow", "yellowish", "oozing", "oozes", "ooze",
        "weeping", "leaking", "goo", "gunk", "pus filled", "full of pus",
        "full of fluid", "fluid filled", "watery", "juicy", "liquidy", "wet", "pussy",
    ),
}
UNSURE_PHRASES: Sequence[str] = (
    "not sure", "unsure", "dunno", "don't know", "dont know", "do not know", "no idea",
    "not certain", "can't tell", "cant tell", "cannot tell", "hard to say", "hard to tell",
    "idk", "maybe", "no clue", "not really sure", "unclear",
)
LOCATION_TERMS: Dict[str, Sequence[str]] = {
    "eye_area": (
        "eye", "eyes", "eyelid", "eyelids", "lid", "lids", "lash", "lashes", "lash line",
        "lashline", "under eye", "undereye", "under my eye", "eye bag", "eyebag", "eyebags",
        "eye area", "crows feet", "brow bone", "tear duct", "eyebrow", "eyebrows", "brow",
        "orbital", "socket",
    ),
    "nose": ("nose", "nostril", "nostrils", "nasal", "bridge of my nose", "nose bridge"),
    "cheek": ("cheek", "cheeks", "cheekbone", "cheekbones", "cheak"),
    "forehead": ("forehead", "fore head", "temple", "temples", "hairline", "frehead"),
    "chin": ("chin", "jaw", "jawline", "jaw line"),
    "lip_mouth": ("lip", "lips", "mouth", "lipline", "lip line", "corner of my mouth"),
    "neck": ("neck", "throat", "nape"),
    "body": (
        "chest", "back", "arm", "arms", "leg", "legs", "shoulder", "shoulders", "body",
        "hand", "hands", "stomach", "tummy", "belly", "thigh", "scalp", "ear", "ears",
    ),
}
RED_FLAG_TERMS: Dict[str, Sequence[str]] = {
    "bleeding": ("bleeding", "bleeds", "bled", "bleed", "blood", "bloody"),
    "fast_growth": (
        "growing fast", "grown fast", "growing quickly", "getting bigger", "got bigger",
        "grew fast", "growing really fast", "doubled in size", "growing rapidly", "spreading fast",
        "bigger every day", "growing",
    ),
    "colour_change": (
        "changed colour", "changed color", "changing colour", "changing color", "colour change",
        "color change", "turned black", "turned dark", "gone dark", "turned blue",
        "turned purple", "darker", "went black", "changes colour", "changes color",
    ),
    "spreading_redness": (
        "redness spreading", "red spreading", "spreading redness", "redness is spreading",
        "red streak", "red streaks", "red area getting bigger", "red and spreading",
        "spreading red", "red patch spreading", "redness around it is spreading",
    ),
    "fever": ("fever", "feverish", "temperature", "high temp", "chills", "temp"),
    "severe_pain": (
        "severe pain", "really painful", "very painful", "extremely painful", "agony",
        "hurts a lot", "excruciating", "unbearable", "throbbing", "killing me",
    ),
    "vision_changes": (
        "blurry", "blurred", "blurry vision", "vision", "can't see", "cant see", "seeing double",
        "double vision", "sight",
    ),
    "swollen_eye": (
        "swollen eye", "eye is swollen", "eye swollen", "eye swelling", "puffy eye",
        "eye has swollen", "swollen eyelid", "eyelid is swollen", "eye swelled", "swollen shut",
    ),
}

NEGATION_CUES = frozenset(
    {"not", "no", "never", "without", "nope", "nah", "none", "nothing", "neither", "nor",
     "hardly", "isnt", "isn't", "doesnt", "doesn't", "dont", "don't", "aint", "ain't", "zero",
     "wasnt", "wasn't", "cant", "can't", "n't", "non", "free"}
)
# A negation cue reaches this many tokens forward, and stops at these words.
NEGATION_WINDOW = 4
SCOPE_BREAKERS = frozenset({"but", "and", "though", "although", "however", "yet", "n", "&"})

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|&")
_SPELLING = {"its": "it's", "theres": "there's", "thats": "that's", "cant": "can't"}


def tokens(text: str) -> List[str]:
    """Lower-case word tokens, with a few common spelling variants unified."""
    return [_SPELLING.get(t, t) for t in _TOKEN.findall(text.lower().replace("\u2019", "'"))]


def _find(toks: Sequence[str], phrase: str) -> List[int]:
    words = tokens(phrase)
    n = len(words)
    return [i for i in range(len(toks) - n + 1) if list(toks[i:i + n]) == words]


def _negated(toks: Sequence[str], start: int) -> bool:
    for back in range(1, NEGATION_WINDOW + 1):
        i = start - back
        if i < 0:
            return False
        word = toks[i]
        if word in SCOPE_BREAKERS:
            return False
        if word in NEGATION_CUES or word.endswith("n't"):
            return True
    return False


def _mentions(toks: Sequence[str], terms: Dict[str, Sequence[str]]) -> List[Tuple[int, str, bool]]:
    """(position, canonical value, negated) for each term found, longest phrases first."""
    taken: set = set()
    found: List[Tuple[int, str, bool]] = []
    phrases = sorted(
        ((phrase, value) for value, group in terms.items() for phrase in group),
        key=lambda pv: -len(tokens(pv[0])),
    )
    for phrase, value in phrases:
        width = len(tokens(phrase))
        for start in _find(toks, phrase):
            span = set(range(start, start + width))
            if span & taken:
                continue
            taken |= span
            found.append((start, value, _negated(toks, start)))
    return sorted(found)


def _says_unsure(toks: Sequence[str]) -> bool:
    return any(_find(toks, phrase) for phrase in UNSURE_PHRASES)


_CLAUSE_SPLIT = re.compile(r"[,.;:!?\n]+|\b(?:but|though|although|however|and|n)\b")


def clauses(text: str) -> List[str]:
    """Split a message into clauses, so "hard, not sure about pus" keeps its two answers apart."""
    return [c for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


def _hardness_in_clause(toks: List[str]) -> Optional[str]:
    masked = list(toks)
    for phrase in ("hard to say", "hard to tell"):  # uncertainty, not hardness
        for start in _find(masked, phrase):
            masked[start:start + 3] = ["_"] * 3
    mentions = _mentions(masked, HARDNESS_TERMS)
    if not mentions:
        return "unsure" if _says_unsure(toks) else None
    if _says_unsure(toks):
        return "unsure"
    _, value, negated = mentions[0]
    if negated:
        return "soft" if value == "hard" else "hard"
    return value


def _fluid_in_clause(toks: List[str]) -> Optional[str]:
    mentions = _mentions(toks, FLUID_TERMS)
    if _says_unsure(toks):
        return "unsure"
    if mentions:
        return "no" if mentions[0][2] else "yes"
    if any(_find(toks, p) for p in ("dry", "nothing inside", "nothing comes out", "empty")):
        return "no"
    return None


def _first_answer(text: str, reader) -> Optional[str]:
    answers = [reader(tokens(clause)) for clause in clauses(text)]
    decided = [a for a in answers if a not in (None, "unsure")]
    if decided:
        return decided[0]
    return "unsure" if "unsure" in answers else None


def hardness_from_text(text: str) -> Optional[str]:
    """Hard, soft or unsure from a patient's words; None if the text says nothing about it."""
    return _first_answer(text, _hardness_in_clause)


def fluid_from_text(text: str) -> Optional[str]:
    """Yes, no or unsure about fluid or pus; None if the text says nothing about it."""
    return _first_answer(text, _fluid_in_clause)


def location_from_text(text: str) -> Optional[str]:
    """The body location, as one of the contract's values; None if none is named."""
    mentions = [m for m in _mentions(tokens(text), LOCATION_TERMS) if not m[2]]
    return mentions[0][1] if mentions else None


def red_flags_from_text(text: str) -> List[str]:
    """Red flags the patient reports (negated mentions such as "no fever" are ignored)."""
    flags: List[str] = []
    for _, value, negated in _mentions(tokens(text), RED_FLAG_TERMS):
        if not negated and value not in flags:
            flags.append(value)
    return flags


def normalise(kind: str, raw: Optional[str]) -> Optional[str]:
    """Map an extracted entity value (canonical, synonym or raw span) to the slot value."""
    if raw is None:
        return None
    raw = str(raw).strip()
    canonical = {
        "hardness": ("hard", "soft", "unsure"),
        "fluid": ("yes", "no", "unsure"),
        "location": tuple(LOCATION_TERMS) + ("other",),
    }[kind]
    if raw.lower() in canonical:
        return raw.lower()
    parse = {
        "hardness": hardness_from_text,
        "fluid": fluid_from_text,
        "location": location_from_text,
    }[kind]
    return parse(raw)


@dataclass
class Findings:
    """Everything one message tells about the bump."""

    hardness: Optional[str] = None
    fluid: Optional[str] = None
    location: Optional[str] = None
    red_flags: List[str] = field(default_factory=list)


def findings_from_text(text: str) -> Findings:
    """Read every contract fact from one message."""
    return Findings(
        hardness=hardness_from_text(text),
        fluid=fluid_from_text(text),
        location=location_from_text(text),
        red_flags=red_flags_from_text(text),
    )
