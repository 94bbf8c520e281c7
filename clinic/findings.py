"""Turn what patients write into the contract's slot values, negations included.

"its hrd n theres no pus" -> hardness=hard, fluid=no; "not soft at all" -> hardness=hard;
"under my lower lash line" -> location=eye_area; "not sure" -> unsure.

The words come from the one lexicon in data/lookups/ (clinic/lexicon.py). `interpret()` is the
negation scope (NegEx-style: a cue reaches a few words forward, stops at clause breaks and at other
facts) and is shared by two matchers: this module's own whole-word matcher (used by the triage
form's validators) and the spaCy pipeline's entity ruler (clinic/nlu/pipeline.py, used by the NLU).
Pure Python, no Rasa imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from clinic import lexicon
from clinic.contract import DESCRIBING_ENTITIES, Entity, Fluid, Hardness, Location, RedFlag

# What the readers return is plain strings (Rasa's entities, the slots' values): members only compare.
LEXICON = lexicon.load()
HARDNESS_TERMS = LEXICON.terms[Entity.HARDNESS]
FLUID_TERMS = LEXICON.terms[Entity.FLUID]
LOCATION_TERMS = LEXICON.terms[Entity.LOCATION]
RED_FLAG_TERMS = LEXICON.terms[Entity.RED_FLAG]
UNSURE_PHRASES = LEXICON.unsure
NEGATION_CUES = LEXICON.negation_cues | {"n't"}

# "unsure" (Hardness.UNSURE, Fluid.UNSURE): a mention kind of its own until its clause tells which question
# it answers
UNSURE = Hardness.UNSURE.value
NEUTRAL = "neutral"  # "can't see it", "my eye is fine": words that hold their place and state nothing
# After "can" / "could" these report what the patient notices, not a worry: "I can see it bleeding".
PERCEIVING = frozenset({"see", "feel", "tell", "notice", "hear", "smell"})
# A negation cue reaches this many words forward.
NEGATION_WINDOW = 4
PUNCTUATION = frozenset({",", ".", ";", ":", "!", "?", "&", "\n"})
CONTRACTED_IS = frozenset({"'s", "s", "'re", "'m", "'ve", "'ll"})  # "it's", "they're": a new statement

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[,.;:!?&\n]")
# Fused negations as patients type them, split the way spaCy's English tokenizer does.
_FUSED_NOT = {
    "isnt": "is", "dont": "do", "doesnt": "does", "didnt": "did", "cant": "can", "cannot": "can",
    "wont": "will", "wasnt": "was", "hasnt": "has", "havent": "have", "aint": "is", "arent": "are",
    "werent": "were", "couldnt": "could", "shouldnt": "should", "wouldnt": "would",
}
_IRREGULAR_NOT = {"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}
_FUSED_IS = {"theres": "there", "thats": "that", "whats": "what", "hes": "he", "shes": "she"}


def _split(word: str) -> List[str]:
    if word.endswith("n't"):
        stem = word[:-3]
        return [_IRREGULAR_NOT.get(stem, stem), "not"]
    if word in _FUSED_NOT:
        return [_FUSED_NOT[word], "not"]
    if word in _FUSED_IS:
        return [_FUSED_IS[word], "'s"]
    if "'" in word:
        head, _, tail = word.partition("'")
        return [head, "'" + tail]
    return [word]


def tokens(text: str) -> List[str]:
    """Lower-case words and punctuation; "isn't" and "isnt" both become "is", "not"."""
    found = _TOKEN.findall(text.lower().replace("\u2019", "'"))
    return [part for word in found for part in _split(word)]


@dataclass(frozen=True)
class Mention:
    """A lexicon phrase found in a message: words [start, end) name `value` of `kind`."""

    start: int
    end: int
    kind: str  # a contract entity, or UNSURE
    value: str


@dataclass(frozen=True)
class Finding:
    """A fact the message states: words [start, end) (negation cue included) give `value`."""

    start: int
    end: int
    entity: str  # a contract entity, or UNSURE for a bare "not sure"
    value: str
    negated: bool = False


# "{red} ... {spreading}" in the lexicon: the two parts in one clause, up to GAP_WORDS words apart
# ("the redness round it is spreading", "under my eye has ballooned"). A gap never holds punctuation,
# a clause break other than "and" ("red and spreading"), or a negation ("my eye isn't swollen").
GAP = "..."
GAP_WORDS = 4


def gap_refuses(word: str) -> bool:
    """Whether `word` ends a gap of a gapped phrase (both matchers use this)."""
    return word in PUNCTUATION or word in NEGATION_CUES or (word in LEXICON.clause_breaks and word != "and")


def phrase_words(phrase: str) -> Tuple[str, ...]:
    """A lexicon phrase as the matcher reads it; a gapped phrase keeps GAP between its parts."""
    parts = [tuple(tokens(part)) for part in phrase.split(f" {GAP} ")]
    return tuple(word for i, part in enumerate(parts) for word in ((GAP,) if i else ()) + part)


def _phrases() -> List[Tuple[Tuple[str, ...], str, str]]:
    table = [
        (phrase_words(phrase), entity, value)
        for entity, values in LEXICON.terms.items()
        for value, phrases in values.items()
        for phrase in phrases
    ]
    table += [(phrase_words(phrase), UNSURE, UNSURE) for phrase in UNSURE_PHRASES]
    table += [(phrase_words(phrase), NEUTRAL, NEUTRAL) for phrase in LEXICON.neutral]
    return sorted(table, key=lambda entry: -len(entry[0]))


_PHRASES = _phrases()


def _match_end(toks: Sequence[str], start: int, words: Sequence[str]) -> Optional[int]:
    """Where `words` (GAP allowed) matched from `start` ends, the shortest gap first; None if not."""
    if not words:
        return start
    if words[0] == GAP:
        for skip in range(GAP_WORDS + 1):
            if skip and (start + skip > len(toks) or gap_refuses(toks[start + skip - 1])):
                return None
            end = _match_end(toks, start + skip, words[1:])
            if end is not None:
                return end
        return None
    if start < len(toks) and toks[start] == words[0]:
        return _match_end(toks, start + 1, words[1:])
    return None


def find_mentions(toks: Sequence[str]) -> List[Mention]:
    """Lexicon phrases in `toks`, the longest span first, never two on the same word."""
    index: Dict[str, List[int]] = {}
    for i, word in enumerate(toks):
        index.setdefault(word, []).append(i)
    candidates: List[Mention] = []
    for words, kind, value in _PHRASES:
        for start in index.get(words[0], ()):
            end = _match_end(toks, start, words)
            if end is not None:
                candidates.append(Mention(start, end, kind, value))
    taken: Set[int] = set()
    found: List[Mention] = []
    for m in sorted(candidates, key=lambda m: m.start - m.end):  # stable: the lexicon's order breaks ties
        if not taken & set(range(m.start, m.end)):
            taken.update(range(m.start, m.end))
            found.append(m)
    return sorted(found, key=lambda m: m.start)


def _breaks_clause(word: str) -> bool:
    return word in PUNCTUATION or word in LEXICON.clause_breaks


def _cue_before(toks: Sequence[str], mention: Mention, owner: Dict[int, str]) -> Tuple[str, int]:
    """("negated" | "hypothetical" | "", cue position) for the words just before `mention`.

    "there's" / "there is" neither ends the scope nor counts in its window: "don't think there's
    anything in it" is a no.
    """
    budget = NEGATION_WINDOW
    for i in range(mention.start - 1, -1, -1):
        word = toks[i]
        if _existential(toks, i):
            continue
        if budget == 0:
            break
        budget -= 1
        if i in owner:  # another fact: the same kind shares the cue ("no fever or chills")
            if owner[i] != mention.kind:
                break
            continue
        if _breaks_clause(word) or word in LEXICON.scope_ends or word in CONTRACTED_IS:
            break
        if word in NEGATION_CUES:
            return "negated", i
        if word in LEXICON.hypothetical_cues and mention.kind == Entity.RED_FLAG:
            if i + 1 < len(toks) and toks[i + 1] in PERCEIVING:
                continue  # "I can see it bleeding" reports it
            return "hypothetical", i
    return "", -1


I_VERBS = frozenset({
    "have", "had", "am", "was", "think", "thought", "tried", "try", "do", "did", "dont", "can",
    "cant", "will", "would", "need", "want", "noticed", "got", "just", "really", "also", "'ve",
    "'m", "'d", "'ll", "feel", "put", "used", "went", "get", "know", "see",
})


def _eye_for_i(toks: Sequence[str], mention: Mention) -> bool:
    """Whether "eye" stands for "I" (a voice-typing homophone): "eye have", "eye think", "and eye tried"."""
    if toks[mention.start:mention.end] != ["eye"] or mention.end >= len(toks):
        return False
    before = toks[mention.start - 1] if mention.start else ""
    placed = before in LEXICON.owners or before in LOCATION_PREPOSITIONS
    return toks[mention.end] in I_VERBS and not placed


LOCATION_PREPOSITIONS = frozenset({"near", "under", "around", "round", "by", "above", "below", "beside", "in",
                                   "next", "to", "corner", "close"})


EXISTENTIAL_BE = frozenset({"'s", "s", "is", "are", "was", "were", "'re"})


def _existential(toks: Sequence[str], i: int) -> bool:
    """Whether toks[i] is the "there" of "there's", "there is", or its verb."""
    if toks[i] in ("there", "theres"):
        return True
    return toks[i] in EXISTENTIAL_BE and i > 0 and toks[i - 1] == "there"


def _already_negative(toks: Sequence[str], mention: Mention) -> bool:
    """A negative answer is not turned round again: "nah, nothing comes out", "nah dry" (= no fluid)."""
    if mention.kind == Entity.FLUID and mention.value == Fluid.NO:
        return True
    return any(word in NEGATION_CUES for word in toks[mention.start:mention.end])


POSTPOSED_NO = frozenset({"no", "nope", "nah", "none", "n", "x"})


def _echoed_then_denied(toks: Sequence[str], mention: Mention, owner: Dict[int, str]) -> bool:
    """The patient repeats the question's word, then says no: "pus? no", "bleeding? nope".

    Not a place: "the lump on my neck? not hard" names the neck and then answers another question; nor a
    "no" that starts the next fact: "kind of squishy? no stuff comes out tho".
    """
    if mention.kind == Entity.LOCATION:
        return False
    after = toks[mention.end:mention.end + 2]
    if after and after[0] in POSTPOSED_NO and (len(after) == 1 or after[1] in PUNCTUATION):
        return mention.kind in ("red_flag", "fluid")  # a list of signs ticked off: "bleeding no, fever no"
    # "pus? no", and a pasted list's "discharge: none"
    echoed = len(after) == 2 and after[0] in ("?", ":") and after[1] in NEGATION_CUES
    if not echoed or mention.end + 2 in owner:
        return False
    rest = " " + " ".join(toks[mention.end + 1:mention.end + 5]) + " "
    # "hard? not sure" does not deny
    return not any(rest.startswith(" " + " ".join(tokens(p)) + " ") for p in UNSURE_PHRASES)


# A worry that reaches past "and": "what if i squeeze it and it bleeds". A bare "if" is not one: "if i press
# it, it bleeds" tells what happens.
WORRIES = (("what", "if"), ("what", "happens", "if"), ("in", "case"), ("supposing",), ("suppose",))


def _worried_about(toks: Sequence[str], mention: Mention) -> bool:
    """Whether the red flag's sentence puts it under "what if" / "in case" before it."""
    start = mention.start
    while start > 0 and toks[start - 1] not in PUNCTUATION:
        start -= 1
    words = tuple(toks[start:mention.start])
    return any(words[i:i + len(w)] == w for w in WORRIES for i in range(len(words)))


# Red flags whose clause names a place the sign reaches, not where the bump is.
REACHING_SIGNS = frozenset({RedFlag.SPREADING_REDNESS, RedFlag.VISION_CHANGES})


def _asked_in_its_clause(toks: Sequence[str], mention: Mention, clause_of: Sequence[int]) -> bool:
    """A worry asked, not a sign reported: a question opening with a hypothetical cue.

    "could this bump start bleeding if I leave it?" asks; "so it's bleeding?" reports.
    """
    clause = clause_of[mention.start]
    words = [i for i, c in enumerate(clause_of) if c == clause or (c == clause + 1 and toks[i] == "?")]
    words = [i for i in words if toks[i] not in PUNCTUATION or toks[i] == "?"]
    if not words or toks[words[-1]] != "?":
        return False
    if toks[words[0]] in LEXICON.clause_breaks or toks[words[0]] == "so":
        words = words[1:]  # "and could it start bleeding?"
    return bool(words) and words[0] < mention.start and toks[words[0]] in LEXICON.hypothetical_cues


def _where_a_sign_reaches(mentions: Sequence[Mention], place: Mention, clause_of: Sequence[int]) -> bool:
    """Whether `place` shares its clause with spreading redness or trouble seeing ("fuzzy in my left eye")."""
    return any(
        m.kind == Entity.RED_FLAG and m.value in REACHING_SIGNS
        and clause_of[m.start] == clause_of[place.start]
        for m in mentions
    )


_FLIP: Dict[str, Dict[str, str]] = {
    Entity.HARDNESS: {Hardness.HARD: Hardness.SOFT.value, Hardness.SOFT: Hardness.HARD.value},
    Entity.FLUID: {Fluid.YES: Fluid.NO.value, Fluid.NO: Fluid.YES.value},
}


def interpret(toks: Sequence[str], mentions: Iterable[Mention]) -> List[Finding]:
    """The facts a message states, from its words and the lexicon phrases found in it.

    Negated hardness and fluid flip ("not soft" = hard, "no pus" = no); negated or hypothetical
    locations and red flags are dropped ("no fever", "will it bleed?"). "Not sure" answers the
    hardness or fluid mentioned in its clause ("dunno about pus" = fluid unsure); alone it stays
    a bare UNSURE finding that only the question asked can place.
    """
    mentions = _out_of_sight(toks, sorted(mentions, key=lambda m: m.start))
    owner = {i: m.kind for m in mentions for i in range(m.start, m.end)}
    clause, clause_of = 0, []
    for word in toks:
        clause += _breaks_clause(word)
        clause_of.append(clause)
    unsure_clauses = {clause_of[m.start]: m for m in mentions if m.kind == UNSURE}
    findings: List[Finding] = []
    answered: Set[Tuple[int, str]] = set()
    denied: Set[str] = set()
    for m in mentions:
        if m.kind in (UNSURE, NEUTRAL):
            continue
        if (m.kind in (Entity.HARDNESS, Entity.FLUID) and clause_of[m.start] in unsure_clauses
                and not _told_before_the_unsure(m, unsure_clauses[clause_of[m.start]], mentions, clause_of)):
            unsure = unsure_clauses[clause_of[m.start]]
            if (unsure.start, m.kind) not in answered:
                answered.add((unsure.start, m.kind))
                findings.append(Finding(unsure.start, unsure.end, m.kind, UNSURE))
            continue
        if m.kind == Entity.LOCATION and " ".join(toks[m.start:m.end]) in LEXICON.needs_owner:
            if m.start > 0 and toks[m.start - 1] not in LEXICON.owners:
                continue
            if m.end < len(toks) and toks[m.end] == "of":  # "the back of my neck": the neck says where
                continue
        if m.kind == Entity.RED_FLAG and _swearing(toks, m):
            continue  # "bloody hurts like hell": a swear before the pain, not blood
        if m.kind == Entity.LOCATION and _eye_for_i(toks, m):
            continue  # "eye have tried squeezing it": voice typing's "I"
        cue, at = _cue_before(toks, m, owner)
        if not cue and _echoed_then_denied(toks, m, owner):  # "pus? no, never seen any"
            cue, at = "negated", m.start
        if not cue and m.kind == Entity.RED_FLAG and _worried_about(toks, m):
            cue = "hypothetical"  # "what if i squeeze it and it bleeds"
        if not cue and m.kind == Entity.RED_FLAG and _asked_in_its_clause(toks, m, clause_of):
            cue = "hypothetical"  # "could this bump on my chin start bleeding if i leave it?"
        if m.kind == Entity.LOCATION and _where_a_sign_reaches(mentions, m, clause_of):
            continue  # "the redness is spreading up my neck": where the redness goes, not the bump
        untried = cue == "negated" and _untried(toks, at, m)
        if m.kind in (Entity.HARDNESS, Entity.FLUID) and (_wondered(toks, m) or untried):
            findings.append(Finding(m.start, m.end, m.kind, UNSURE))  # "no idea how hard it is", "not tried"
            continue
        if cue == "negated" and m.kind == Entity.RED_FLAG:
            denied.add(m.value)
        if not cue:
            findings.append(Finding(m.start, m.end, m.kind, m.value))
        elif cue == "negated" and m.kind in _FLIP and _already_negative(toks, m):
            findings.append(Finding(at, m.end, m.kind, m.value, negated=True))  # "nah, nothing comes out"
        elif cue == "negated" and m.kind in _FLIP:
            findings.append(Finding(at, m.end, m.kind, _FLIP[m.kind].get(m.value, m.value), negated=True))
    for unsure in unsure_clauses.values():
        if not any(start == unsure.start for start, _ in answered):
            findings.append(Finding(unsure.start, unsure.end, UNSURE, UNSURE))
    findings = _told_not_asked(toks, findings, denied)
    settled = _settle(toks, sorted(findings, key=lambda f: (f.start, f.entity)))
    return _the_one_asked_about(toks, settled, clause_of)


# "bloody" before a word of pain swears ("it bloody hurts"), and "bloody", "bleedin" before an adjective.
SWORN_PAIN = frozenset({"hurts", "hurt", "hurting", "sore", "painful", "kills", "killing", "aches", "aching",
                        "stings", "stinging", "throbs", "throbbing"})


SWORN_ADJECTIVES = frozenset({"little", "tiny", "annoying", "annoyin", "irritating", "hell", "nuisance",
                              "typical", "ugly", "huge", "massive", "stubborn", "horrible", "weird",
                              "embarrassing", "stupid", "frustrating", "ages", "awful"})
SWORN_ONLY = frozenset({"annoying", "annoyin", "irritating", "hell", "nuisance", "typical", "ugly",
                        "horrible", "embarrassing", "stupid", "frustrating", "awful"})
SWEARS = frozenset({"bloody", "bleedin", "bleeding"})


def _swearing(toks: Sequence[str], m: Mention) -> bool:
    """A swear before a word of pain or an adjective: "it bloody hurts", "this bleedin little white dot"."""
    words = list(toks[m.start:m.end])
    if len(words) != 1 or words[0] not in SWEARS or m.end >= len(toks):
        return False
    after = toks[m.end]
    if words[0] == "bleeding":  # "it's bleeding little bits" bleeds: only a word no bleeding is
        return after in SWORN_ONLY
    return after in SWORN_ADJECTIVES or (words[0] == "bloody" and after in SWORN_PAIN)


def _told_before_the_unsure(m: Mention, unsure: Mention, mentions: Sequence[Mention],
                            clause_of: Sequence[int]) -> bool:
    """A fact said before a "not sure" about another fact after it stands: "hard not sure if pus"."""
    return m.end <= unsure.start and any(
        o.kind in (Entity.HARDNESS, Entity.FLUID) and o.kind != m.kind and o.start >= unsure.end
        and clause_of[o.start] == clause_of[m.start] for o in mentions)


# "a spot on his back he can't see": the place, then who can't see it, is why someone else is looking.
BARE_SIGHT = (("can", "not", "see"), ("cannot", "see"))
SENTENCE_ENDS = frozenset({".", "!", "?", ";", "\n"})
PLACE_AFTER_SIGHT = 6  # tokens: "I cannot see, is on back" names the place just after
OUT_OF_SIGHT = frozenset({Location.BODY, Location.OTHER})  # the back, the scalp, behind the ear
SEERS = frozenset({"i", "he", "she", "they", "you", "we"})
RELATIVE = frozenset({"that", "which"})
SEEN_OBJECT = frozenset({"it", "them", "myself", "himself", "herself", "themselves"})
# The one-word names of the eye (data/lookups/words.yml word.eye), and sight itself.
EYE_WORDS = frozenset(
    w for phrase in lexicon.read_lookups().get("word.eye", ()) if " " not in phrase for w in tokens(phrase)
) | {"vision", "sight", "eyesight"}


def _out_of_sight(toks: Sequence[str], mentions: List[Mention]) -> List[Mention]:
    """Drop "can't see" said of the bump itself: right after a place nobody sees on their own skin.

    "my husband has a spot on his back he can't see, I'm looking at it for him" tells why someone else is
    looking, not trouble seeing. Only that shape: "on my back and I can't see", "can't see properly", any
    eye word or "can hardly see" keep the red flag.
    """
    if any(w in EYE_WORDS for w in toks):
        return mentions
    ends = {m.end for m in mentions if m.kind == Entity.LOCATION and m.value in OUT_OF_SIGHT}
    starts = {m.start for m in mentions if m.kind == Entity.LOCATION and m.value in OUT_OF_SIGHT}

    def place_follows(m: Mention) -> bool:  # "I cannot see, is on back"
        for at in range(m.end, min(len(toks), m.end + PLACE_AFTER_SIGHT)):
            if toks[at] in SENTENCE_ENDS:
                return False
            if at in starts:
                return True
        return False

    def of_the_bump(m: Mention) -> bool:
        words = tuple(toks[m.start:m.end])
        if m.kind != Entity.RED_FLAG or m.value != RedFlag.VISION_CHANGES or words not in BARE_SIGHT:
            return False
        at = m.start - 1
        if at < 0 or toks[at] not in SEERS:
            return False
        at -= 1 if at > 0 and toks[at - 1] in RELATIVE else 0
        after = toks[m.end] if m.end < len(toks) else "."
        return (at in ends or place_follows(m)) and (after in PUNCTUATION or after in SEEN_OBJECT)

    return [m for m in mentions if not of_the_bump(m)]


# "know if it's hard", "tell how hard", "say whether there's pus": the fact is wondered about, not told.
WONDERING = frozenset({"know", "tell", "say", "sure", "judge", "check", "guess", "wondering", "wonder", "ask",
                       "feel"})
WHETHER = frozenset({"if", "whether", "how"})
# A negated attempt says nothing came of no attempt: "haven't tried squeezing", "not attempted to express".
ATTEMPTS = frozenset({"tried", "try", "attempted", "attempt", "dared", "dare", "squeezed", "touched"})


def _wondered(toks: Sequence[str], mention: Mention) -> bool:
    """Whether the mention follows "know if" / "tell how" / "sure whether" in its clause."""
    for i in range(mention.start - 1, max(-1, mention.start - 6), -1):
        if toks[i] in PUNCTUATION:
            return False
        if toks[i] in WHETHER and i > 0 and toks[i - 1] in WONDERING:
            return True
    return False


def _untried(toks: Sequence[str], cue_at: int, mention: Mention) -> bool:
    """Whether the negation before a fluid or hardness word negates trying, not the fact.

    "I have not attempted to express anything", "haven't tried squeezing it".
    """
    return cue_at >= 0 and any(word in ATTEMPTS for word in toks[cue_at + 1:mention.start])


def _sentences(toks: Sequence[str]) -> List[Tuple[int, int, bool]]:
    """(start, end, is a question) of each sentence: split at . ! ? ; and new lines."""
    spans, start = [], 0
    for i, word in enumerate(toks):
        if word in SENTENCE_ENDS:
            if i > start:
                spans.append((start, i + 1, word == "?"))
            start = i + 1
    if start < len(toks):
        spans.append((start, len(toks), False))
    return spans


def _told_not_asked(toks: Sequence[str], found: List[Finding], denied: Set[str]) -> List[Finding]:
    """Drop what a question only names when the message answers it too.

    "fluid? like pus? no nothing" = no fluid; "what counts as bleeding? it doesn't bleed" = no bleeding.
    A red flag named in a question stays unless the message denies that same sign.
    """
    questions = [(a, b) for a, b, asked in _sentences(toks) if asked]
    if not questions:
        return found

    def asked(f: Finding) -> bool:  # a denial answers at once: "pus? no" is told
        return not f.negated and any(a <= f.start < b for a, b in questions)

    told = {f.entity for f in found if not asked(f)}
    last = [w for w in toks[questions[-1][1]:] if w not in PUNCTUATION]
    answer = bare_yes_no(" ".join(last)) if last and Entity.FLUID not in told else None
    asked_fluid = [f for f in found if f.entity == Entity.FLUID and asked(f)]
    if answer and asked_fluid:  # "pus? like the yellow stuff? nah none"
        found = [f for f in found if f not in asked_fluid]
        found.append(Finding(asked_fluid[0].start, len(toks), Entity.FLUID.value, answer,
                             negated=answer == Fluid.NO))
    kept: List[Finding] = []
    for f in found:
        if asked(f) and f.entity in DESCRIBING_ENTITIES and f.entity in told:
            continue
        if asked(f) and f.entity in (Entity.HARDNESS, Entity.FLUID) and UNSURE in told:  # "hard? not sure"
            if not any(k.entity == f.entity for k in kept):
                kept.append(Finding(f.start, f.end, f.entity, UNSURE))
            continue
        if asked(f) and f.entity == Entity.RED_FLAG and f.value in denied:
            continue
        kept.append(f)
    return kept


ALTERNATIVES = frozenset({"or", "/", ","})  # "hard or soft?": offered, not chosen
BOTH = frozenset({"and", "n", "&"})  # "between hard and soft"
NEITHER = frozenset({",", "or", "nor", "and", "n", "but", "yet"})  # "not hard, not soft": joined denials


def _settle(toks: Sequence[str], found: List[Finding]) -> List[Finding]:
    """Two answers to one question in a row: a correction keeps the later, alternatives are unsure.

    "hard... actually no its more soft" = soft; "chin, no wait, my lip" = lip; "is it hard or soft?
    couldn't tell you" and "in between hard n soft" = unsure.
    """
    settled: List[Finding] = []
    for f in found:
        before = next((p for p in reversed(settled) if p.entity == f.entity), None)
        if before is None or f.entity not in DESCRIBING_ENTITIES or before.value == f.value:
            settled.append(f)
            continue
        between = [w for w in toks[before.end:f.start] if w not in PUNCTUATION or w == ","]
        if _has_phrase(between, LEXICON.corrections):
            settled.remove(before)
            settled.append(f)
        elif f.entity != Entity.LOCATION and between and (
            (set(between) <= ALTERNATIVES and "or" in between)
            or (set(between) <= BOTH and before.start > 0 and toks[before.start - 1] in ("between", "either"))
        ):
            settled.remove(before)
            settled.append(Finding(before.start, f.end, f.entity, UNSURE))
        elif f.entity != Entity.LOCATION and before.negated and f.negated and set(between) <= NEITHER:
            settled.remove(before)  # "not hard not soft really": neither, so unsure
            settled.append(Finding(before.start, f.end, f.entity, UNSURE))
        else:
            settled.append(f)
    return settled


def read(text: str) -> List[Finding]:
    """Every fact in one message (this module's matcher, misspellings included, + the shared scope)."""
    return list(_read(text))


@lru_cache(maxsize=1024)
def _read(text: str) -> Tuple[Finding, ...]:
    """`read`, once per text: a form run reads one message for each slot, the safety and the screening."""
    toks = tokens(text)
    return tuple(interpret(toks, _mentions(toks, misspelt_mentions)))


Respeller = Callable[[Sequence[str], List[int]], List[Mention]]


def _mentions(toks: Sequence[str], misspelt: Respeller) -> List[Mention]:
    """The lexicon's phrases in `toks`, then what `misspelt` finds in the words they leave free."""
    exact = find_mentions(toks)
    return exact + misspelt(toks, [i for m in exact for i in range(m.start, m.end)])


PLACING = frozenset({"on", "by", "under", "near", "in", "above", "below", "next", "beside", "at", "round",
                     "around"})


def _the_one_asked_about(
        toks: Sequence[str], found: List[Finding], clause_of: Sequence[int]) -> List[Finding]:
    """Of two bumps in two places, the one the patient says they ask about, with its own facts.

    "a hard dot under my eye and a spot on my chin, the chin one is the one i want to ask about" is
    about the chin: the eye one's hardness is not the chin one's. Red flags are kept, whichever bump.
    Without such words, both places stay (and the eye area wins: see `_place`).
    """
    places = [f for f in found if f.entity == Entity.LOCATION]
    if len({f.value for f in places}) < 2:
        return found
    chosen = None
    for f in places:
        before = toks[f.start - 1] if f.start else ""
        if before == "the" and toks[f.end:f.end + 1] in (["one"], ["ones"]):  # "the chin one"
            chosen = f
        elif any(toks[i:i + 2] in (["the", "one"], ["the", "ones"]) and toks[i + 2] in PLACING
                 for i in range(max(0, f.start - 5), f.start - 2)):  # "the one on my cheek"
            chosen = f
    if chosen is None:
        return found

    def nearest_place(f: Finding) -> str:  # in its own clause first: "a hard one on my forehead"
        return min(places, key=lambda p: (clause_of[p.start] != clause_of[f.start], abs(p.start - f.start),
                                          p.start)).value

    return [f for f in found
            if not (f.entity == Entity.LOCATION and f.value != chosen.value)
            and not (f.entity in (Entity.HARDNESS, Entity.FLUID) and nearest_place(f) != chosen.value)]


def _answer(found: Sequence[Finding], entity: str) -> Optional[str]:
    """The first decided value, else unsure if the message says so, else None."""
    values = [f.value for f in found if f.entity == entity]
    decided = [v for v in values if v != UNSURE]
    if len(set(decided)) > 1:
        return UNSURE  # "maybe hard maybe soft", "not really hard, not really soft"
    if decided:
        return decided[0]
    if values or any(f.entity == UNSURE for f in found):
        return UNSURE
    return None


def hardness_from_text(text: str) -> Optional[str]:
    """Hard, soft or unsure from a patient's words; None if the text says nothing about it."""
    return _answer(read(text), Entity.HARDNESS)


def fluid_from_text(text: str) -> Optional[str]:
    """Yes, no or unsure about fluid or pus; None if the text says nothing about it."""
    return _answer(read(text), Entity.FLUID)


EYE_AREA = Location.EYE_AREA.value


def _place(found: Sequence[Finding]) -> Optional[str]:
    """The first place named; the eye area if any is (two bumps: the eye warning must not be lost)."""
    places = [f.value for f in found if f.entity == Entity.LOCATION]
    return EYE_AREA if EYE_AREA in places else next(iter(places), None)


def location_from_text(text: str) -> Optional[str]:
    """The body location, as one of the contract's values; None if none is named."""
    return _place(read(text))


def red_flags_from_text(text: str) -> List[str]:
    """Red flags the patient reports (negated mentions such as "no fever" are ignored)."""
    flags: List[str] = []
    for f in read(text):
        if f.entity == Entity.RED_FLAG and f.value not in flags:
            flags.append(f.value)
    return flags


def normalise(kind: str, raw: Optional[str]) -> Optional[str]:
    """Map an extracted entity value (canonical, synonym or raw span) to the slot value."""
    if raw is None:
        return None
    raw = str(raw).strip()
    canonicals: Dict[str, Tuple[str, ...]] = {
        Entity.HARDNESS: Hardness.values(),
        Entity.FLUID: Fluid.values(),
        Entity.LOCATION: tuple(LOCATION_TERMS) + (Location.OTHER,),
    }
    canonical = canonicals[kind]
    if raw.lower() in canonical:
        return raw.lower()
    parsers: Dict[str, Callable[[str], Optional[str]]] = {
        Entity.HARDNESS: hardness_from_text,
        Entity.FLUID: fluid_from_text,
        Entity.LOCATION: location_from_text,
    }
    return parsers[kind](raw)


@dataclass
class Findings:
    """Everything one message tells about the bump."""

    hardness: Optional[str] = None
    fluid: Optional[str] = None
    location: Optional[str] = None
    red_flags: List[str] = field(default_factory=list)


def findings_from_text(text: str) -> Findings:
    """Read every contract fact from one message."""
    found = read(text)
    location = _place(found)
    flags: List[str] = []
    for f in found:
        if f.entity == Entity.RED_FLAG and f.value not in flags:
            flags.append(f.value)
    return Findings(_answer(found, Entity.HARDNESS), _answer(found, Entity.FLUID), location, flags)


# --- misspellings -------------------------------------------------------------------------------
# A word no English word list knows, within a small edit distance of exactly one single-word lexicon
# term, is read as that term: "forhed" -> forehead, "chek" -> cheek, "eyeleed" -> eyelid. Words of
# ordinary English ("sort", "hand", "check") are never corrected, so "sort of" never reads as soft.
FUZZY_MIN_LENGTH = 4
FUZZY_MAX_WORDS = 300  # a pasted essay is not searched word by word
_ENGLISH_WORDS = None


COMMON_WORD_LOG_PROB = -15.0  # spaCy's English word frequencies: above this a word is ordinary English
ENGLISH_WORDS_CACHE = Path(__file__).resolve().parents[1] / "build" / "english_words.txt"


def _english_words() -> FrozenSet[str]:
    """Ordinary English word forms: spaCy's lemma table plus every frequent word (spacy-lookups-data).

    Filtered once from the million-word frequency table into build/english_words.txt, read once.
    """
    global _ENGLISH_WORDS
    if _ENGLISH_WORDS is not None:
        return _ENGLISH_WORDS
    if ENGLISH_WORDS_CACHE.is_file():
        _ENGLISH_WORDS = frozenset(ENGLISH_WORDS_CACHE.read_text(encoding="utf-8").split())
        return _ENGLISH_WORDS
    import gzip
    import json
    from importlib import resources

    data = resources.files("spacy_lookups_data") / "data"
    with gzip.open((data / "en_lemma_lookup.json.gz").open("rb"), "rt", encoding="utf-8") as handle:
        lemmas = json.load(handle)
    with gzip.open((data / "en_lexeme_prob.json.gz").open("rb"), "rt", encoding="utf-8") as handle:
        frequent = [w for w, p in json.load(handle).items() if p > COMMON_WORD_LOG_PROB and w.isalpha()]
    words = frozenset(lemmas) | frozenset(lemmas.values()) | frozenset(w.lower() for w in frequent)
    try:
        ENGLISH_WORDS_CACHE.parent.mkdir(parents=True, exist_ok=True)
        ENGLISH_WORDS_CACHE.write_text("\n".join(sorted(words)), encoding="utf-8")
    except OSError:
        pass  # a read-only checkout computes it again next time
    _ENGLISH_WORDS = words
    return words


def _single_word_terms() -> Dict[str, Tuple[str, str]]:
    terms: Dict[str, Tuple[str, str]] = {}
    for words, kind, value in _PHRASES:
        if len(words) == 1 and kind != UNSURE and len(words[0]) >= FUZZY_MIN_LENGTH and words[0].isalpha():
            terms.setdefault(words[0], (kind, value))
    return terms


_SINGLE_WORD_TERMS = _single_word_terms()


def corrected(word: str) -> Optional[Tuple[str, str]]:
    """(kind, value) of the lexicon term a misspelt `word` stands for, or None."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA  # edit distance counting a swapped pair ("nsoe") as one

    if len(word) < FUZZY_MIN_LENGTH or not word.isalpha() or word in _SINGLE_WORD_TERMS:
        return None
    if word in NEGATION_CUES:  # "nane" (Scots: none) is no misspelt "nape"
        return None
    if word in _english_words():
        return None
    limit = 1 if len(word) <= 5 else 2
    # A misspelling keeps its first letter ("forhed", "chek"): slang like "laters" is not "blisters".
    candidates = [term for term in _SINGLE_WORD_TERMS if term[0] == word[0]]
    matches = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=limit, limit=3)
    if not matches:
        return None
    best = min(score for _, score, _ in matches)
    meanings = {_SINGLE_WORD_TERMS[term] for term, score, _ in matches if score == best}
    return meanings.pop() if len(meanings) == 1 else None


RESPELLING_OWNERS = LEXICON.owners | {"me", "ma", "mi"}  # "side of me nek", "on ma nos"
_REPEATS = re.compile(r"(\w)\1{2,}")  # "sooo", "hurtsss": a letter typed three times or more


def _vocabulary() -> FrozenSet[str]:
    """Every word of the lexicon's phrases (and its negation words) a misspelling may stand for."""
    words = {w for phrase, _, _ in _PHRASES for w in phrase if w.isalpha() and len(w) >= FUZZY_MIN_LENGTH - 1}
    return frozenset(words | {w for w in NEGATION_CUES if w.isalpha()})


_VOCABULARY = _vocabulary()
_VOCABULARY_BY_LETTER: Dict[str, List[str]] = {}
for _w in sorted(_VOCABULARY):
    _VOCABULARY_BY_LETTER.setdefault(_w[0], []).append(_w)
_LOCATION_WORDS = frozenset(
    w for phrases in LOCATION_TERMS.values() for phrase in phrases for w in tokens(phrase) if w.isalpha())


def respelled(word: str, before: str = "") -> str:
    """The lexicon word a misspelt `word` stands for ("gettin" -> getting, "sooo" -> so), else `word`.

    Only a word no English word list knows is respelled, to the one nearest lexicon word with the same
    first letter (edit distance 1, or 2 from six letters on). After "my", "her"... a three-letter word
    may be a place ("my nek", "her nos"), and "my i" is the eye.
    """
    if not word.isalpha() or word in _VOCABULARY:
        return word
    if word.endswith("in") and word + "g" in _VOCABULARY:  # "gettin", "bleedin", "spreadin"
        return word + "g"
    if before in RESPELLING_OWNERS and word == "i":
        return "eye"
    if _REPEATS.search(word):
        for shorter in (_REPEATS.sub(r"\1", word), _REPEATS.sub(r"\1\1", word)):
            if shorter in _VOCABULARY or shorter in _english_words():
                return shorter
    short_place = len(word) == FUZZY_MIN_LENGTH - 1 and before in RESPELLING_OWNERS
    if (len(word) < FUZZY_MIN_LENGTH and not short_place) or word in _english_words():
        return word
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    limit = 1 if len(word) <= 5 else 2
    candidates = _VOCABULARY_BY_LETTER.get(word[0], [])
    if short_place:
        candidates = [w for w in candidates if w in _LOCATION_WORDS]
    matches = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=limit, limit=3)
    if not matches:
        return word
    best = min(score for _, score, _ in matches)
    nearest = [w for w, score, _ in matches if score == best]
    if len(nearest) > 1:  # "coms": comes rather than come, the last letter kept as well as the first
        nearest = [w for w in nearest if w[-1] == word[-1]]
    return nearest[0] if len(nearest) == 1 else word


# After "i" as the pronoun: "i can't", "i'm" (spaCy: "i", "m"), "i think".
PRONOUN_NEXT = I_VERBS | frozenset({
    "m", "'m", "ve", "d", "ll", "cant", "can't", "cannot", "wont", "dont", "didnt", "havent", "could",
    "should", "might", "must", "was", "wish", "hope", "guess"})


def misspelt_mentions(toks: Sequence[str], taken: Iterable[int]) -> List[Mention]:
    """Lexicon phrases found once misspelt words are respelled, at positions not already `taken`.

    "its grone reely fast" (grown really fast), "its all red n the red keeps gettin bigger", "on my
    for hed" (two words written for one), and single misspelt terms ("forhed", "chek", "eyeleed").
    """
    covered = set(taken)
    words = list(toks[:FUZZY_MAX_WORDS])
    fixed = [respelled(w, words[i - 1] if i else "") for i, w in enumerate(words)]
    for i, word in enumerate(words[:-1]):  # "killing me i can't", "right i'm off": the pronoun, not "my eye"
        if word == "i" and fixed[i] == "eye" and words[i + 1] in PRONOUN_NEXT:
            fixed[i] = word
    changed = {i for i, (a, b) in enumerate(zip(words, fixed, strict=True)) if a != b}
    found: List[Mention] = []
    if changed:
        for m in find_mentions(fixed):
            span = set(range(m.start, m.end))
            if span & changed and not span & covered:
                found.append(m)
                covered |= span
    for i in range(len(words) - 1):  # "for hed", "fore head": one word written as two
        if {i, i + 1} & covered or not (words[i].isalpha() and words[i + 1].isalpha()):
            continue
        joined = words[i] + words[i + 1]
        english = _english_words()
        meaning = _SINGLE_WORD_TERMS.get(joined)
        if meaning is None and (words[i] not in english or words[i + 1] not in english):
            meaning = corrected(joined)
        if meaning is not None:
            found.append(Mention(i, i + 2, meaning[0], meaning[1]))
            covered |= {i, i + 1}
    return found + fuzzy_mentions(words, covered)


def fuzzy_mentions(toks: Sequence[str], taken: Iterable[int]) -> List[Mention]:
    """Mentions for misspelt words at positions not already `taken` by an exact match."""
    covered = set(taken)
    found: List[Mention] = []
    for i, word in enumerate(toks[:FUZZY_MAX_WORDS]):
        if i in covered:
            continue
        meaning = corrected(word)
        if meaning is not None:
            found.append(Mention(i, i + 1, meaning[0], meaning[1]))
    return found


# --- the screening question ---------------------------------------------------------------------
def _has_phrase(toks: Sequence[str], phrases: Iterable[str]) -> bool:
    joined = " " + " ".join(toks) + " "
    return any(" " + " ".join(tokens(phrase)) + " " in joined for phrase in phrases)


def screening_answer(text: str) -> Optional[str]:
    """"present" (a warning sign, named by its place: "the second one"), "none", or None if unreadable.

    Red-flag words themselves are the NLU's (a `red_flag` entity): this reads only what is left.
    """
    toks = [t for t in tokens(text) if t not in PUNCTUATION]
    if not toks or any(m.kind == UNSURE for m in find_mentions(toks)):
        return None  # "no idea", "not sure": unreadable, so treated as a maybe
    none = _phrase_spans(toks, LEXICON.screening_none)
    pointed = [span for span in none if _names_a_thing(toks, span)]
    present = [span for span in _phrase_spans(toks, LEXICON.screening_present)  # "not a one of them"
               if not any(start < span[1] and span[0] < end for start, end in none)]
    if present:  # "one of them" is present, unless it is part of "not one of them"
        return "present"
    if pointed:  # "only that bit of red off the razor, no fevers": something named the lexicon can't judge
        return None
    if none:
        return "none"
    return None


# "only that it's annoying" tells none; "only that bit of red off the razor" names something: after "that" as
# a conjunction comes the subject of a clause, after "that" pointing at a thing comes the thing.
CLAUSE_SUBJECTS = frozenset({
    "it", "its", "i", "the", "my", "there", "he", "she", "they", "we", "you", "this"})


def _names_a_thing(toks: Sequence[str], span: Tuple[int, int]) -> bool:
    """Whether a none-phrase ending in "that" ("only that", "just that") points at something it names."""
    start, end = span
    return (toks[start] in ("only", "just") and toks[end - 1] == "that" and end < len(toks)
            and toks[end] not in CLAUSE_SUBJECTS)


def _phrase_spans(toks: Sequence[str], phrases: Iterable[str]) -> List[Tuple[int, int]]:
    """(start, end) of every occurrence of any of `phrases` in `toks`."""
    spans = []
    for phrase in phrases:
        words = tokens(phrase)
        for start in range(len(toks) - len(words) + 1):
            if list(toks[start:start + len(words)]) == words:
                spans.append((start, start + len(words)))
    return spans


BARE_FILLER = frozenset(
    {"at", "all", "really", "mate", "thanks", "thank", "you", "honestly", "tbh", "sorry", "lol"})
BARE_YES = frozenset({"yes", "yeah", "yep", "yup", "aye", "ya", "ye", "yeh", "yea", "definitely", "some"})


def bare_yes_no(text: str) -> Optional[str]:
    """"no" for a bare negation ("nothing", "nowt at all", "none"), "yes" for a bare yes, else None.

    The answer to a yes/no question (the fluid question): the words say nothing else.
    """
    words = [t for t in tokens(text) if t not in PUNCTUATION]
    toks = [respelled(t) for t in words if t not in BARE_FILLER]  # "nuthing"
    toks = _without_attempt(toks)  # "nope nothing, tried squeezing", "nothing, even with tweezers"
    if not toks or len(toks) > 3:
        return None
    if all(t in NEGATION_CUES for t in toks):
        return "no"
    if all(t in BARE_YES for t in toks):
        return "yes"
    return None


# What was tried, after a bare "nothing": "nothing, tried squeezing", "nowt even with tweezers".
TRIED_WITH = frozenset({"tried", "trying", "squeezing", "squeezed", "pressing", "pressed", "popping",
                        "poking", "tweezers", "needle", "pin", "nails", "fingernails", "fingers"})
ATTEMPT_TAIL = TRIED_WITH | frozenset({"even", "with", "a", "it", "i", "when", "if", "have", "'ve", "hard",
                                       "my", "to", "squeeze", "press", "pop", "them", "and", "after", "by"})


def _without_attempt(toks: List[str]) -> List[str]:
    """`toks` without a closing account of what was tried, when one follows a negation."""
    for cut in range(1, len(toks)):
        tail = toks[cut:]
        if toks[cut - 1] in ("not", "never", "n't"):
            continue  # "not tried", "never squeezed it": nothing was tried
        if toks[cut - 1] in NEGATION_CUES and set(tail) <= ATTEMPT_TAIL and set(tail) & TRIED_WITH:
            return toks[:cut]
    return toks


NONE_OF_THEM = frozenset({"none", "any", "one", "nowt", "nothing", "neither", "signs", "sign"})


def names_none_of_them(text: str) -> bool:
    """Whether a "no" answers a list ("no none of those", "nah none"), not a bare no."""
    toks = [t for t in tokens(text) if t not in PUNCTUATION]
    return len(toks) > 1 and any(t in NONE_OF_THEM for t in toks if t != "one" or "not" in toks)


def red_flag_only_negated(text: str) -> bool:
    """Whether a message the classifier took for a red flag states none ("no bleeding", "will it bleed?").

    The reader decides: a red flag it finds stated is one; one named only negated or as a worry is not;
    one it can't name at all is kept (the classifier may know words the lexicon lacks) unless the
    message denies something.
    """
    toks = tokens(text)
    mentions = _mentions(toks, fuzzy_mentions)
    if any(f.entity == Entity.RED_FLAG for f in interpret(toks, mentions)):
        return False
    if any(m.kind == Entity.RED_FLAG for m in mentions):
        return True  # named, but only negated or as a worry
    # Named in words the lexicon doesn't know, and denied: "no, my eye isn't swollen and I can see fine".
    # The "not" of "not sure" denies nothing ("not sure, my eye feels odd" keeps the classifier's guess).
    unsure = {i for m in mentions if m.kind == UNSURE for i in range(m.start, m.end)}
    return (any(word in NEGATION_CUES for i, word in enumerate(toks) if i not in unsure)
            or any(m.kind == NEUTRAL for m in mentions))


def red_flag_mentioned(text: str) -> bool:
    """Whether any warning-sign words appear at all, stated, negated or asked."""
    return any(m.kind == "red_flag" for m in _mentions(tokens(text), misspelt_mentions))


def is_bare_unsure(text: str) -> bool:
    """Whether the message says only "not sure" ("dunno", "Unknown.", "no idea tbh")."""
    found = read(text)
    toks = [t for t in tokens(text) if t not in PUNCTUATION and t not in BARE_FILLER]
    return bool(found) and all(f.entity == UNSURE for f in found) and len(toks) <= 4


def asks_what_it_means(text: str) -> bool:
    """Whether the message asks what the question means ("what do you mean by fluid?")."""
    toks = [t for t in tokens(text) if t not in PUNCTUATION]
    questioned = "?" in text or (bool(toks) and toks[0] in ("what", "wdym", "wat", "wot"))
    return questioned and _has_phrase(toks, LEXICON.clarifications)


def asks_to_squeeze(text: str) -> bool:
    """Whether the message asks about popping or squeezing ("can i pop these little white spots?")."""
    return _has_phrase([t for t in tokens(text) if t not in PUNCTUATION], LEXICON.squeeze_questions)


def has_question_words(text: str) -> bool:
    """Whether the message asks something in words ("can i", "is it ok to", "should i"), "?" aside."""
    return _has_phrase([t for t in tokens(text) if t not in PUNCTUATION], LEXICON.question_cues)


def names_a_bump(text: str) -> bool:
    """Whether the message names the bump itself ("this spot", "these white things")."""
    return _has_phrase([t for t in tokens(text) if t not in PUNCTUATION], LEXICON.bump_words)


def unsure_in(text: str) -> bool:
    """Whether the message says the patient doesn't know ("no idea", "can't tell")."""
    return any(m.kind == UNSURE for m in find_mentions(tokens(text)))
