"""Dates and times as patients type them, read against a fixed clock (Monday 3 June 2030, 08:00)."""

from datetime import date, time

import pytest

from clinic.booking.parsing import ImpossibleDate, UnreadableWhen, WhenRequest, parse_when
from clinic.testing.booking import NOW

# Monday 3 June 2030 -> Tuesday 4, Wednesday 5, ..., Monday 10.


@pytest.mark.parametrize(
    "text, expected",
    [
        ("next Tuesday afternoon", WhenRequest(date(2030, 6, 4), None, "afternoon")),
        ("Tuesday", WhenRequest(date(2030, 6, 4))),
        ("next monday", WhenRequest(date(2030, 6, 10))),
        ("this friday at 10am", WhenRequest(date(2030, 6, 7), time(10, 0))),
        ("2 Dec at 3pm", WhenRequest(date(2030, 12, 2), time(15, 0))),
        ("dec 2nd 3:30 pm", WhenRequest(date(2030, 12, 2), time(15, 30))),
        ("can I come on the 12th of june?", WhenRequest(date(2030, 6, 12))),
        ("tomorrow morning", WhenRequest(date(2030, 6, 4), None, "morning")),
        ("tomorrow at 2", WhenRequest(date(2030, 6, 4), time(14, 0))),
        ("thursday 9.30", WhenRequest(date(2030, 6, 6), time(9, 30))),
        ("friday at noon", WhenRequest(date(2030, 6, 7), time(12, 0))),
        ("14:45 on 20/06", WhenRequest(date(2030, 6, 20), time(14, 45))),
        ("in 3 days", WhenRequest(date(2030, 6, 6))),
        ("the 2nd", WhenRequest(date(2030, 7, 2))),  # the 2nd of this month has passed
        ("the 4th", WhenRequest(date(2030, 6, 4))),
        ("yesterday", WhenRequest(date(2030, 6, 2))),  # read, then refused as past
        ("1 June", WhenRequest(date(2030, 6, 1))),  # two days ago: past, not next year
        ("3pm", WhenRequest(date(2030, 6, 3), time(15, 0))),
        ("asap", WhenRequest(None)),
        ("whenever is soonest", WhenRequest(None)),
        ("2030-06-04T13:30:00+01:00", WhenRequest(date(2030, 6, 4), time(13, 30))),  # a button's payload
    ],
)
def test_readable_requests(text, expected):
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize("text", ["31 February", "30/02", "31 april at 3pm", "June 31st"])
def test_impossible_dates_are_named(text):
    with pytest.raises(ImpossibleDate):
        parse_when(text, NOW)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "John Smith", "Robert'); DROP TABLE bookings;--", "07911 123456", "x" * 5000, "🙂"],
)
def test_unreadable_text_is_refused(text):
    with pytest.raises(UnreadableWhen):
        parse_when(text, NOW)
