"""The staff console's transcript: a tapped button reads as the patient saw it, not as a payload."""

import json

from clinic.conversations.summary import transcript


def row(kind, data, at=1_764_000_000.0):
    return {"type_name": kind, "timestamp": at, "data": json.dumps(data)}


def user(text):
    return row("user", {"text": text, "parse_data": {"intent": {"name": "x", "confidence": 1.0}}})


def bot(text, *buttons):
    return row("bot", {"text": text, "data": {"buttons": [{"title": t, "payload": p} for t, p in buttons]}})


def test_buttons_show_their_titles_and_typed_payloads_stay_as_typed():
    items = transcript([
        user("/greet"),
        bot("Does it hold fluid?", ("No fluid", '/inform{"fluid": "no"}')),
        user('/inform{"fluid": "no"}'),
        bot("Shall I book it?", ("Yes, book it", "/affirm")),
        user("/affirm"),
        user('/inform{"fluid": "yes"}'),  # never offered: shown exactly as typed
    ])
    said = [(i.text, i.payload, i.tapped) for i in items if i.kind == "user"]
    assert said == [
        ("Opened the chat", "/greet", False),
        ("No fluid", '/inform{"fluid": "no"}', True),
        ("Yes, book it", "/affirm", True),
        ('/inform{"fluid": "yes"}', None, False),
    ]
