"""The clinic's schedule file (config/clinic.yml): read, checked, with clear errors for the clinic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Dict, List, Mapping, Set, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from clinic.config import get_settings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# What a schedule file may leave out; the clinic_settings table falls back to the same (DEFAULT_SETTINGS).
DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_CURRENCY = "GBP"
DEFAULT_SLOT_MINUTES = 15
DEFAULT_MIN_NOTICE_MINUTES = 120
DEFAULT_HORIZON_DAYS = 60
DEFAULT_SETTINGS: Mapping[str, str] = {
    "timezone": DEFAULT_TIMEZONE,
    "currency": DEFAULT_CURRENCY,
    "slot_minutes": str(DEFAULT_SLOT_MINUTES),
    "min_notice_minutes": str(DEFAULT_MIN_NOTICE_MINUTES),
    "horizon_days": str(DEFAULT_HORIZON_DAYS),
}


class ScheduleFileError(ValueError):
    """The clinic's schedule file has a mistake; the message says where."""


@dataclass(frozen=True)
class ServiceConfig:
    """A treatment as the clinic describes it."""

    code: str
    name: str
    duration_minutes: int
    price_pence: int


@dataclass(frozen=True)
class PractitionerConfig:
    """A practitioner, the services they offer and the weekdays they work (empty: every day)."""

    code: str
    name: str
    services: Tuple[str, ...]
    days: Tuple[int, ...] = ()


@dataclass(frozen=True)
class ScheduleConfig:
    """Everything in the clinic's schedule file."""

    timezone: str
    currency: str
    slot_minutes: int
    min_notice_minutes: int
    horizon_days: int
    services: Tuple[ServiceConfig, ...]
    opening_hours: Mapping[int, Tuple[Tuple[time, time], ...]]
    closed_days: Mapping[date, str]
    practitioners: Tuple[PractitionerConfig, ...]

    def as_settings(self) -> Dict[str, str]:
        """The scalar settings, as stored in the `clinic_settings` table."""
        return {
            "timezone": self.timezone,
            "currency": self.currency,
            "slot_minutes": str(self.slot_minutes),
            "min_notice_minutes": str(self.min_notice_minutes),
            "horizon_days": str(self.horizon_days),
        }


def schedule_file() -> Path:
    """The schedule file in use: CLINIC_SCHEDULE_FILE, or config/clinic.yml."""
    return get_settings().clinic_schedule_file


def load_schedule(path: Path | None = None) -> ScheduleConfig:
    """Read and check the schedule file."""
    path = path or schedule_file()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ScheduleFileError(f"cannot read the schedule file {path}: {error}") from error
    except yaml.YAMLError as error:
        raise ScheduleFileError(f"{path} is not valid YAML: {error}") from error
    return parse_schedule(raw, str(path))


def parse_schedule(raw: Any, where: str = "schedule") -> ScheduleConfig:
    """Check a schedule given as parsed YAML."""
    if not isinstance(raw, dict):
        raise ScheduleFileError(f"{where}: expected a mapping at the top level")
    timezone = str(raw.get("timezone", DEFAULT_TIMEZONE))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleFileError(f"{where}: unknown timezone {timezone!r}") from error
    booking = raw.get("booking") or {}
    slot_minutes = _positive_int(
        booking.get("slot_minutes", DEFAULT_SLOT_MINUTES), f"{where}: booking.slot_minutes"
    )
    if 60 % slot_minutes and slot_minutes % 60:
        raise ScheduleFileError(f"{where}: booking.slot_minutes must divide an hour (5, 10, 15, 30...)")
    services = _services(raw.get("services"), slot_minutes, where)
    codes = {s.code for s in services}
    return ScheduleConfig(
        timezone=timezone,
        currency=str(raw.get("currency", DEFAULT_CURRENCY)),
        slot_minutes=slot_minutes,
        min_notice_minutes=_int(
            booking.get("min_notice_minutes", DEFAULT_MIN_NOTICE_MINUTES), f"{where}: min_notice_minutes"
        ),
        horizon_days=_positive_int(
            booking.get("horizon_days", DEFAULT_HORIZON_DAYS), f"{where}: horizon_days"
        ),
        services=services,
        opening_hours=_opening_hours(raw.get("opening_hours"), where),
        closed_days=_closed_days(raw.get("closed_days"), where),
        practitioners=_practitioners(raw.get("practitioners"), codes, where),
    )


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ScheduleFileError(f"{what} must be a whole number >= 0, not {value!r}")
    return value


def _positive_int(value: Any, what: str) -> int:
    number = _int(value, what)
    if number == 0:
        raise ScheduleFileError(f"{what} must be more than 0")
    return number


def _services(raw: Any, slot_minutes: int, where: str) -> Tuple[ServiceConfig, ...]:
    if not isinstance(raw, dict) or not raw:
        raise ScheduleFileError(f"{where}: `services` must list at least one service")
    services = []
    for code, spec in raw.items():
        what = f"{where}: services.{code}"
        if not isinstance(spec, dict) or not spec.get("name"):
            raise ScheduleFileError(f"{what} needs a name, duration_minutes and price")
        duration = _positive_int(spec.get("duration_minutes"), f"{what}.duration_minutes")
        if duration % slot_minutes:
            raise ScheduleFileError(
                f"{what}.duration_minutes ({duration}) must be a multiple of slot_minutes ({slot_minutes})"
            )
        try:
            price = Decimal(str(spec.get("price")))
        except InvalidOperation as error:
            raise ScheduleFileError(f"{what}.price must be a number, like 60.00") from error
        if price < 0 or price != price.quantize(Decimal("0.01")):
            raise ScheduleFileError(f"{what}.price must be >= 0 with at most 2 decimals")
        services.append(ServiceConfig(str(code), str(spec["name"]), duration, int(price * 100)))
    return tuple(services)


def _weekday(name: Any, what: str) -> int:
    key = str(name).strip().lower()
    if key not in WEEKDAYS:
        raise ScheduleFileError(f"{what}: {name!r} is not a weekday (monday ... sunday)")
    return WEEKDAYS.index(key)


def _opening_hours(raw: Any, where: str) -> Dict[int, Tuple[Tuple[time, time], ...]]:
    if not isinstance(raw, dict):
        raise ScheduleFileError(f"{where}: `opening_hours` must map weekdays to hours")
    hours: Dict[int, Tuple[Tuple[time, time], ...]] = {}
    for name, spec in raw.items():
        weekday = _weekday(name, f"{where}: opening_hours")
        if spec is None or str(spec).strip().lower() == "closed":
            continue
        ranges: List[Tuple[time, time]] = []
        for part in str(spec).split(","):
            match = _RANGE.match(part)
            try:
                opens, closes = (
                    (time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))
                    if match
                    else (None, None)
                )
            except ValueError:
                opens, closes = None, None
            if opens is None or closes is None or not opens < closes:
                raise ScheduleFileError(
                    f"{where}: opening_hours.{name}: {part.strip()!r} is not a range like 09:00-17:00"
                )
            ranges.append((opens, closes))
        ranges.sort()
        if any(a[1] > b[0] for a, b in zip(ranges, ranges[1:], strict=False)):
            raise ScheduleFileError(f"{where}: opening_hours.{name}: ranges overlap")
        hours[weekday] = tuple(ranges)
    return hours


def _closed_days(raw: Any, where: str) -> Dict[date, str]:
    if raw is None:
        return {}
    items = raw.items() if isinstance(raw, dict) else ((d, "") for d in raw)
    closed = {}
    for day, reason in items:
        if not isinstance(day, date):
            try:
                day = date.fromisoformat(str(day))
            except ValueError as error:
                message = f"{where}: closed_days: {day!r} is not a date (YYYY-MM-DD)"
                raise ScheduleFileError(message) from error
        closed[day] = str(reason or "")
    return closed


def _practitioners(raw: Any, services: Set[str], where: str) -> Tuple[PractitionerConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise ScheduleFileError(f"{where}: `practitioners` must list at least one practitioner")
    practitioners, seen = [], set()
    for spec in raw:
        if not isinstance(spec, dict) or not spec.get("code") or not spec.get("name"):
            raise ScheduleFileError(f"{where}: each practitioner needs a code and a name")
        code = str(spec["code"])
        if code in seen:
            raise ScheduleFileError(f"{where}: practitioner code {code!r} appears twice")
        seen.add(code)
        offered = tuple(str(s) for s in spec.get("services") or ())
        unknown = [s for s in offered if s not in services]
        if unknown or not offered:
            raise ScheduleFileError(
                f"{where}: practitioner {code!r} offers unknown or no services: {unknown or 'none'}"
            )
        what = f"{where}: practitioner {code!r} days"
        days = tuple(sorted({_weekday(d, what) for d in spec.get("days") or ()}))
        practitioners.append(PractitionerConfig(code, str(spec["name"]), offered, days))
    return tuple(practitioners)
