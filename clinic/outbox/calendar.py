"""The appointment as an iCalendar invitation (RFC 5545, the `icalendar` library), attached to e-mails.

UID is the booking reference, so a move (a higher SEQUENCE) updates the event already in the patient's
calendar and a cancellation (METHOD:CANCEL, STATUS:CANCELLED) removes it. Times are on the clinic's clock
(DTSTART;TZID=Europe/London with its VTIMEZONE).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Optional
from zoneinfo import ZoneInfo

import yaml
from icalendar import Calendar, Event, vCalAddress, vText

from clinic.booking.schedule import schedule_file
from clinic.db.outbox import OutboxMessage

PRODID = "-//Vitawell Clinic//Bookings//EN"


@dataclass(frozen=True)
class ClinicDetails:
    """What the invitation says about the clinic: its clock and, if its file gives it, where it is."""

    timezone: str = "Europe/London"
    name: str = "Vitawell Clinic"
    address: str = ""

    @classmethod
    def from_file(cls, path: Optional[Path] = None) -> ClinicDetails:
        """config/clinic.yml (CLINIC_SCHEDULE_FILE): `timezone`; `address` at the top or under `clinic:`."""
        try:
            raw = yaml.safe_load(Path(path or schedule_file()).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return cls()
        clinic = raw.get("clinic") if isinstance(raw.get("clinic"), dict) else {}
        address = _address(raw.get("address") or clinic.get("address"))
        name = str(clinic.get("name") or raw.get("name") or cls.name)
        return cls(timezone=str(raw.get("timezone") or cls.timezone), name=name, address=address)


def _address(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(line).strip() for line in value if str(line).strip())
    if isinstance(value, dict):
        return ", ".join(str(v).strip() for v in value.values() if str(v).strip())
    return " ".join(str(value or "").split())


def invitation(row: OutboxMessage, clinic: ClinicDetails, organizer: str, now: datetime) -> bytes:
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
    return calendar.to_ical()
