"""Each practitioner's bookings as an iCalendar feed at a secret URL that Google and Outlook subscribe to.

An admin creates a feed in the staff console (`/staff/calendars`) and sees its URL once,
`/staff/calendar/<token>.ics`; only the token's SHA-256 is stored, so the database never holds a working URL.
Revoking a feed makes its URL answer 404 at once, like a token that never existed.

The feed (`feed_ics`, pure) holds the practitioner's bookings from `PAST_DAYS` ago onwards: UID = the
booking reference (the same UID as the patient's own invitation), DTSTART/DTEND on the clinic's clock with
its VTIMEZONE, LOCATION = the clinic's address; a cancelled booking stays in the feed as STATUS:CANCELLED,
so a calendar that already shows it removes it. The summary names the service and the patient by first name
and initial: the feed is read by a calendar provider, so no contact details and no triage findings.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vText
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clinic.contract import BookingStatus
from clinic.outbox.calendar import PRODID, Venue
from clinic.staff.models import CalendarFeed, utcnow

if TYPE_CHECKING:  # the service layer's snapshot, for types only
    from clinic.booking.handlers import BookingView

PAST_DAYS = 7  # the feed keeps the last week, so today's appointments don't vanish as they pass
REFRESH = "PT15M"  # how often calendars are asked to read the feed again (Outlook, Apple; Google decides)


def token_hash(token: str) -> str:
    """What is stored for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class FeedView:
    """A feed as the console lists it (never its token)."""

    id: int
    practitioner_id: int
    created_by: str
    created_at: datetime
    revoked_by: Optional[str]
    revoked_at: Optional[datetime]
    last_fetched_at: Optional[datetime]

    @property
    def active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None


def _view(row: CalendarFeed) -> FeedView:
    return FeedView(row.id, row.practitioner_id, row.created_by, row.created_at, row.revoked_by,
                    row.revoked_at, row.last_fetched_at)


class CalendarFeedRepository:
    """Creates, revokes, lists and resolves feeds, on one session (the caller commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, practitioner_id: int, username: str) -> Tuple[str, FeedView]:
        """A new feed for the practitioner: the secret token (shown once) and the feed."""
        token = secrets.token_urlsafe(32)
        row = CalendarFeed(token_hash=token_hash(token), practitioner_id=practitioner_id,
                           created_by=username[:64], created_at=utcnow())
        self.session.add(row)
        self.session.flush()
        return token, _view(row)

    def revoke(self, feed_id: int, username: str) -> Optional[FeedView]:
        """Revoke a feed (its URL answers 404 from now on); None if there is no such feed."""
        row = self.session.get(CalendarFeed, feed_id)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at, row.revoked_by = utcnow(), username[:64]
            self.session.flush()
        return _view(row)

    def all(self) -> List[FeedView]:
        """Every feed, newest first."""
        rows = self.session.execute(select(CalendarFeed).order_by(CalendarFeed.id.desc())).scalars()
        return [_view(row) for row in rows]

    def practitioner_for(self, token: str) -> Optional[int]:
        """The practitioner of a live feed with this token (noting that it was read), else None."""
        if not token or len(token) > 100:
            return None
        row = self.session.execute(
            select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token),
                                       CalendarFeed.revoked_at.is_(None))
        ).scalar_one_or_none()
        if row is None:
            return None
        self.session.execute(update(CalendarFeed).where(CalendarFeed.id == row.id)
                             .values(last_fetched_at=utcnow()))
        practitioner_id: Optional[int] = row.practitioner_id
        return practitioner_id


def patient_short_name(name: str) -> str:
    """'Jane Doe' -> 'Jane D.': enough for the practitioner, less for the calendar provider."""
    parts = name.split()
    if len(parts) < 2:
        return name.strip()
    return f"{parts[0]} {parts[-1][0]}."


def feed_ics(practitioner_name: str, bookings: Sequence[BookingView], clinic: Venue, now: datetime) -> bytes:
    """The practitioner's bookings as one VCALENDAR (METHOD:PUBLISH, a subscription)."""
    zone = ZoneInfo(clinic.timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{clinic.name}: {practitioner_name}")
    calendar.add("x-wr-timezone", clinic.timezone)
    calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for booking in bookings:
        cancelled = booking.status == BookingStatus.CANCELLED
        event = Event()
        event.add("uid", booking.reference)
        event.add("dtstamp", now)
        event.add("dtstart", booking.starts_at.astimezone(zone))
        event.add("dtend", booking.ends_at.astimezone(zone))
        event.add("summary", f"{'Cancelled: ' if cancelled else ''}{booking.service_name} - "
                             f"{patient_short_name(booking.patient_name)}")
        status = booking.status.replace("_", " ")
        event.add("description", f"Booking reference {booking.reference} ({status})")
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
        if clinic.address:
            event.add("location", vText(clinic.address))
        calendar.add_component(event)
    calendar.add_missing_timezones()
    ics: bytes = calendar.to_ical()
    return ics
