"""Which free times to offer the patient next: the `booking_time_hint` slot as a typed value.

The service layer decides it (`clinic.booking.handlers`: `offer_instead`, `day_request`, the exceptions'
`instead`), the booking form stores it, `action_ask_booking_time` offers the times it names
(`handlers.times_to_offer`). The slot holds text; `to_slot` and `from_slot` are the only code that knows
its format:

    ""                      the earliest free times
    "day:2030-06-04:"       times on that day ("day:2030-06-04:afternoon": in that part of it)
    "near:<ISO start>"      the free times nearest that start
    "from:2030-06-09"       the earliest free times from that day on

A slot set to None means no hint at all (the time was chosen); `from_slot(None)` is the earliest.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Optional

from clinic.booking.availability import WINDOWS


class HintKind(str, enum.Enum):
    """What the hint points at."""

    EARLIEST = ""
    DAY = "day"
    NEAR = "near"
    FROM = "from"


@dataclass(frozen=True)
class TimeHint:
    """Which free times to offer next; build one with the class methods."""

    kind: HintKind = HintKind.EARLIEST
    day: Optional[date] = None  # DAY and FROM
    window: Optional[str] = None  # DAY only: a key of availability.WINDOWS, or None for the whole day
    start: Optional[datetime] = None  # NEAR only: an aware start time

    @classmethod
    def earliest(cls) -> TimeHint:
        """The earliest free times."""
        return cls()

    @classmethod
    def on_day(cls, day: date, window: Optional[str] = None) -> TimeHint:
        """Times on `day`, in `window` if it names a part of the day."""
        return cls(HintKind.DAY, day=day, window=window if window in WINDOWS else None)

    @classmethod
    def near(cls, start: datetime) -> TimeHint:
        """The free times nearest `start` (aware)."""
        return cls(HintKind.NEAR, start=start)

    @classmethod
    def from_day(cls, day: date) -> TimeHint:
        """The earliest free times from `day` on."""
        return cls(HintKind.FROM, day=day)

    def to_slot(self) -> str:
        """The slot's text for this hint."""
        if self.kind is HintKind.DAY and self.day is not None:
            return f"day:{self.day.isoformat()}:{self.window or ''}"
        if self.kind is HintKind.NEAR and self.start is not None:
            return f"near:{self.start.isoformat()}"
        if self.kind is HintKind.FROM and self.day is not None:
            return f"from:{self.day.isoformat()}"
        return ""

    @classmethod
    def from_slot(cls, value: Any) -> TimeHint:
        """The hint in a slot value; anything unreadable (None, "", a stale format) is the earliest."""
        kind, _, rest = str(value or "").partition(":")
        if kind == HintKind.DAY:
            day_text, _, window = rest.partition(":")
            day = _day(day_text)
            return cls.on_day(day, window or None) if day else cls.earliest()
        if kind == HintKind.NEAR:
            start = _aware(rest)
            return cls.near(start) if start else cls.earliest()
        if kind == HintKind.FROM:
            day = _day(rest)
            return cls.from_day(day) if day else cls.earliest()
        return cls.earliest()


def _day(text: str) -> Optional[date]:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _aware(text: str) -> Optional[datetime]:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
