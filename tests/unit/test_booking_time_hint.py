"""The `booking_time_hint` slot as a typed value: one format, written and read in one place."""

from datetime import date, datetime, timedelta, timezone

import pytest

from clinic.booking.time_hint import HintKind, TimeHint
from clinic.testing.booking import MONDAY, SUNDAY, TUESDAY, at


@pytest.mark.parametrize(
    "hint, text",
    [
        (TimeHint.earliest(), ""),
        (TimeHint.on_day(TUESDAY, "afternoon"), "day:2030-06-04:afternoon"),
        (TimeHint.on_day(TUESDAY), "day:2030-06-04:"),
        (TimeHint.near(at(MONDAY, 20)), "near:2030-06-03T20:00:00+01:00"),
        (TimeHint.from_day(SUNDAY), "from:2030-06-09"),
    ],
)
def test_each_hint_has_one_slot_text_and_reads_back_the_same(hint, text):
    assert hint.to_slot() == text
    assert TimeHint.from_slot(text) == hint


def test_a_near_hint_keeps_the_offset_it_was_given():
    start = datetime(2030, 6, 3, 13, tzinfo=timezone.utc)
    assert TimeHint.near(start).to_slot() == "near:2030-06-03T13:00:00+00:00"
    assert TimeHint.from_slot("near:2030-06-03T13:00:00+00:00").start == start


@pytest.mark.parametrize(
    "value",
    [None, "", "soon", "day:", "day:31-02-2030:", "near:2030-06-03T13:00:00", "near:tomorrow", "from:x",
     "later:2030-06-04", 42],
)
def test_anything_unreadable_is_the_earliest(value):
    assert TimeHint.from_slot(value) == TimeHint.earliest()
    assert TimeHint.from_slot(value).kind is HintKind.EARLIEST


def test_only_a_part_of_the_day_the_clinic_knows_is_kept():
    assert TimeHint.from_slot("day:2030-06-04:teatime") == TimeHint.on_day(date(2030, 6, 4))
    assert TimeHint.on_day(TUESDAY, "evening").window == "evening"
    assert TimeHint.on_day(TUESDAY + timedelta(days=1), "brunch").to_slot() == "day:2030-06-05:"
