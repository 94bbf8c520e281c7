"""Free times, computed from a snapshot of the clinic's schedule and the slots already held.

Pure functions: no database, no clock of their own (`now` is passed in), so they are tested with a
fixed clock. Times are aware datetimes; held slots are (practitioner id, cell start in UTC).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Set, Tuple
from zoneinfo import ZoneInfo

from clinic.booking import money
from clinic.booking.schedule import ScheduleConfig

Held = Set[Tuple[int, datetime]]

# Parts of the day patients name ("Tuesday afternoon"), as [from, to) local start times.
WINDOWS: Dict[str, Tuple[time, time]] = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59)),
}


@dataclass(frozen=True)
class ServiceInfo:
    """A bookable service and who offers it."""

    code: str
    name: str
    duration_minutes: int
    price_pence: int
    practitioner_ids: Tuple[int, ...]
    id: int = 0  # database id (0 when read straight from the file)

    @property
    def duration(self) -> timedelta:
        """How long the appointment lasts."""
        return timedelta(minutes=self.duration_minutes)

    @property
    def online(self) -> bool:
        """Bookable online: someone offers it."""
        return bool(self.practitioner_ids)


@dataclass(frozen=True)
class PractitionerInfo:
    """A practitioner and the weekdays they work (empty: every opening day)."""

    id: int
    code: str
    name: str
    days: FrozenSet[int] = frozenset()

    def works_on(self, day: date) -> bool:
        """Whether they work on that day's weekday."""
        return not self.days or day.weekday() in self.days


@dataclass(frozen=True)
class Schedule:
    """Everything availability depends on, read from the database at one moment."""

    timezone_name: str
    slot_minutes: int
    min_notice_minutes: int
    horizon_days: int
    currency: str
    hours: Mapping[int, Tuple[Tuple[time, time], ...]]
    closed_days: Mapping[date, str]
    services: Mapping[str, ServiceInfo]
    practitioners: Mapping[int, PractitionerInfo] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: ScheduleConfig) -> Schedule:
        """A schedule straight from the clinic's file (practitioner ids by position)."""
        practitioners = {
            i: PractitionerInfo(i, p.code, p.name, frozenset(p.days))
            for i, p in enumerate(config.practitioners, start=1)
        }
        numbered = list(enumerate(config.practitioners, start=1))
        offering = {s.code: tuple(i for i, p in numbered if s.code in p.services) for s in config.services}
        services = {
            s.code: ServiceInfo(s.code, s.name, s.duration_minutes, s.price_pence, offering[s.code])
            for s in config.services
        }
        return cls(
            config.timezone, config.slot_minutes, config.min_notice_minutes, config.horizon_days,
            config.currency, dict(config.opening_hours), dict(config.closed_days), services, practitioners,
        )

    @property
    def tz(self) -> ZoneInfo:
        """The clinic's time zone."""
        return ZoneInfo(self.timezone_name)

    @property
    def step(self) -> timedelta:
        """The grid start times lie on."""
        return timedelta(minutes=self.slot_minutes)

    def local(self, moment: datetime) -> datetime:
        """`moment` on the clinic's wall clock."""
        return moment.astimezone(self.tz)

    def at(self, day: date, clock: time) -> datetime:
        """An aware datetime for a local day and time."""
        return datetime.combine(day, clock, tzinfo=self.tz)

    def is_closed(self, day: date) -> bool:
        """Closed all day: a closed day, or a weekday without opening hours."""
        return day in self.closed_days or not self.hours.get(day.weekday())

    def opening_ranges(self, day: date) -> List[Tuple[datetime, datetime]]:
        """The day's opening ranges as aware datetimes (none when closed)."""
        if self.is_closed(day):
            return []
        return [(self.at(day, opens), self.at(day, closes)) for opens, closes in self.hours[day.weekday()]]

    def earliest_start(self, now: datetime) -> datetime:
        """The earliest time that can still be booked online."""
        return now + timedelta(minutes=self.min_notice_minutes)

    def last_day(self, now: datetime) -> date:
        """The last day that can be booked online."""
        return self.local(now).date() + timedelta(days=self.horizon_days)

    def price_text(self, service: ServiceInfo) -> str:
        """The price as patients read it (£60.00)."""
        return money.price_text(service.price_pence, self.currency)


class Problem(str, enum.Enum):
    """Why a requested start time cannot be booked."""

    PAST = "past"
    TOO_SOON = "too_soon"
    TOO_FAR = "too_far"
    CLOSED = "closed"
    OUTSIDE_HOURS = "outside_hours"
    NOT_ON_GRID = "not_on_grid"
    TAKEN = "taken"


@dataclass(frozen=True)
class FreeTime:
    """A start time and the practitioners free for the whole appointment."""

    start: datetime
    practitioner_ids: Tuple[int, ...]


@dataclass(frozen=True)
class Verdict:
    """The answer to "can I have this time?"."""

    start: datetime
    problem: Optional[Problem]
    practitioner_ids: Tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        """Bookable now."""
        return self.problem is None


def utc(moment: datetime) -> datetime:
    """The same instant in UTC."""
    return moment.astimezone(timezone.utc)


def cells(start: datetime, duration_minutes: int, slot_minutes: int) -> List[datetime]:
    """The grid cells (UTC starts) an appointment occupies."""
    return [
        utc(start) + timedelta(minutes=offset) for offset in range(0, duration_minutes, slot_minutes)
    ]


def fits_opening(schedule: Schedule, service: ServiceInfo, start: datetime) -> bool:
    """The whole appointment lies inside one opening range of its day."""
    local = schedule.local(start)
    end = local + service.duration
    return any(opens <= local and end <= closes for opens, closes in schedule.opening_ranges(local.date()))


def on_grid(schedule: Schedule, start: datetime) -> bool:
    """The start lies on the clinic's slot grid."""
    local = schedule.local(start)
    minutes = local.hour * 60 + local.minute
    return local.second == 0 and local.microsecond == 0 and minutes % schedule.slot_minutes == 0


def free_practitioners(
    schedule: Schedule, service: ServiceInfo, start: datetime, held: Held
) -> Tuple[int, ...]:
    """Who offers the service, works that day and is free for every cell of the appointment."""
    day = schedule.local(start).date()
    needed = cells(start, service.duration_minutes, schedule.slot_minutes)
    return tuple(
        pid
        for pid in service.practitioner_ids
        if (pid not in schedule.practitioners or schedule.practitioners[pid].works_on(day))
        and not any((pid, cell) in held for cell in needed)
    )


def candidate_starts(schedule: Schedule, service: ServiceInfo, day: date) -> Iterator[datetime]:
    """Every start on the grid of `day` where the appointment fits the opening hours."""
    for opens, closes in schedule.opening_ranges(day):
        start = opens
        while start + service.duration <= closes:
            yield start
            start += schedule.step


def in_window(schedule: Schedule, start: datetime, window: Optional[str]) -> bool:
    """The start falls in the named part of the day (any when no window is named)."""
    if not window:
        return True
    begin, end = WINDOWS[window]
    return begin <= schedule.local(start).time() < end


def day_problem(schedule: Schedule, day: date, now: datetime) -> Optional[Problem]:
    """Why nothing can be booked on the whole (local) day, if so: past, too far ahead, or closed."""
    if day < schedule.local(now).date():
        return Problem.PAST
    if day > schedule.last_day(now):
        return Problem.TOO_FAR
    if schedule.is_closed(day):
        return Problem.CLOSED
    return None


def check(
    schedule: Schedule, service: ServiceInfo, start: datetime, now: datetime, held: Held
) -> Verdict:
    """Whether `start` can be booked for `service`, and with whom; the first problem otherwise."""
    local = schedule.local(start)
    if start <= now:
        return Verdict(start, Problem.PAST)
    problem = day_problem(schedule, local.date(), now)  # a day before today's start is past, caught above
    if problem is not None:
        return Verdict(start, problem)
    if not fits_opening(schedule, service, start):
        return Verdict(start, Problem.OUTSIDE_HOURS)
    if not on_grid(schedule, start):
        return Verdict(start, Problem.NOT_ON_GRID)
    if start < schedule.earliest_start(now):
        return Verdict(start, Problem.TOO_SOON)
    free = free_practitioners(schedule, service, start, held)
    return Verdict(start, None if free else Problem.TAKEN, free)


def free_times(
    schedule: Schedule,
    service: ServiceInfo,
    held: Held,
    now: datetime,
    first_day: Optional[date] = None,
    last_day: Optional[date] = None,
    window: Optional[str] = None,
    limit: int = 4,
    per_day: int = 2,
    spacing: timedelta = timedelta(hours=2),
) -> List[FreeTime]:
    """The earliest free times from `first_day`, spread out: at most `per_day` a day, `spacing` apart."""
    earliest = schedule.earliest_start(now)
    earliest_day = schedule.local(earliest).date()
    day = max(first_day or earliest_day, earliest_day)
    last = min(last_day or schedule.last_day(now), schedule.last_day(now))
    found: List[FreeTime] = []
    while day <= last and len(found) < limit:
        today: List[FreeTime] = []
        for start in candidate_starts(schedule, service, day):
            if start < earliest or not in_window(schedule, start, window):
                continue
            if today and start - today[-1].start < spacing:
                continue
            free = free_practitioners(schedule, service, start, held)
            if free:
                today.append(FreeTime(start, free))
                if len(today) >= per_day:
                    break
        found.extend(today[: limit - len(found)])
        day += timedelta(days=1)
    return found


def nearest_free_times(
    schedule: Schedule, service: ServiceInfo, held: Held, now: datetime, around: datetime, limit: int = 4
) -> List[FreeTime]:
    """Free times closest to `around` (same day first, then the days after), for a re-prompt."""
    day = schedule.local(around).date()
    same_day = free_times(
        schedule, service, held, now, first_day=day, last_day=day, limit=50, per_day=50,
        spacing=timedelta(0),
    )
    same_day.sort(key=lambda free: abs(free.start - around))
    chosen = sorted(same_day[:2], key=lambda free: free.start)
    later = free_times(schedule, service, held, now, first_day=day + timedelta(days=1), limit=limit)
    return (chosen + later)[:limit]


def held_for(bookings: Iterable[Tuple[int, datetime, int]], slot_minutes: int) -> Held:
    """Held cells from (practitioner id, start, duration minutes) triples (for tests and fakes)."""
    held: Held = set()
    for pid, start, minutes in bookings:
        held.update((pid, cell) for cell in cells(start, minutes, slot_minutes))
    return held
