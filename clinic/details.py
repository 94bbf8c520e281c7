"""The clinic's own details (config/clinic.yml `clinic:`) and the words the assistant fills in with them.

Pure: the file is parsed into `ClinicDetails`; `response_values` turns it and the schedule into the
`{placeholder}` values of the responses in domain/ (`{clinic_phone}`, `{hours_today}`, `{services}`...).
The Rasa server fills them in as it renders each response (clinic/nlg.py), so a clinic changes its
number, address or prices in config/clinic.yml without touching domain/ or retraining.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

import yaml

from clinic.booking import money
from clinic.booking.schedule import WEEKDAYS, ScheduleConfig, ScheduleFileError, parse_schedule, schedule_file

logger = logging.getLogger(__name__)

# Every key the `clinic:` block must give (the clinic's own words, said to patients as they are).
DETAIL_KEYS = ("name", "phone", "email", "address", "website")
EMERGENCY_KEYS = ("doctor", "advice_line", "emergency_number", "emergency_department")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Emergency:
    """Where red flags go in the clinic's country (UK: your GP or NHS 111; 999 or A&E if severe)."""

    doctor: str
    advice_line: str
    emergency_number: str
    emergency_department: str


@dataclass(frozen=True)
class ClinicDetails:
    """How patients reach the clinic, and where they go in an emergency."""

    name: str
    phone: str
    email: str
    address: str
    website: str
    emergency: Emergency


def parse_details(raw: Any, where: str = "clinic.yml") -> ClinicDetails:
    """The `clinic:` block of the parsed file; a clear error naming the missing or empty key."""
    block = raw.get("clinic") if isinstance(raw, dict) else None
    if not isinstance(block, dict):
        raise ScheduleFileError(f"{where}: needs a `clinic:` block ({', '.join(DETAIL_KEYS)}, emergency)")
    values = {key: _text(block.get(key), f"{where}: clinic.{key}") for key in DETAIL_KEYS}
    emergency = block.get("emergency")
    if not isinstance(emergency, dict):
        raise ScheduleFileError(f"{where}: clinic.emergency must give {', '.join(EMERGENCY_KEYS)}")
    urgent = {key: _text(emergency.get(key), f"{where}: clinic.emergency.{key}") for key in EMERGENCY_KEYS}
    return ClinicDetails(**values, emergency=Emergency(**urgent))


def _text(value: Any, what: str) -> str:
    if value is None or isinstance(value, (dict, list, bool)) or not str(value).strip():
        raise ScheduleFileError(f"{what} must be given (a line of text the assistant says)")
    return " ".join(str(value).split())


def load_clinic_file(path: Optional[Path] = None) -> Tuple[ClinicDetails, ScheduleConfig]:
    """Read and check the clinic's file (CLINIC_SCHEDULE_FILE or config/clinic.yml): details and schedule."""
    path = Path(path or schedule_file())
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScheduleFileError(f"cannot read the clinic's file {path}: {error}") from error
    except yaml.YAMLError as error:
        raise ScheduleFileError(f"{path} is not valid YAML: {error}") from error
    return parse_details(raw, str(path)), parse_schedule(raw, str(path))


def clock_words(moment: time) -> str:
    """9am, 5:30pm, 12pm."""
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes}{'am' if moment.hour < 12 else 'pm'}"


def hours_words(ranges: Tuple[Tuple[time, time], ...]) -> str:
    """9am-5pm, or 9am-12:30pm and 1:30pm-5pm; closed when there are none."""
    if not ranges:
        return "closed"
    return " and ".join(f"{clock_words(a)}-{clock_words(b)}" for a, b in ranges)


def week_words(schedule: ScheduleConfig) -> str:
    """The week's opening hours, days with the same hours run together: "Mon-Tue 9am-5pm, Wed 9am-7pm"."""
    runs: List[List[Any]] = []  # [first weekday, last weekday, hours in words]
    for weekday in range(7):
        hours = hours_words(schedule.opening_hours.get(weekday, ()))
        if runs and runs[-1][2] == hours:
            runs[-1][1] = weekday
        else:
            runs.append([weekday, weekday, hours])
    short = [name[:3].capitalize() for name in WEEKDAYS]
    return ", ".join(
        f"{short[a]}{'' if a == b else '-' + short[b]} {hours}" for a, b, hours in runs
    )


def is_open_on(schedule: ScheduleConfig, day: date) -> bool:
    """Whether the clinic opens at all on `day` (its weekday's hours, unless it's a closed day)."""
    return day not in schedule.closed_days and bool(schedule.opening_hours.get(day.weekday()))


def today_words(schedule: ScheduleConfig, now: datetime) -> str:
    """Today's hours in a sentence; when closed, when the clinic opens next (within two weeks)."""
    local = now.astimezone(ZoneInfo(schedule.timezone))
    today = local.date()
    name = WEEKDAYS[today.weekday()].capitalize()
    if is_open_on(schedule, today):
        ranges = schedule.opening_hours[today.weekday()]
        if local.time() >= ranges[-1][1]:
            state = "we've closed for the day"
        elif any(a <= local.time() < b for a, b in ranges):
            state = "we're open now"
        else:
            state = "we're closed just now"
        return f"Today ({name}) we're open {hours_words(ranges)}; {state}."
    for ahead in range(1, 15):
        day = today + timedelta(days=ahead)
        if is_open_on(schedule, day):
            opens = clock_words(schedule.opening_hours[day.weekday()][0][0])
            when = "tomorrow" if ahead == 1 else WEEKDAYS[day.weekday()].capitalize()
            if ahead >= 7:
                when += f" {day.day} {day.strftime('%B')}"
            return f"We're closed today ({name}); we open again {when} at {opens}."
    return f"We're closed today ({name})."


def price_words(pence: int, currency: str) -> str:
    """£60, £62.50."""
    return money.price_words(pence, currency)


def services_words(schedule: ScheduleConfig) -> str:
    """One line per service: "Milia extraction (de-roofing): 30 minutes, £60"."""
    return "\n".join(
        f"{s.name}: {s.duration_minutes} minutes, {price_words(s.price_pence, schedule.currency)}"
        for s in schedule.services
    )


def response_values(details: ClinicDetails, schedule: ScheduleConfig, now: datetime) -> Dict[str, str]:
    """Every `{placeholder}` the responses may use, by name (see docs/response-facts.yml)."""
    urgent = details.emergency
    return {
        "clinic_name": details.name,
        "clinic_phone": details.phone,
        "clinic_email": details.email,
        "clinic_address": details.address,
        "clinic_website": details.website,
        "emergency_doctor": urgent.doctor,
        "emergency_advice_line": urgent.advice_line,
        "emergency_number": urgent.emergency_number,
        "emergency_department": urgent.emergency_department,
        "hours_today": today_words(schedule, now),
        "hours_week": week_words(schedule),
        "services": services_words(schedule),
        **{f"{SERVICE_PREFIX}{s.code}":
           f"{s.duration_minutes} minutes, {price_words(s.price_pence, schedule.currency)}"
           for s in schedule.services},
    }


# `{treatment_<code>}`: one service's duration and price ("60 minutes, £85"), for each service in the file.
SERVICE_PREFIX = "treatment_"

# The placeholders `response_values` fills, for the check that every response's placeholder is known
# (besides one `{treatment_<code>}` per service: see `is_config_placeholder`).
CONFIG_PLACEHOLDERS = frozenset({
    "clinic_name", "clinic_phone", "clinic_email", "clinic_address", "clinic_website",
    "emergency_doctor", "emergency_advice_line", "emergency_number", "emergency_department",
    "hours_today", "hours_week", "services",
})


def is_config_placeholder(name: str) -> bool:
    """Whether `{name}` is one of the clinic's values (a detail, the hours, or a service's price)."""
    return name in CONFIG_PLACEHOLDERS or name.startswith(SERVICE_PREFIX)


def placeholders(text: str) -> Tuple[str, ...]:
    """The `{name}` placeholders in a response text."""
    return tuple(_PLACEHOLDER.findall(text or ""))


def fill(text: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders `values` knows; others are left as they are (an action fills them)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)


class ClinicFile:
    """The clinic's file as the running server sees it: read again when it changes on disk.

    The first read must succeed (a server never starts without the clinic's phone number); a broken
    edit later keeps the last good details and logs the mistake, so patients keep getting answers.
    """

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = Path(path or schedule_file())
        self._stamp = self._stamp_now()
        self._loaded = load_clinic_file(self.path)

    def _stamp_now(self) -> Tuple[float, int]:
        try:
            found = os.stat(self.path)
        except OSError:
            return (0.0, -1)
        return (found.st_mtime, found.st_size)

    def current(self) -> Tuple[ClinicDetails, ScheduleConfig]:
        """The details and schedule, re-read if the file changed since the last look."""
        stamp = self._stamp_now()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._loaded = load_clinic_file(self.path)
            except ScheduleFileError as error:
                logger.error("Keeping the clinic's previous details: %s", error)
        return self._loaded

    def values(self, now: datetime) -> Dict[str, str]:
        """The responses' placeholder values at `now`."""
        details, schedule = self.current()
        return response_values(details, schedule, now)
