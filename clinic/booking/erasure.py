"""Patients' personal data in the booking tables: erasure on request and retention.

Called through `clinic.privacy` (PERSONAL_DATA_ERASERS, RETENTION_PURGERS) by the assistant's
`action_delete_my_data`, the staff console's erase button and `clinic purge`.

Erasure cancels the patient's bookings still to come through the service layer's one cancellation
(`handlers.cancel_for_erasure`, on the eraser's session): the time is freed and offered to the waitlist and
the reminder withdrawn exactly as when the patient cancels; only no cancellation is sent.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, List, Optional, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from clinic.booking import handlers
from clinic.booking.unit_of_work import SessionUnitOfWork
from clinic.db.booking import Booking, Patient
from clinic.db.outbox import OutboxMessage
from clinic.db.waitlist import WaitlistEntry

ERASED_NAME = "(erased)"
# The messages sent to the patient about their bookings; a waitlist offer of a time one of them freed went
# to someone else, and is that person's.
PATIENTS_MESSAGES = ("confirmation", "reminder", "cancellation")


def _anonymise(patient: Patient) -> None:
    patient.name = ERASED_NAME
    patient.contact = f"erased-{patient.id}"


def _forget(booking: Booking) -> None:
    booking.sender_id = None
    booking.notes = None


def _forget_messages(
    db: Session, references: Iterable[str], cancel_queued: bool, kinds: Optional[Sequence[str]] = None
) -> int:
    """The outbox keeps what was sent and when, not to whom or what it said; unsent ones are dropped.

    Only messages of `kinds` (None: every kind) about the bookings `references`.
    """
    references = list(references)
    if not references:
        return 0
    about = [OutboxMessage.booking_reference.in_(references)]
    if kinds is not None:
        about.append(OutboxMessage.kind.in_(list(kinds)))
    if cancel_queued:
        db.execute(update(OutboxMessage).where(*about, OutboxMessage.status == "queued")
                   .values(status="cancelled", last_error="the patient's data was erased")
                   .execution_options(synchronize_session=False))
    result = db.execute(update(OutboxMessage).where(
        *about, OutboxMessage.recipient != "(erased)", OutboxMessage.status.not_in(["queued", "sending"]),
    ).values(recipient="(erased)", subject=None, body="").execution_options(synchronize_session=False))
    return result.rowcount or 0


def _patients_with_nothing_else(
    db: Session, patient_ids: Iterable[int], keep: Iterable[int]
) -> List[Patient]:
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


def erase_sender(db: Session, sender_id: str, now: Optional[datetime] = None) -> int:
    """Bookings made in this conversation: upcoming ones cancelled, all unlinked; the patient anonymised."""
    now = now or datetime.now(timezone.utc)
    handlers.cancel_for_erasure(lambda: SessionUnitOfWork(db), sender_id, now)  # as the patient cancels
    bookings = list(db.scalars(select(Booking).where(Booking.sender_id == sender_id)))
    for booking in bookings:
        _forget(booking)
    _forget_messages(db, [b.reference for b in bookings], cancel_queued=True, kinds=PATIENTS_MESSAGES)
    patients = _patients_with_nothing_else(db, [b.patient_id for b in bookings], [b.id for b in bookings])
    for patient in patients:
        _anonymise(patient)
    contacts = set(db.scalars(select(WaitlistEntry.contact).where(WaitlistEntry.sender_id == sender_id)))
    offers = _forget_offers_to(db, contacts)
    waiting = db.execute(delete(WaitlistEntry).where(WaitlistEntry.sender_id == sender_id)
                         .execution_options(synchronize_session=False)).rowcount or 0
    db.flush()
    return len(bookings) + len(patients) + waiting + offers


def _forget_offers_to(db: Session, contacts: Iterable[str]) -> int:
    """Waitlist offers texted to the patient's own number (a time someone else freed) go the same way."""
    contacts = [c for c in contacts if c]
    if not contacts:
        return 0
    offered = [OutboxMessage.kind == "waitlist_offer", OutboxMessage.recipient.in_(contacts)]
    db.execute(update(OutboxMessage).where(*offered, OutboxMessage.status == "queued")
               .values(status="cancelled", last_error="the patient's data was erased")
               .execution_options(synchronize_session=False))
    result = db.execute(update(OutboxMessage).where(
        *offered, OutboxMessage.status.not_in(["queued", "sending"]),
    ).values(recipient="(erased)", subject=None, body="").execution_options(synchronize_session=False))
    return result.rowcount or 0


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
