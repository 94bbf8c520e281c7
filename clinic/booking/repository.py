"""The booking repository: every query of the booking tables, behind one session.

The staff console and the CLI go through `clinic.booking.handlers`, which uses this; nothing else
writes the booking tables.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from clinic.booking.availability import Held, PractitionerInfo, Schedule, ServiceInfo
from clinic.booking.contact import Contact
from clinic.booking.schedule import DEFAULT_SETTINGS, ScheduleConfig
from clinic.contract import BookingStatus
from clinic.db.booking import (
    BookedSlot,
    Booking,
    ClinicSetting,
    ClosedDay,
    OpeningHours,
    Patient,
    Practitioner,
    Service,
)
from clinic.db.outbox import OutboxMessage
from clinic.db.waitlist import WaitlistEntry


class BookingRepository:
    """Reads and writes services, practitioners, the schedule, patients and bookings."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- the clinic's schedule -------------------------------------------------------------

    def settings(self) -> Dict[str, str]:
        """Scheduling settings, with defaults for any the clinic hasn't set."""
        stored = {row.key: row.value for row in self.session.execute(select(ClinicSetting)).scalars()}
        return {**DEFAULT_SETTINGS, **stored}

    def schedule(self) -> Schedule:
        """A snapshot of everything availability depends on."""
        settings = self.settings()
        practitioners = self.session.execute(
            select(Practitioner).where(Practitioner.active.is_(True)).order_by(Practitioner.id)
        ).scalars().all()
        services = self.session.execute(
            select(Service).where(Service.active.is_(True)).order_by(Service.id)
        ).scalars().all()
        hours: Dict[int, List[Tuple[time, time]]] = {}
        for row in self.session.execute(select(OpeningHours).order_by(OpeningHours.opens)).scalars():
            hours.setdefault(row.weekday, []).append((row.opens, row.closes))
        closed = {row.day: row.reason for row in self.session.execute(select(ClosedDay)).scalars()}
        return Schedule(
            timezone_name=settings["timezone"],
            slot_minutes=int(settings["slot_minutes"]),
            min_notice_minutes=int(settings["min_notice_minutes"]),
            horizon_days=int(settings["horizon_days"]),
            currency=settings["currency"],
            hours={day: tuple(ranges) for day, ranges in hours.items()},
            closed_days=closed,
            services={
                s.code: ServiceInfo(
                    s.code, s.name, s.duration_minutes, s.price_pence,
                    tuple(p.id for p in practitioners if s in p.services), s.id,
                )
                for s in services
            },
            practitioners={
                p.id: PractitionerInfo(
                    p.id, p.code, p.name,
                    frozenset(int(d) for d in p.working_days.split(",") if d.strip()),
                )
                for p in practitioners
            },
        )

    def replace_schedule(self, config: ScheduleConfig) -> None:
        """Make the database say what the clinic's file says (services and staff are never deleted)."""
        for key, value in config.as_settings().items():
            self.session.merge(ClinicSetting(key=key, value=value))
        services = {s.code: s for s in self.session.execute(select(Service)).scalars()}
        for spec in config.services:
            service = services.get(spec.code) or Service(code=spec.code)
            service.name, service.duration_minutes = spec.name, spec.duration_minutes
            service.price_pence, service.active = spec.price_pence, True
            self.session.add(service)
            services[spec.code] = service
        listed = {s.code for s in config.services}
        for code, service in services.items():
            if code not in listed:
                service.active = False
        self.session.flush()
        practitioners = {p.code: p for p in self.session.execute(select(Practitioner)).scalars()}
        for person in config.practitioners:
            practitioner = practitioners.get(person.code) or Practitioner(code=person.code)
            practitioner.name, practitioner.active = person.name, True
            practitioner.working_days = ",".join(str(d) for d in person.days)
            practitioner.services = [services[code] for code in person.services]
            self.session.add(practitioner)
            practitioners[person.code] = practitioner
        staff = {p.code for p in config.practitioners}
        for code, practitioner in practitioners.items():
            if code not in staff:
                practitioner.active = False
        self.session.execute(delete(OpeningHours))
        self.session.execute(delete(ClosedDay))
        for weekday, ranges in config.opening_hours.items():
            for opens, closes in ranges:
                self.session.add(OpeningHours(weekday=weekday, opens=opens, closes=closes))
        for day, reason in config.closed_days.items():
            self.session.add(ClosedDay(day=day, reason=reason))
        self.session.flush()

    def services(self, include_inactive: bool = False) -> List[Service]:
        """Services, in the clinic's order."""
        query = select(Service).order_by(Service.id)
        if not include_inactive:
            query = query.where(Service.active.is_(True))
        return list(self.session.execute(query).scalars())

    def practitioners(self, include_inactive: bool = False) -> List[Practitioner]:
        """Practitioners, in the clinic's order."""
        query = select(Practitioner).order_by(Practitioner.id)
        if not include_inactive:
            query = query.where(Practitioner.active.is_(True))
        return list(self.session.execute(query).scalars())

    # --- patients --------------------------------------------------------------------------

    def patient_for(self, name: str, contact: Contact) -> Patient:
        """The patient with this name and contact, added if new (family members may share a phone)."""
        patient: Patient
        for patient in self.session.execute(
            select(Patient).where(Patient.contact == contact.value).order_by(Patient.id)
        ).scalars():
            if patient.name.casefold() == name.casefold():
                return patient
        patient = Patient(name=name, contact=contact.value, contact_kind=contact.kind)
        self.session.add(patient)
        return patient

    # --- bookings --------------------------------------------------------------------------

    def add(self, booking: Booking, cells: Sequence[datetime]) -> None:
        """Store a booking and hold its practitioner's cells (IntegrityError if any is held)."""
        booking.slots = [BookedSlot(practitioner_id=booking.practitioner_id, starts_at=c) for c in cells]
        self.session.add(booking)
        self.session.flush()

    def move(self, booking: Booking, practitioner_id: int, cells: Sequence[datetime]) -> None:
        """Release the booking's cells, then hold new ones (IntegrityError if any is held)."""
        booking.slots = []
        self.session.flush()
        booking.practitioner_id = practitioner_id
        booking.slots = [BookedSlot(practitioner_id=practitioner_id, starts_at=c) for c in cells]
        self.session.flush()

    def release(self, booking: Booking) -> None:
        """Free the booking's cells (it was cancelled)."""
        booking.slots = []
        self.session.flush()

    def get(self, reference: str) -> Optional[Booking]:
        """The booking with this reference."""
        booking: Optional[Booking] = self.session.execute(
            select(Booking).where(Booking.reference == reference)
        ).scalar_one_or_none()
        return booking

    def held(self, start: datetime, end: datetime, except_booking_id: Optional[int] = None,
             now: Optional[datetime] = None, except_offer_id: Optional[int] = None) -> Held:
        """Cells held in [start, end), optionally leaving out one booking's own cells.

        With `now`, a freed time offered to a waitlisted patient is held too until its offer expires
        (except for that patient's own offer, `except_offer_id`).
        """
        query = select(BookedSlot.practitioner_id, BookedSlot.starts_at).where(
            BookedSlot.starts_at >= start, BookedSlot.starts_at < end
        )
        if except_booking_id is not None:
            query = query.where(BookedSlot.booking_id != except_booking_id)
        cells = {(pid, starts_at) for pid, starts_at in self.session.execute(query)}
        if now is None:
            return cells
        offers = select(WaitlistEntry).where(
            WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at > now,
            WaitlistEntry.offer_starts_at < end, WaitlistEntry.offer_ends_at > start,
        )
        if except_offer_id is not None:
            offers = offers.where(WaitlistEntry.id != except_offer_id)
        step = timedelta(minutes=int(self.settings()["slot_minutes"]))
        for offer in self.session.execute(offers).scalars():
            cell = offer.offer_starts_at
            while cell < offer.offer_ends_at:
                if start <= cell < end:
                    cells.add((offer.offer_practitioner_id, cell))
                cell += step
        return cells

    # --- the waitlist ----------------------------------------------------------------------

    def add_to_waitlist(self, entry: WaitlistEntry) -> None:
        """Store a waitlist entry."""
        self.session.add(entry)
        self.session.flush()

    def waiting_entry(self, contact: str, service_code: str) -> Optional[WaitlistEntry]:
        """The contact's waiting (or offered) entry for the service, if any."""
        entry: Optional[WaitlistEntry] = self.session.execute(
            select(WaitlistEntry).where(WaitlistEntry.contact == contact,
                                        WaitlistEntry.service_code == service_code,
                                        WaitlistEntry.status.in_(["waiting", "offered"]))
            .order_by(WaitlistEntry.id)
        ).scalars().first()
        return entry

    def next_waiting(self, service_code: str, day: date, start: datetime, practitioner_id: int,
                     except_contact: str) -> Optional[WaitlistEntry]:
        """The oldest waiting entry for the service whose days include `day`, never offered this time.

        "Offered this time" is read from the outbox: a waitlist offer for this start already texted to the
        entry's number (so a time passed round the list never comes back to someone who let it go).
        """
        not_this_time = or_(WaitlistEntry.offer_starts_at.is_(None), WaitlistEntry.offer_starts_at != start,
                            WaitlistEntry.offer_practitioner_id != practitioner_id)
        offered_before = select(OutboxMessage.id).where(
            OutboxMessage.kind == "waitlist_offer", OutboxMessage.recipient == WaitlistEntry.contact,
            OutboxMessage.starts_at == start,
        ).exists()
        entry: Optional[WaitlistEntry] = self.session.execute(
            select(WaitlistEntry).where(
                WaitlistEntry.status == "waiting", WaitlistEntry.service_code == service_code,
                WaitlistEntry.first_day <= day, WaitlistEntry.last_day >= day,
                WaitlistEntry.contact != except_contact, not_this_time, ~offered_before,
            ).order_by(WaitlistEntry.created_at, WaitlistEntry.id).limit(1).with_for_update()
        ).scalars().first()
        return entry

    def offer_for(self, contact: str, now: datetime) -> Optional[WaitlistEntry]:
        """The live offer to this contact (the newest), if any."""
        entry: Optional[WaitlistEntry] = self.session.execute(
            select(WaitlistEntry).where(WaitlistEntry.contact == contact, WaitlistEntry.status == "offered",
                                        WaitlistEntry.offer_expires_at > now)
            .order_by(WaitlistEntry.offer_expires_at.desc()).limit(1).with_for_update()
        ).scalars().first()
        return entry

    def expired_offers(self, now: datetime) -> List[WaitlistEntry]:
        """Offers whose hold has passed without an answer (locked; other workers skip them)."""
        return list(self.session.execute(
            select(WaitlistEntry)
            .where(WaitlistEntry.status == "offered", WaitlistEntry.offer_expires_at <= now)
            .order_by(WaitlistEntry.offer_expires_at).with_for_update(skip_locked=True)
        ).scalars())

    def any_held(self, practitioner_id: int, cells: Iterable[datetime]) -> bool:
        """Whether any of these cells of the practitioner is held."""
        cells = list(cells)
        return bool(
            self.session.execute(
                select(BookedSlot.booking_id).where(
                    BookedSlot.practitioner_id == practitioner_id, BookedSlot.starts_at.in_(cells)
                ).limit(1)
            ).first()
        )

    def between(
        self, start: datetime, end: datetime, statuses: Optional[Sequence[str]] = None
    ) -> List[Booking]:
        """Bookings starting in [start, end), earliest first."""
        query = select(Booking).where(Booking.starts_at >= start, Booking.starts_at < end)
        if statuses:
            query = query.where(Booking.status.in_(list(statuses)))
        return list(self.session.execute(query.order_by(Booking.starts_at, Booking.id)).scalars())

    def for_practitioner(self, practitioner_id: int, since: datetime) -> List[Booking]:
        """One practitioner's bookings ending after `since` (cancelled ones included), earliest first."""
        return list(
            self.session.execute(
                select(Booking).where(Booking.practitioner_id == practitioner_id, Booking.ends_at > since)
                .order_by(Booking.starts_at, Booking.id)
            ).scalars()
        )

    def for_sender(self, sender_id: str) -> List[Booking]:
        """Bookings made in one conversation."""
        return list(
            self.session.execute(
                select(Booking).where(Booking.sender_id == sender_id).order_by(Booking.starts_at)
            ).scalars()
        )

    def active_after(self, moment: datetime, limit: Optional[int] = None) -> List[Booking]:
        """Bookings still to come, not cancelled, earliest first (at most `limit`)."""
        query = (select(Booking).where(Booking.starts_at >= moment, Booking.status == BookingStatus.BOOKED)
                 .order_by(Booking.starts_at, Booking.id))
        return list(self.session.execute(query.limit(limit) if limit else query).scalars())
