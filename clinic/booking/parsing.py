"""Patients' dates and times, read relative to an injected clock.

`parse_when("next Tuesday afternoon", now)` gives the day, an optional exact time and an optional
part of the day. Times ("3pm", "14:30", "noon") and parts of the day are read here; the date is read
by `dateparser` (dates, "tomorrow", "in 3 days"), with weekdays ("next Tuesday", "this Friday") and
impossible dates ("31 February") handled first, since dateparser answers those with nothing.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Optional, Tuple

import dateparser
from dateparser.search import search_dates

if TYPE_CHECKING:
    from dateparser import _Settings  # typeshed's name for the settings dateparser reads

MAX_LENGTH = 200

MONTHS = {
    name: number
    for number in range(1, 13)
    for name in {calendar.month_name[number].lower(), calendar.month_abbr[number].lower()}
}
MONTHS["sept"] = 9
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_WINDOW = re.compile(r"\b(morning|afternoon|evening|lunch\s*time|lunchtime|tonight)\b")
_EARLIEST = re.compile(
    r"\b(asap|as soon as possible|soonest|earliest|first available|next available|any\s*time|"
    r"whenever|anytime|any day|soon)\b"
)
_NOON = re.compile(r"\b(noon|midday|mid-day)\b")
_AMPM = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s?m\b\.?")
_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_DOTTED = re.compile(r"\b(\d{1,2})\.(00|15|30|45)\b")
_BARE_HOUR = re.compile(
    r"\b(?:at|@|about|around)\s+(\d{1,2})\b(?!\s*(?:st\b|nd\b|rd\b|th\b|of\b|[/.-]?\d|" + _MONTH + "))"
)
_NTH = re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b(?!\s*(?:of\s+)?" + _MONTH + ")")
_RELATIVE_WEEKDAY = re.compile(
    r"\b(?:(next|this|coming|on)\s+)?(mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?\b"
)
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s*(?:of\s+)?" + _MONTH + r"(?:,?\s*(\d{4}))?")
_MONTH_DAY = re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(\d{4}))?")
_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b")
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_FILLER = re.compile(
    r"\b(please|pls|can|could|would|i|we|come|do|go|for|book|me|in|on|at|the|is|it|ok|okay|how|what|"
    r"about|maybe|perhaps|like|to|be|would|that|fine|good|great|works|work|a|an|sometime|some|time|"
    r"appointment|slot|if|possible|free|available|any|you|have|there|then|instead|rather|actually)\b"
)


class UnreadableWhen(ValueError):
    """No date or time could be read from the text."""


class ImpossibleDate(ValueError):
    """A date that does not exist, like 31 February."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class WhenRequest:
    """What the patient asked for: a day (None: the earliest), maybe a time, maybe a part of the day."""

    day: Optional[date]
    time: Optional[time] = None
    window: Optional[str] = None

    def start(self, tz: Optional[tzinfo]) -> Optional[datetime]:
        """The exact requested start, when both day and time are known."""
        if self.day is None or self.time is None:
            return None
        return datetime.combine(self.day, self.time, tzinfo=tz)


def parse_when(text: str, now: datetime) -> WhenRequest:
    """Read a day and time from `text`; `now` is the clinic's aware local time."""
    cleaned = " ".join((text or "").lower().replace("’", "'").split())
    if not cleaned or len(cleaned) > MAX_LENGTH:
        raise UnreadableWhen(text)
    try:  # a start time offered on a button, in ISO 8601
        exact = datetime.fromisoformat(cleaned.upper())
    except ValueError:
        exact = None
    if exact is not None and exact.tzinfo is not None:
        local = exact.astimezone(now.tzinfo)
        return WhenRequest(local.date(), local.time().replace(tzinfo=None))
    window, cleaned = _take_window(cleaned)
    clock, cleaned = _take_time(cleaned)
    day, cleaned = _take_day(cleaned, now)
    if day is None and _EARLIEST.search(cleaned):
        return WhenRequest(None, clock, window)
    if day is None and clock is None and window is None:
        raise UnreadableWhen(text)
    if day is None:
        today = now.date()
        day = today if clock is None or datetime.combine(today, clock, tzinfo=now.tzinfo) > now else (
            today + timedelta(days=1)
        )
    return WhenRequest(day, clock, window)


def _take_window(text: str) -> Tuple[Optional[str], str]:
    match = _WINDOW.search(text)
    if not match:
        return None, text
    word = match[1].replace(" ", "")
    window = {"lunchtime": "afternoon", "tonight": "evening"}.get(word, word)
    return window, _cut(text, match)


def _take_time(text: str) -> Tuple[Optional[time], str]:
    match = _NOON.search(text)
    if match:
        return time(12, 0), _cut(text, match)
    match = _AMPM.search(text)
    if match:
        hour, minute = int(match[1]), int(match[2] or 0)
        if 1 <= hour <= 12 and minute < 60:
            hour = hour % 12 + (12 if match[3] == "p" else 0)
            return time(hour, minute), _cut(text, match)
    for pattern in (_CLOCK, _DOTTED):
        match = pattern.search(text)
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return time(int(match[1]), int(match[2])), _cut(text, match)
    match = _BARE_HOUR.search(text)
    if match and 1 <= int(match[1]) <= 23:
        hour = int(match[1])
        # "at 3" means 3pm at a clinic; "at 9" means 9am.
        return time(hour + 12 if hour <= 7 else hour, 0), _cut(text, match)
    return None, text


def _take_day(text: str, now: datetime) -> Tuple[Optional[date], str]:
    today = now.date()
    _reject_impossible(text, today)
    match = _RELATIVE_WEEKDAY.search(text)
    if match:
        weekday = _WEEKDAYS.index(match[2][:3])
        ahead = (weekday - today.weekday()) % 7
        if match[1] == "next" and ahead == 0:
            ahead = 7
        rest = _cut(text, match)
        explicit = _dateparser_day(rest, now)
        return (explicit or today + timedelta(days=ahead)), rest
    match = _NTH.search(text)
    if match and 1 <= int(match[1]) <= 31:
        return _next_day_of_month(int(match[1]), today), _cut(text, match)
    day = _dateparser_day(text, now)
    return day, text


def _next_day_of_month(number: int, today: date) -> date:
    """"the 4th": this month's if still ahead, otherwise the next month that has that day."""
    year, month = today.year, today.month
    for _ in range(13):
        if number <= calendar.monthrange(year, month)[1] and date(year, month, number) >= today:
            return date(year, month, number)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise ImpossibleDate(f"the {number}th")


def _dateparser_day(text: str, now: datetime) -> Optional[date]:
    core = " ".join(_FILLER.sub(" ", text).replace("?", " ").replace("!", " ").split())
    if not core or not re.search(r"[a-z0-9]", core):
        return None
    settings: _Settings = {
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "REQUIRE_PARTS": [],
    }
    parsed = dateparser.parse(core, languages=["en"], settings=settings)
    if parsed is None:
        found = search_dates(text, languages=["en"], settings=settings) or []
        parsed = found[0][1] if found else None
    if parsed is None:
        return None
    day = parsed.date()
    if _mentions_date_without_year(text):
        # "25 November" said on 26 November means yesterday (in the past), not next year.
        this_year = _replace_year(day, now.year)
        if timedelta(0) < now.date() - this_year <= timedelta(days=31):
            day = this_year
    return day


def _mentions_date_without_year(text: str) -> bool:
    return bool(_DAY_MONTH.search(text) or _MONTH_DAY.search(text)) and not re.search(r"\b\d{4}\b", text)


def _replace_year(day: date, year: int) -> date:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def _reject_impossible(text: str, today: date) -> None:
    """Raise ImpossibleDate for dates like "31 February", "30/02" or "2026-13-01"."""
    candidates = []
    for match in _DAY_MONTH.finditer(text):
        candidates.append((int(match[1]), MONTHS.get(match[2]), match[3], match[0]))
    for match in _MONTH_DAY.finditer(text):
        candidates.append((int(match[2]), MONTHS.get(match[1]), match[3], match[0]))
    for match in _NUMERIC.finditer(text):
        candidates.append((int(match[1]), int(match[2]), match[3], match[0]))
    for match in _ISO.finditer(text):
        candidates.append((int(match[3]), int(match[2]), match[1], match[0]))
    for day, month, year_text, said in candidates:
        year = int(year_text) if year_text else today.year
        if year_text and len(year_text) == 2:
            year = 2000 + year
        if month is None:
            continue
        if not 1 <= month <= 12 or not 1 <= day <= _longest_month(month, year, bool(year_text)):
            raise ImpossibleDate(said.strip())


def _longest_month(month: int, year: int, year_given: bool) -> int:
    if month == 2 and not year_given:
        return 29 if any(calendar.isleap(y) for y in (year, year + 1)) else 28
    return calendar.monthrange(year, month)[1]


def _cut(text: str, match: re.Match[str]) -> str:
    return " ".join((text[: match.start()] + " " + text[match.end():]).split())
