"""Shared test data for booking: a fixed clinic schedule and a fixed clock (Monday 3 June 2030, 08:00)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from clinic.booking.availability import Schedule
from clinic.booking.contact import Contact
from clinic.booking.handlers import BookingRequest
from clinic.booking.schedule import ScheduleConfig, parse_schedule

TZ = ZoneInfo("Europe/London")
MONDAY = date(2030, 6, 3)
TUESDAY = date(2030, 6, 4)
WEDNESDAY_CLOSED = date(2030, 6, 5)
SUNDAY = date(2030, 6, 9)
NOW = datetime(2030, 6, 3, 8, 0, tzinfo=TZ)

TEST_SCHEDULE = {
    "timezone": "Europe/London",
    "currency": "GBP",
    "booking": {"slot_minutes": 15, "min_notice_minutes": 60, "horizon_days": 30},
    "services": {
        "extraction": {"name": "Milia extraction (de-roofing)", "duration_minutes": 30, "price": 60.00},
        "consultation": {"name": "Skin consultation", "duration_minutes": 30, "price": 40.00},
        "facial": {"name": "IMAGE Skincare facial", "duration_minutes": 60, "price": 85.00},
    },
    "opening_hours": {
        "monday": "09:00-17:00",
        "tuesday": "09:00-12:30, 13:30-17:00",
        "wednesday": "09:00-17:00",
        "thursday": "09:00-17:00",
        "friday": "09:00-17:00",
        "saturday": "10:00-13:00",
        "sunday": "closed",
    },
    "closed_days": {date(2030, 6, 5): "Training day"},
    "practitioners": [
        {"code": "ana", "name": "Ana", "services": ["extraction", "consultation", "facial"]},
        {"code": "ben", "name": "Ben", "services": ["extraction", "consultation"],
         "days": ["tuesday", "thursday"]},
    ],
}


def config() -> ScheduleConfig:
    """The test schedule, parsed."""
    return parse_schedule(TEST_SCHEDULE)


def schedule() -> Schedule:
    """The test schedule as availability reads it."""
    return Schedule.from_config(config())


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local clinic time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def request(start: datetime, name: str = "Jane Doe", phone: str = "+447911123456",
            service: str = "extraction", **triage: Optional[str]) -> BookingRequest:
    """A booking request at `start` from a test patient."""
    return BookingRequest(service, start, name, Contact("phone", phone), sender_id="test-sender",
                          triage=triage)


def prepare_database(url: str) -> None:
    """Migrate the database and load the test schedule into it."""
    from clinic.booking import handlers
    from clinic.booking.unit_of_work import unit_of_work_factory
    from clinic.db.migrate import upgrade

    upgrade(url)
    handlers.sync_schedule(unit_of_work_factory(url), config(), NOW.astimezone(timezone.utc))
