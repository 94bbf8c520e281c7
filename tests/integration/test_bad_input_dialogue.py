"""Bad input through the REST channel: always a polite answer, never an error or silence."""

import uuid

import pytest

pytestmark = pytest.mark.integration

# utter_default ("Sorry, I didn't quite get that...") or utter_out_of_scope ("Sorry, I can only help...")
POLITE = "Sorry"


@pytest.mark.parametrize(
    "text",
    [
        "\U0001f62d\U0001f62d\U0001f926\U0001f44d",
        "Bonjour, j'ai un petit bouton blanc sous l'oeil, est-ce grave ?",
        "qwerty " * 2900,  # about 20,000 characters
        "?!?!...",
    ],
    ids=["emoji only", "another language", "20,000 characters", "punctuation"],
)
def test_bad_input_gets_the_polite_fallback(assistant, text):
    reply = assistant.say(f"patient-{uuid.uuid4().hex[:8]}", text)
    said = " ".join(m.get("text", "") for m in reply)
    assert POLITE in said
