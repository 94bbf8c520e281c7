"""Times worded for patients, the same in the chat, the SMS and the e-mail (on the clinic's clock)."""

from __future__ import annotations

from datetime import date, datetime, time


def clock_text(moment: time) -> str:
    """9:00am, 3:30pm, 12:00pm."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d}{'am' if moment.hour < 12 else 'pm'}"


def day_text(day: date) -> str:
    """Tuesday 4 June."""
    return f"{day:%A} {day.day} {day:%B}"


def when_text(moment: datetime) -> str:
    """Tuesday 4 June at 9:00am (on the clinic's clock)."""
    return f"{day_text(moment.date())} at {clock_text(moment.time())}"


def short_when_text(moment: datetime) -> str:
    """Tue 4 Jun 9:00am (for SMS)."""
    return f"{moment:%a} {moment.day} {moment:%b} {clock_text(moment.time())}"
