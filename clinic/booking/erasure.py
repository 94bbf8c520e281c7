"""Patients' personal data in the booking tables: erasure on request and retention.

Called through `clinic.privacy` (PERSONAL_DATA_ERASERS, RETENTION_PURGERS) by the assistant's
`action_delete_my_data`, the staff console's erase button and `clinic purge`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from clinic.contract import BookingStatus
from clinic.db.booking import Booking, Patient
from clinic.db.outbox import OutboxMessage
from clinic.db.waitlist import WaitlistEntry

ERASED_NAME = "(erased)"


def _anonymise(patient: Patient) -> None:
    patient.name = ERASED_NAME
    patient.contact = f"erased-{patient.id}"


def _forget(booking: Booking) -> None:
    booking.sender_id = None
    booking.notes = None


def _forget_messages(db: Session, references: Iterable[str], cancel_queued: bool) -> int:
    """The outbox keeps what was sent and when, not to whom or what it said; unsent ones are dropped."""
    references = list(references)
    if not references:
        return 0
    if cancel_queued:
        db.execute(update(OutboxMessage).where(
            OutboxMessage.booking_reference.in_(references), OutboxMessage.status == "queued"
        ).values(status="cancelled", last_error="the patient's data was erased")
         .execution_options(synchronize_session=False))
    result = db.execute(update(OutboxMessage).where(
        OutboxMessage.booking_reference.in_(references), OutboxMessage.recipient != "(erased)",
        OutboxMessage.status.not_in(["queued", "sending"]),
    ).values(recipient="(erased)", subject=None, body="").execution_options(synchronize_session=False))
    return result.rowcount or 0


def _patients_with_nothing_else(db: Session, patient_ids: Iterable[int], keep: Iterable[int]) -> list:
    """Patients whose every booking is among `keep` (the ones being erased)."""
    keep = set(keep)
    found = []
    for patient_id in set(patient_ids):
        others = db.scalar(
            select(func.count()).select_from(Booking).where(
                Booking.patient_id == patient_id, Booking.id.not_in(keep or {-1})
            )
        )
        if not others:
            found.append(db.get(Patient, patient_id))
    return [p for p in found if p is not None]


def erase_sender(db: Session, sender_id: str) -> int:
    """Bookings made in this conversation: upcoming ones cancelled, all unlinked; the patient anonymised."""
    now = datetime.now(timezone.utc)
    bookings = list(db.scalars(select(Booking).where(Booking.sender_id == sender_id)))
    for booking in bookings:
        if booking.status == BookingStatus.BOOKED and booking.starts_at > now:
            booking.status, booking.cancelled_at = BookingStatus.CANCELLED, now
            booking.cancelled_by = "patient"
            booking.slots = []
        _forget(booking)
    _forget_messages(db, [b.reference for b in bookings], cancel_queued=True)
    patients = _patients_with_nothing_else(db, [b.patient_id for b in bookings], [b.id for b in bookings])
    for patient in patients:
        _anonymise(patient)
    waiting = db.execute(delete(WaitlistEntry).where(WaitlistEntry.sender_id == sender_id)
                         .execution_options(synchronize_session=False)).rowcount or 0
    db.flush()
    return len(bookings) + len(patients) + waiting


def purge_before(db: Session, cutoff: datetime) -> int:
    """Retention: bookings that ended before `cutoff` lose their conversation link and notes.

    Patients with nothing newer are anonymised; the appointment itself stays, for the clinic's counts.
    """
    cutoff = cutoff.replace(tzinfo=timezone.utc) if cutoff.tzinfo is None else cutoff
    old = list(db.scalars(select(Booking).where(Booking.ends_at < cutoff)))
    changed = 0
    for booking in old:
        if booking.sender_id is not None or booking.notes is not None:
            _forget(booking)
            changed += 1
    changed += _forget_messages(db, [b.reference for b in old], cancel_queued=False)
    patients = [
        p for p in _patients_with_nothing_else(db, [b.patient_id for b in old], [b.id for b in old])
        if p.name != ERASED_NAME
    ]
    for patient in patients:
        _anonymise(patient)
    days_past = cutoff.date()  # a waitlist entry whose days are over says no more than who waited
    changed += db.execute(delete(WaitlistEntry).where(WaitlistEntry.last_day < days_past)
                          .execution_options(synchronize_session=False)).rowcount or 0
    db.flush()
    return changed + len(patients)
