"""Rasa graph component: the clinic spaCy pipeline's facts as contract entities, values canonical.

SpacyNLP (config.yml, `model: build/spacy-clinic`) runs the whole clinic pipeline on each message;
this component reads the resolved `doc.ents` and adds one entity per fact, e.g.
{"entity": "hardness", "value": "hard", "start": 0, "end": 12} for "it isn't soft", so the
slots `bump_hardness`, `bump_fluid`, `bump_location`, `red_flags` arrive canonical.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Set, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.lexicon import ENTITIES as CONTRACT_ENTITIES


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ClinicEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Contract entities (hardness, fluid, location, red_flag) from the clinic spaCy pipeline."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """SpacyNLP must run first: it puts the processed spaCy doc on the message."""
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """The entities this component owns (an earlier extractor's copies of them are dropped)."""
        return {"entities": list(CONTRACT_ENTITIES)}

    def __init__(self, config: Dict[str, Any]) -> None:
        """Keep the config."""
        self._owned = frozenset(config.get("entities") or CONTRACT_ENTITIES)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ClinicEntityExtractor:
        """Create the component (nothing to train: the lexicon is the model)."""
        return cls({**cls.get_default_config(), **config})

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data keeps its annotations."""
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the facts of each message as entities with contract values."""
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            found = self.extract(doc) if doc is not None else []
            kept = [e for e in message.get(ENTITIES, []) if e.get(ENTITY_ATTRIBUTE_TYPE) not in self._owned]
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages

    def extract(self, doc: Any) -> List[Dict[str, Any]]:
        """Entity dicts for the resolved facts of one spaCy doc."""
        entities = [
            {
                ENTITY_ATTRIBUTE_TYPE: ent.label_,
                ENTITY_ATTRIBUTE_START: ent.start_char,
                ENTITY_ATTRIBUTE_END: ent.end_char,
                ENTITY_ATTRIBUTE_VALUE: ent.id_,
                ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
            }
            for ent in doc.ents
            if ent.label_ in self._owned and ent.id_
        ]
        for entity in entities:
            entity[EXTRACTOR] = self.name
        return entities


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class ClinicTokenizer(SpacyTokenizer):
    """SpacyTokenizer that hands DIET at most `max_tokens` tokens.

    A pasted 20,000-character message would otherwise cost DIET and the RegexFeaturizer seconds;
    the intent shows in the first sentences, and the entities still come from the whole text.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """SpacyTokenizer's config plus the token cap."""
        return {**SpacyTokenizer.get_default_config(), "max_tokens": 80}

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        """The first `max_tokens` tokens of the attribute."""
        return super().tokenize(message, attribute)[: int(self._config["max_tokens"])]


WORD = re.compile(r"[a-z]+")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownInputGuard(GraphComponent, IntentClassifier):
    """Send input with no words we know to the polite fallback.

    Emoji, symbols, another script, another language or key-mashing still get *some* intent from
    DIET's character n-grams, sometimes confidently. This component runs after DIET: if a message
    has no Latin-letter word at all, or (at `min_words` words or more) fewer than `min_known_share`
    of its words appear in the training data or the lexicon, it zeroes the intent confidence, so the
    FallbackClassifier answers with nlu_fallback ("Sorry, I didn't quite get that...").
    Short messages ("heyyy", "thx") are left to DIET: its character n-grams read slang well.
    """

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Thresholds of the guard."""
        return {"min_words": 3, "min_known_share": 0.3}

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[Set[str]] = None,
    ) -> None:
        """Keep config, storage and the known words."""
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary: Set[str] = vocabulary or set()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnknownInputGuard:
        """A guard that knows no word yet."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the vocabulary: every word of the intent examples and of the lookup tables."""
        words: Set[str] = set()
        for example in training_data.intent_examples:
            words.update(WORD.findall((example.get(TEXT) or "").lower()))
        for table in training_data.lookup_tables:
            for element in table.get("elements") or []:
                words.update(WORD.findall(str(element).lower()))
        self.vocabulary = words
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "vocabulary.json").write_text(json.dumps(sorted(words)))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UnknownInputGuard:
        """The guard with the vocabulary learned in training."""
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = set(json.loads((directory / "vocabulary.json").read_text()))
        except (ValueError, FileNotFoundError):
            vocabulary = set()
        return cls(config, model_storage, resource, vocabulary)

    def is_unknown(self, text: str) -> bool:
        """True if `text` has no word, or too few known words among many."""
        words = WORD.findall((text or "").lower()[:2000])
        if not words:
            return True
        if len(words) < int(self._config["min_words"]):
            return False
        known = sum(word in self.vocabulary for word in words)
        return known / len(words) < float(self._config["min_known_share"])

    def process(self, messages: List[Message]) -> List[Message]:
        """Zero the intent confidence of unknown input (the FallbackClassifier takes over)."""
        for message in messages:
            intent = message.get(INTENT)
            if not intent or not self.vocabulary or not self.is_unknown(message.get(TEXT)):
                continue
            message.set(INTENT, {**intent, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
        return messages


DESCRIBING = frozenset({"hardness", "fluid", "location"})
UNSURE_BELOW = 0.45  # the FallbackClassifier's threshold in config.yml


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RedFlagIntent(GraphComponent, IntentClassifier):
    """The negation-aware reader, not the intent classifier, decides whether a red flag is reported.

    - A message with a stated red flag (a `red_flag` entity) is report_red_flag, whatever else it
      describes or asks ("hard, no pus, but it's started bleeding"), at full confidence: the fallback
      never swallows it.
    - "there's been no bleeding at all" or "could it bleed later?" classified as report_red_flag is given
      the next intent of the ranking instead.
    """

    RED_FLAG_INTENT = "report_red_flag"

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagIntent:
        """Nothing to train."""
        return cls()

    @staticmethod
    def _description_over_a_guess(message: Message, intent: Dict[str, Any]) -> None:
        """A message that states a fact about the bump is a description when the classifier can't tell.

        Below the FallbackClassifier's threshold the patient would be asked to rephrase "soft spot on
        my jaw, yellow in the middle"; the facts say what it is.
        """
        unsure = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < UNSURE_BELOW
        if unsure and RedFlagIntent._describes(message):
            RedFlagIntent._make_description(message)

    @staticmethod
    def _describes(message: Message) -> bool:
        return any(e.get(ENTITY_ATTRIBUTE_TYPE) in DESCRIBING for e in message.get(ENTITIES, []))

    @staticmethod
    def _make_description(message: Message) -> None:
        """describe_bump, clear of the fallback's threshold and of its ambiguity margin."""
        described = {"name": "describe_bump", PREDICTED_CONFIDENCE_KEY: UNSURE_BELOW + 0.15}
        others = [
            {**r, PREDICTED_CONFIDENCE_KEY: min(float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0), UNSURE_BELOW)}
            for r in message.get("intent_ranking") or []
            if r.get("name") not in ("describe_bump", RedFlagIntent.RED_FLAG_INTENT)
        ]
        message.set(INTENT, described, add_to_output=True)
        message.set("intent_ranking", [described, *others], add_to_output=True)

    def _ranking_without_red_flag(self, message: Message) -> List[Dict[str, Any]]:
        return [r for r in message.get("intent_ranking") or [] if r.get("name") != self.RED_FLAG_INTENT]

    def process(self, messages: List[Message]) -> List[Message]:
        """report_red_flag exactly when the reader found a stated red flag (or DIET did, unnegated)."""
        from clinic import findings

        for message in messages:
            intent = message.get(INTENT) or {}
            if any(e.get(ENTITY_ATTRIBUTE_TYPE) == "red_flag" for e in message.get(ENTITIES, [])):
                stated = {"name": self.RED_FLAG_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
                others = self._ranking_without_red_flag(message)
                message.set(INTENT, stated, add_to_output=True)
                message.set("intent_ranking", [stated, *others], add_to_output=True)
                continue
            if intent.get("name") != self.RED_FLAG_INTENT:
                self._description_over_a_guess(message, intent)
                continue
            if not findings.red_flag_only_negated(message.get(TEXT) or ""):
                continue
            ranking = self._ranking_without_red_flag(message)
            if self._describes(message):  # "soft and yellow in the middle, will it spread?" describes it
                self._make_description(message)
                continue
            if ranking:
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set("intent_ranking", ranking, add_to_output=True)
        return messages
