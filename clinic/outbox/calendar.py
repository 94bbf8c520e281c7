"""The appointment as an iCalendar invitation (RFC 5545, the `icalendar` library), attached to e-mails.

UID is the booking reference, so a move (a higher SEQUENCE) updates the event already in the patient's
calendar and a cancellation (METHOD:CANCEL, STATUS:CANCELLED) removes it. Times are on the clinic's clock
(DTSTART;TZID=Europe/London with its VTIMEZONE).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from clinic.booking.schedule import DEFAULT_TIMEZONE, ScheduleFileError, schedule_file
from clinic.db.outbox import OutboxMessage
from clinic.outbox.compose import clinic_file

logger = logging.getLogger(__name__)

PRODID = "-//Vitawell Clinic//Bookings//EN"


@dataclass(frozen=True)
class Venue:
    """What the invitation says about the clinic: its clock, its name and where it is."""

    timezone: str = DEFAULT_TIMEZONE
    name: str = "Vitawell"
    address: str = ""

    @classmethod
    def from_clinic_file(cls, path: Optional[Path] = None) -> Venue:
        """config/clinic.yml (CLINIC_SCHEDULE_FILE): `clinic: name, address` and `timezone`."""
        try:
            details, schedule = clinic_file(str(path or schedule_file())).current()
        except ScheduleFileError as error:
            logger.error("The invitation has no address: %s", error)
            return cls()
        return cls(timezone=schedule.timezone, name=details.name, address=details.address)


def invitation(row: OutboxMessage, clinic: Venue, organizer: str, now: datetime) -> bytes:
    """The .ics of the message's appointment: REQUEST (booked, moved, reminded) or CANCEL."""
    zone = ZoneInfo(clinic.timezone)
    cancelled = row.kind == "cancellation"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", row.booking_reference)
    event.add("sequence", row.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", row.starts_at.astimezone(zone))
    event.add("dtend", row.ends_at.astimezone(zone))
    event.add("summary", f"{row.service_name} at {clinic.name}")
    event.add("description", f"Booking reference {row.booking_reference}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if clinic.address:
        event.add("location", vText(clinic.address))
    organizer_name, organizer_email = parseaddr(organizer)
    if organizer_email:
        chair = vCalAddress(f"mailto:{organizer_email}")
        chair.params["cn"] = vText(organizer_name or clinic.name)
        event.add("organizer", chair)
    attendee = vCalAddress(f"mailto:{row.recipient}")
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    event.add("attendee", attendee)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    ics: bytes = calendar.to_ical()
    return ics
