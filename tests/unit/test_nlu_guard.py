"""The unknown-input guard: no known words -> the polite fallback; slang is left to DIET."""

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.nlu.component import UnknownInputGuard


@pytest.fixture
def guard(tmp_path):
    storage = LocalModelStorage(tmp_path)
    resource = Resource("guard")
    guard = UnknownInputGuard.create({}, storage, resource, None)
    examples = [
        Message(data={"text": "I have a hard white bump under my eye", "intent": "describe_bump"}),
        Message(data={"text": "no pus, it is on my cheek", "intent": "inform"}),
        Message(data={"text": "hello there", "intent": "greet"}),
    ]
    guard.train(TrainingData(examples, lookup_tables=[{"name": "hardness.soft", "elements": ["squishy"]}]))
    return UnknownInputGuard.load({}, storage, resource, None)


@pytest.mark.parametrize(
    "text,unknown",
    [
        ("", True),
        ("\U0001f62d\U0001f44d", True),
        ("?!?!...", True),
        ("\u4f60\u597d\uff0c\u6211\u7684\u773c\u775b", True),
        ("Bonjour, j'ai un petit bouton blanc sous l'oeil", True),
        ("qwerty " * 2900, True),
        ("heyyy", False),  # short: DIET's character n-grams read slang
        ("thx m8", False),
        ("it is squishy on my cheek", False),  # lexicon words count as known
        ("i hav a hard whte bmp under my eye", False),
    ],
)
def test_unknown_input(guard, text, unknown):
    assert guard.is_unknown(text) is unknown


def test_unknown_input_loses_its_intent_confidence(guard):
    message = Message(data={"text": "qwerty asdf zxcv", "intent": {"name": "thank", "confidence": 0.97}})
    known = Message(data={"text": "a hard bump on my cheek", "intent": {"name": "inform", "confidence": 0.9}})
    guard.process([message, known])
    assert message.get("intent")["confidence"] == 0.0
    assert known.get("intent")["confidence"] == 0.9
