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
from clinic.nlu import intent_rules
from clinic.nlu.pipeline import FACTS


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class ClinicEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Contract entities (hardness, fluid, location, red_flag) from the clinic spaCy pipeline."""

    @classmethod
    def required_components(cls) -> List[Type[Any]]:
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
            for ent in (doc.spans[FACTS] if FACTS in doc.spans else doc.ents)
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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ClinicIntentRules(GraphComponent, IntentClassifier):
    """The reader's facts decide the intent where the classifier guesses (clinic/nlu/intent_rules.py).

    A stated red flag is report_red_flag at full confidence, whatever else the message says; a negated
    one is not; a description is not a squeeze question; describe_bump vs inform by the contract. The
    chosen intent's rivals are capped below the FallbackClassifier's threshold, so neither its
    threshold nor its ambiguity margin can swallow what the reader decided.
    """

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ClinicIntentRules:
        """Nothing to train."""
        return cls()

    @staticmethod
    def _apply(message: Message, decision: intent_rules.Decision) -> None:
        ranking = [r for r in message.get("intent_ranking") or [] if r.get("name") != intent_rules.RED_FLAG]
        if not decision.intent:  # the classifier's next intent, its confidence given "not a red flag"
            remaining = sum(float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in ranking)
            if remaining > 0:
                ranking = [
                    {**r, PREDICTED_CONFIDENCE_KEY: float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) / remaining}
                    for r in ranking
                ]
            if ranking:
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set("intent_ranking", ranking, add_to_output=True)
            return
        chosen = {"name": decision.intent, PREDICTED_CONFIDENCE_KEY: decision.confidence}
        cap = min(intent_rules.FALLBACK_THRESHOLD, decision.confidence - 0.15)
        others = [
            {**r, PREDICTED_CONFIDENCE_KEY: min(float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0), cap)}
            for r in ranking
            if r.get("name") != decision.intent
        ]
        message.set(INTENT, chosen, add_to_output=True)
        message.set("intent_ranking", [chosen, *others], add_to_output=True)

    def process(self, messages: List[Message]) -> List[Message]:
        """The rule table's intent where a rule applies; the classifier's elsewhere."""
        for message in messages:
            intent = message.get(INTENT) or {}
            decision = intent_rules.decide(
                intent.get("name"),
                float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0),
                [str(e.get(ENTITY_ATTRIBUTE_TYPE)) for e in message.get(ENTITIES, [])],
                message.get(TEXT) or "",
            )
            if decision is not None:
                self._apply(message, decision)
        return messages
