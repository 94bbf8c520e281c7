"""The messages a booking change causes, worded from domain/outbox.yml (pure: no database, no clock).

booked    -> a confirmation now, a reminder REMINDER_HOURS_BEFORE the appointment (none if that is past)
moved     -> a confirmation of the new time now, a reminder before the new time (the old one is cancelled
             by the repository)
cancelled -> a cancellation now (pending reminders are cancelled by the repository)
SMS for a mobile, e-mail (with a calendar attachment) for an e-mail address.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional

from clinic.booking.schedule import ScheduleFileError, schedule_file
from clinic.booking.wording import short_when_text, when_text
from clinic.db.outbox import OutboxMessage
from clinic.details import ClinicFile
from clinic.outbox.texts import DOMAIN_DIR, render

if TYPE_CHECKING:  # the service layer's snapshot; imported for types only (it imports this module)
    from clinic.booking.handlers import BookingView
    from clinic.config import Settings

logger = logging.getLogger(__name__)

CHANGES = ("booked", "moved", "cancelled", "reminder")
KIND_OF_CHANGE = {"booked": "confirmation", "moved": "confirmation", "cancelled": "cancellation",
                  "reminder": "reminder"}


@dataclass(frozen=True)
class MessagePolicy:
    """When reminders go out, and where the wording lives."""

    reminder_hours_before: float = 24.0
    waitlist_hold_minutes: int = 30
    domain_dir: Path = DOMAIN_DIR
    clinic_file: Optional[Path] = None  # default: CLINIC_SCHEDULE_FILE or config/clinic.yml

    def clinic_values(self, now: datetime) -> Dict[str, str]:
        """{clinic_name}, {clinic_phone}, {clinic_address}... from the clinic's file, as in the chat."""
        try:
            return clinic_file(str(self.clinic_file or schedule_file())).values(now)
        except ScheduleFileError as error:
            logger.error("The clinic's details can't be read for a message: %s", error)
            return {}

    @classmethod
    def from_settings(cls, settings: Settings) -> MessagePolicy:
        """REMINDER_HOURS_BEFORE from the clinic's settings."""
        return cls(reminder_hours_before=settings.reminder_hours_before,
                   waitlist_hold_minutes=settings.waitlist_hold_minutes)


@lru_cache(maxsize=4)
def clinic_file(path: str) -> ClinicFile:
    """The clinic's file, read once per process and again when it changes (clinic.details.ClinicFile)."""
    return ClinicFile(Path(path))


def channel_for(contact_kind: str) -> str:
    """A phone number is texted, an e-mail address is e-mailed."""
    return "email" if contact_kind == "email" else "sms"


def values_for(booking: BookingView) -> Dict[str, str]:
    """The placeholders of every outbox response."""
    minutes = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
    return {
        "patient_name": booking.patient_name,
        "reference": booking.reference,
        "service_name": booking.service_name,
        "when": when_text(booking.starts_at),
        "short_when": short_when_text(booking.starts_at),
        "duration": str(minutes),
    }


def message(
    change: str, booking: BookingView, due_at: datetime, sequence: int, policy: MessagePolicy
) -> OutboxMessage:
    """One outbox row for `change` of `booking`, due at `due_at`."""
    if change not in CHANGES:
        raise ValueError(f"unknown booking change {change!r}")
    channel = channel_for(booking.contact_kind)
    values = {**policy.clinic_values(due_at), **values_for(booking)}
    subject: Optional[str] = None
    if channel == "email":
        subject = render(f"utter_outbox_email_{change}_subject", values, policy.domain_dir)[:200]
        body = render(f"utter_outbox_email_{change}", values, policy.domain_dir)
    else:
        body = render(f"utter_outbox_sms_{change}", values, policy.domain_dir)
    return OutboxMessage(
        id=str(uuid.uuid4()),
        booking_reference=booking.reference,
        kind=KIND_OF_CHANGE[change],
        channel=channel,
        recipient=booking.contact,
        subject=subject,
        body=body,
        service_name=booking.service_name[:120],
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        sequence=sequence,
        due_at=due_at,
        status="queued",
        attempts=0,
        next_attempt_at=due_at,
    )


def messages_for(
    change: str, booking: BookingView, now: datetime, sequence: int, policy: MessagePolicy
) -> List[OutboxMessage]:
    """The confirmation or cancellation, due now, and (booked, moved) the appointment's reminder."""
    rows = [message(change, booking, now, sequence, policy)]
    if change in ("booked", "moved"):
        remind_at = booking.starts_at - timedelta(hours=policy.reminder_hours_before)
        if remind_at > now:  # booked at short notice: the confirmation is the reminder
            rows.append(message("reminder", booking, remind_at, sequence, policy))
    return rows


def waitlist_offer(
    reference: str, recipient: str, patient_name: str, service_name: str, starts_at: datetime,
    ends_at: datetime, now: datetime, policy: MessagePolicy,
) -> OutboxMessage:
    """The SMS offering a freed time to a waitlisted patient, due now (`reference`: the freed booking's)."""
    values = {**policy.clinic_values(now), "patient_name": patient_name, "service_name": service_name,
              "short_when": short_when_text(starts_at), "when": when_text(starts_at),
              "hold_minutes": str(policy.waitlist_hold_minutes)}
    return OutboxMessage(
        id=str(uuid.uuid4()), booking_reference=reference, kind="waitlist_offer", channel="sms",
        recipient=recipient, subject=None,
        body=render("utter_outbox_sms_waitlist_offer", values, policy.domain_dir),
        service_name=service_name[:120], starts_at=starts_at, ends_at=ends_at, sequence=0, due_at=now,
        status="queued", attempts=0, next_attempt_at=now,
    )
