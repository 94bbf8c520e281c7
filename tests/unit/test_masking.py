"""The project's one masking (clinic.masking): values, free text, structures, and linear time."""

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.masking import EMAIL_IN_TEXT, PHONE_IN_TEXT, mask_contact, mask_text, mask_value


@pytest.mark.parametrize("text, masked", [
    ("call me on +447911123456 please", "call me on +44•••56 please"),
    ("my mobile is 07911 123456", "my mobile is 07•••56"),
    ("+44 (0)7911 123456", "+44•••56"),
    ("sender whatsapp:+447911123456 said hi", "sender whatsapp:+44•••56 said hi"),
    ("Phone:+447911123456", "Phone:+44•••56"),
    ("mail jane.doe@example.com.", "mail j•••@example.com."),
    ('{"patient_contact": "anna.berg+skin@example.org"}', '{"patient_contact": "a•••@example.org"}'),
])
def test_contact_details_in_text_are_masked_like_single_values(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", [
    "2026-11-26 03:34:24 Rasa server is up and running.",
    "Starting Rasa server on http://0.0.0.0:5005",
    "127.0.0.1:5005 - GET /staff/login",
    "client 192.168.10.20 connected",
    "intent describe_bump (0.9876543)",
    "booking VW-7KM3QD on Tuesday 4 June at 10:00",
    "/staff/conversations/8199867e5459a1bf66d9a949",
    "it's 3mm wide and I'm 34",
])
def test_ordinary_text_is_left_alone(text):
    assert mask_text(text) == text


def test_values_inside_structures_are_masked():
    value = {"contact": ["+447911123456", {"email": "x.y@example.co.uk"}], "n": 3}
    assert mask_value(value) == {"contact": ["+44•••56", {"email": "x•••@example.co.uk"}], "n": 3}


def test_single_values_keep_the_console_format():
    assert mask_contact("whatsapp:+447700900123") == "whatsapp:+44•••23"
    assert mask_contact("jane.doe@example.com") == "j•••@example.com"
    assert mask_contact("web-3f2a9c1d") == "web•••1d"


@given(st.text(max_size=300))
def test_masking_never_fails_and_never_grows_digits(text):
    masked = mask_text(text)
    assert isinstance(masked, str)
    assert sum(c.isdigit() for c in masked) <= sum(c.isdigit() for c in text)


HOSTILE = {
    "letters": "a" * 100_000,
    "digits": "1" * 100_000,
    "spaced digits": "1 " * 50_000,
    "plus and digits": "+1" * 50_000,
    "brackets": "(1" * 50_000,
    "dashes": "1-" * 50_000,
    "at signs": "a@" * 50_000,
    "dotted labels": "x@" + "a." * 50_000,
    "long local parts": ("a" * 60 + "@" + "b" * 60 + ".") * 800,
}


@pytest.mark.parametrize("pattern", [EMAIL_IN_TEXT, PHONE_IN_TEXT], ids=["email", "phone"])
@pytest.mark.parametrize("name", HOSTILE)
def test_each_pattern_takes_under_50_ms_on_100000_hostile_characters(pattern, name):
    text = HOSTILE[name]
    best = float("inf")
    for _ in range(3):  # the best of three: the shared machine's noise is not the pattern's cost
        started = time.perf_counter()
        pattern.sub("", text)
        best = min(best, time.perf_counter() - started)
    assert best < 0.05, f"{name}: {best * 1000:.0f} ms"
