"""The clinic's schedule file: the shipped one is valid, mistakes are named."""

import copy
from datetime import time

import pytest

from clinic.booking.schedule import ScheduleFileError, load_schedule, parse_schedule
from clinic.testing.booking import TEST_SCHEDULE


def test_the_shipped_schedule_offers_the_three_services():
    config = load_schedule()
    assert {s.code for s in config.services} == {"extraction", "consultation", "facial"}
    assert all(s.duration_minutes > 0 and s.price_pence > 0 for s in config.services)
    assert config.practitioners and 6 not in config.opening_hours  # closed on Sundays


def test_split_days_and_prices():
    config = parse_schedule(TEST_SCHEDULE)
    assert config.opening_hours[1] == ((time(9), time(12, 30)), (time(13, 30), time(17)))
    assert {s.code: s.price_pence for s in config.services}["extraction"] == 6000


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.update(timezone="Mars/Olympus"), "unknown timezone"),
        (lambda s: s["opening_hours"].update(monday="9 till 5"), "not a range"),
        (lambda s: s["opening_hours"].update(friday="10:00-09:00"), "not a range"),
        (lambda s: s["opening_hours"].update(funday="09:00-17:00"), "not a weekday"),
        (lambda s: s["services"]["facial"].update(duration_minutes=50), "multiple of slot_minutes"),
        (lambda s: s["services"]["facial"].update(price="free"), "price must be a number"),
        (lambda s: s["practitioners"][0].update(services=["massage"]), "unknown or no services"),
        (lambda s: s.update(closed_days=["31/02/2030"]), "not a date"),
    ],
)
def test_mistakes_are_named(change, message):
    broken = copy.deepcopy(TEST_SCHEDULE)
    change(broken)
    with pytest.raises(ScheduleFileError, match=message):
        parse_schedule(broken)
