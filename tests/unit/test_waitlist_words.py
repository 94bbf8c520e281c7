"""Which answers to the time question ask for the waitlist, and how many days a typed answer means."""

import pytest

from actions.booking_form import SOONER
from actions.waitlist import days_from_text


@pytest.mark.parametrize("text", [
    "is there anything sooner?", "Anything earlier?", "any cancellations?", "put me on the waiting list",
    "waitlist please", "none of these suit", "nothing earlier at all?", "do you have an earlier appointment",
])
def test_asking_for_something_sooner_offers_the_waitlist(text):
    assert SOONER.search(text)


@pytest.mark.parametrize("text", [
    "earlier in the day please", "Friday, earlier than 3pm", "as soon as possible", "next week",
    "anything earlier in the week", "tomorrow morning", "2pm", "I cancelled my last one",
])
def test_times_are_times(text):
    assert not SOONER.search(text)


@pytest.mark.parametrize("text, days", [("5", 5), ("5 days", 5), ("a week", 7), ("the next fortnight", 14),
                                        ("2 weeks", 14), ("whenever", None), ("", None)])
def test_a_typed_range_of_days(text, days):
    assert days_from_text(text) == days
