"""The clinic's spaCy pipeline, built from source: no pretrained model is downloaded.

    python -m clinic.nlu.pipeline build/spacy-clinic     (`make spacy`, a prerequisite of `make train`)

blank English -> lookup lemmatizer (spacy-lookups-data) -> sentencizer -> entity ruler whose patterns
are generated from the one lexicon (data/lookups/, by lower-case/normalised form, and by lemma for base
forms so "bleed" also finds "bleeds", "bled") -> `clinic_findings`, which applies the negation scope of
clinic/findings.py and leaves in `doc.ents` only the facts the patient states, each labelled with its
contract entity and carrying the contract value as `span.id_` ("not soft" -> hardness, id "hard").
Rasa's SpacyNLP loads the directory (config.yml); clinic.nlu.component turns the ents into entities.
"""

import argparse
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, cast

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from clinic import findings, lexicon
from clinic.contract import Entity

FACTORY = "clinic_findings"
BARE_UNSURE = "clinic_unsure"  # doc.spans key: "not sure" with no question in its clause
FACTS = "clinic_facts"  # doc.spans key: every fact stated, overlapping or not
HYPHEN = {"ORTH": "-", "OP": "?"}  # "lash-line", "pus-filled"


def _word(token: Token) -> str:
    """The word the scope reads: spaCy's norm ("n't", "nt" -> "not"; "ca" -> "can")."""
    return "\n" if token.is_space and "\n" in token.text else token.norm_


def _word_start(doc: Doc, start: int) -> int:
    """Widen a span that starts inside a word: "isn't soft" rather than "n't soft"."""
    while start > 0 and not doc[start - 1].whitespace_ and doc[start - 1].is_alpha:
        start -= 1
    return start


@Language.factory(FACTORY)
def make_clinic_findings(nlp: Language, name: str) -> "ClinicFindings":
    """Factory registered with spaCy (also as an entry point, so spacy.load finds it)."""
    return ClinicFindings()


class ClinicFindings:
    """Replace the ruler's raw mentions by the facts stated, negation and "not sure" resolved."""

    def __call__(self, doc: Doc) -> Doc:
        """Resolve `doc.ents` in place."""
        mentions = [
            findings.Mention(ent.start, ent.end, ent.label_, ent.ent_id_) for ent in doc.ents
        ]
        words = [_word(t) for t in doc]
        taken = [i for m in mentions for i in range(m.start, m.end)]
        mentions += findings.misspelt_mentions(words, taken)  # "forhed", "gettin bigger", "for hed"
        stated = findings.interpret(words, mentions)
        facts = [
            Span(doc, _word_start(doc, f.start), f.end, label=f.entity, span_id=f.value)
            for f in stated
            if f.entity not in (findings.UNSURE, findings.NEUTRAL)
        ]
        # One span may state two facts ("haven't pressed it so dunno if it's hard": hardness and fluid
        # unsure), which doc.ents cannot hold: every fact is in doc.spans[FACTS], the longest in doc.ents.
        doc.spans[FACTS] = facts
        # (spaCy's stub types Doc.ents as a 1-tuple; the setter takes any sequence of spans)
        doc.ents = filter_spans(facts)  # type: ignore[assignment]
        doc.spans[BARE_UNSURE] = [
            Span(doc, f.start, f.end, label=f.entity) for f in stated if f.entity == findings.UNSURE
        ]
        return doc


def _gap(lex: lexicon.Lexicon) -> List[Dict[str, Any]]:
    """Up to findings.GAP_WORDS words of one clause, none of them a negation (findings.gap_refuses)."""
    refused = sorted((lex.negation_cues | {"not"} | lex.clause_breaks) - {"and"})
    word = {"IS_PUNCT": False, "IS_SPACE": False, "NORM": {"NOT_IN": refused}, "OP": "?"}
    return [dict(word) for _ in range(findings.GAP_WORDS)]


def _token_patterns(
    nlp: Language, phrase: str, prefix: Optional[List[Dict[str, Any]]] = None
) -> List[List[Dict[str, Any]]]:
    """Token patterns for one phrase: by norm, optional hyphens between words; by lemma if a base form.

    A gapped phrase ("{red} ... {spreading}") is its parts' patterns with a gap between them.
    """
    if f" {findings.GAP} " in phrase:
        head, tail = phrase.split(f" {findings.GAP} ", 1)
        gap = _gap(findings.LEXICON)
        return [h + gap + t for h in _token_patterns(nlp, head, prefix) for t in _token_patterns(nlp, tail)]
    doc = nlp.get_pipe("lemmatizer")(nlp.make_doc(phrase))
    words = [t for t in doc if t.text != "-"]
    by_norm: List[Dict[str, Any]] = []
    for i, token in enumerate(words):
        if i:
            by_norm.append(dict(HYPHEN))
        by_norm.append({"NORM": token.norm_})
    variants = [by_norm]
    if len(words) == 1 and words[0].lemma_ == words[0].norm_:
        variants.append([{"LEMMA": words[0].lemma_}])
    return [list(prefix or []) + v for v in variants]


def ruler_patterns(nlp: Language, lex: lexicon.Lexicon) -> List[Dict[str, Any]]:
    """Entity-ruler patterns for every phrase of the lexicon, labelled entity, id = contract value."""
    modifier = [{"NORM": {"IN": sorted(lex.modifiers)}, "OP": "?"}]
    patterns: List[Dict[str, Any]] = []
    for entity, values in lex.terms.items():
        for value, phrases in values.items():
            for phrase in phrases:
                prefix = modifier if entity == Entity.LOCATION else None
                for pattern in _token_patterns(nlp, phrase, prefix):
                    patterns.append({"label": entity, "id": value, "pattern": pattern})
    for phrase in lex.unsure:
        for pattern in _token_patterns(nlp, phrase):
            patterns.append({"label": findings.UNSURE, "id": findings.UNSURE, "pattern": pattern})
    for phrase in lex.neutral:
        for pattern in _token_patterns(nlp, phrase):
            patterns.append({"label": findings.NEUTRAL, "id": findings.NEUTRAL, "pattern": pattern})
    return patterns


def build(lex: Optional[lexicon.Lexicon] = None) -> Language:
    """The clinic pipeline, in memory."""
    lex = lex or findings.LEXICON
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("sentencizer")
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", config={"overwrite_ents": True}))
    nlp.initialize()  # loads the lemma tables from spacy-lookups-data into the pipeline
    ruler.add_patterns(ruler_patterns(nlp, lex))
    nlp.add_pipe(FACTORY, after="entity_ruler")
    nlp.meta.update(
        name="clinic",
        version="1.0.0",
        description="Vitawell clinic: lexicon entities with negation (built by clinic.nlu.pipeline)",
    )
    return nlp


def main(argv: Optional[List[str]] = None) -> None:
    """Build the pipeline into a directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="directory to write, e.g. build/spacy-clinic")
    args = parser.parse_args(argv)
    nlp = build()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    staging = args.output.with_name(args.output.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    nlp.to_disk(staging)  # then swap in whole: a half-written pipeline is never loaded
    shutil.rmtree(args.output, ignore_errors=True)
    staging.rename(args.output)
    patterns = len(cast(EntityRuler, nlp.get_pipe("entity_ruler")).patterns)
    print(f"spaCy pipeline {nlp.pipe_names} with {patterns} patterns -> {args.output}")


if __name__ == "__main__":
    main()
