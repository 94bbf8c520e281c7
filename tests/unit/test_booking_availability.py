"""Availability from a fixed schedule and a fixed clock (Monday 3 June 2030, 08:00 London)."""

from datetime import timedelta

from clinic.booking import availability
from clinic.booking.availability import Problem, held_for
from clinic.testing.booking import MONDAY, NOW, SUNDAY, TUESDAY, WEDNESDAY_CLOSED, at, schedule

SCHEDULE = schedule()
EXTRACTION = SCHEDULE.services["extraction"]
FACIAL = SCHEDULE.services["facial"]
ANA, BEN = 1, 2


def check(start, held=frozenset(), service=EXTRACTION, now=NOW):
    return availability.check(SCHEDULE, service, start, now, set(held))


def test_a_free_time_in_opening_hours_is_bookable_by_whoever_works_that_day():
    assert check(at(MONDAY, 10)).practitioner_ids == (ANA,)  # Ben works Tuesday and Thursday only
    assert check(at(TUESDAY, 10)).practitioner_ids == (ANA, BEN)


def test_problems_are_named():
    assert check(at(MONDAY, 7)).problem is Problem.PAST
    assert check(at(MONDAY, 8, 45)).problem is Problem.OUTSIDE_HOURS
    assert check(at(MONDAY, 9), now=NOW.replace(minute=30)).problem is Problem.TOO_SOON  # 1 h notice
    assert check(at(WEDNESDAY_CLOSED, 10)).problem is Problem.CLOSED
    assert check(at(SUNDAY, 10)).problem is Problem.CLOSED
    assert check(at(MONDAY, 16, 45)).problem is Problem.OUTSIDE_HOURS  # would end after 17:00
    assert check(at(MONDAY, 10, 7)).problem is Problem.NOT_ON_GRID
    assert check(at(MONDAY + timedelta(days=45), 10)).problem is Problem.TOO_FAR


def test_an_appointment_must_not_straddle_the_lunch_break():
    assert check(at(TUESDAY, 12, 15)).problem is Problem.OUTSIDE_HOURS
    assert check(at(TUESDAY, 12)).ok
    assert check(at(TUESDAY, 13, 30)).ok


def test_overlapping_bookings_are_taken_whole_appointment_counts():
    facial_at_ten = held_for([(ANA, at(MONDAY, 10), 60)], SCHEDULE.slot_minutes)
    assert check(at(MONDAY, 10, 30), facial_at_ten).problem is Problem.TAKEN
    assert check(at(MONDAY, 9, 45), facial_at_ten).problem is Problem.TAKEN  # would run into 10:00
    assert check(at(MONDAY, 11), facial_at_ten).ok
    assert check(at(MONDAY, 9, 15), facial_at_ten, FACIAL).problem is Problem.TAKEN


def test_second_practitioner_keeps_a_slot_free():
    ana_busy = held_for([(ANA, at(TUESDAY, 10), 30)], SCHEDULE.slot_minutes)
    assert check(at(TUESDAY, 10), ana_busy).practitioner_ids == (BEN,)
    both_busy = ana_busy | held_for([(BEN, at(TUESDAY, 10), 30)], SCHEDULE.slot_minutes)
    assert check(at(TUESDAY, 10), both_busy).problem is Problem.TAKEN


def test_next_free_times_are_spread_and_skip_closed_and_taken_times():
    times = availability.free_times(SCHEDULE, EXTRACTION, set(), NOW, limit=4)
    assert [t.start for t in times] == [at(MONDAY, 9), at(MONDAY, 11), at(TUESDAY, 9), at(TUESDAY, 11)]
    held = held_for([(ANA, at(MONDAY, 9), 30)], SCHEDULE.slot_minutes)
    assert availability.free_times(SCHEDULE, EXTRACTION, held, NOW, limit=1)[0].start == at(MONDAY, 9, 30)
    later = availability.free_times(SCHEDULE, EXTRACTION, set(), NOW, first_day=WEDNESDAY_CLOSED, limit=1)
    assert later[0].start == at(WEDNESDAY_CLOSED + timedelta(days=1), 9)


def test_free_times_respect_notice_window_and_horizon():
    noon = NOW.replace(hour=12)
    first = availability.free_times(SCHEDULE, EXTRACTION, set(), noon, limit=1)[0]
    assert first.start == at(MONDAY, 13)  # an hour's notice
    afternoon = availability.free_times(
        SCHEDULE, EXTRACTION, set(), NOW, first_day=TUESDAY, last_day=TUESDAY, window="afternoon",
        limit=3, per_day=3, spacing=timedelta(hours=1),
    )
    assert [t.start for t in afternoon] == [at(TUESDAY, 12), at(TUESDAY, 13, 30), at(TUESDAY, 14, 30)]
    last_day = SCHEDULE.last_day(NOW)
    everything = availability.free_times(SCHEDULE, EXTRACTION, set(), NOW, limit=1000, per_day=50,
                                         spacing=timedelta(0))
    assert max(t.start.date() for t in everything) <= last_day


def test_nearest_free_times_surround_a_taken_request():
    held = held_for([(ANA, at(MONDAY, 14), 30)], SCHEDULE.slot_minutes)
    nearest = availability.nearest_free_times(SCHEDULE, EXTRACTION, held, NOW, at(MONDAY, 14))
    assert [t.start for t in nearest[:2]] == [at(MONDAY, 13, 30), at(MONDAY, 14, 30)]
    assert nearest[2].start.date() == TUESDAY


def test_times_are_wall_clock_across_daylight_saving():
    # Clocks go back on Sunday 27 October 2030: 09:00 is 08:00 UTC before and 09:00 UTC after.
    before = availability.cells(at(MONDAY.replace(month=10, day=21), 9), 30, 15)
    after = availability.cells(at(MONDAY.replace(month=10, day=28), 9), 30, 15)
    assert before[0].hour == 8 and after[0].hour == 9
