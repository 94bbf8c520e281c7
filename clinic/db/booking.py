"""Tables of the booking system: the clinic's schedule, patients, bookings and the slots they hold.

Double booking is impossible at the database level: every active booking holds its practitioner's
time cells in `booked_slots`, whose primary key is (practitioner, cell start). Two bookings that
overlap by even one cell cannot both commit, whatever process or engine writes them. A partial
unique index on `bookings` (practitioner, start) for bookings that are not cancelled says the same
for the start time, as a second line of defence.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    text,
)
from sqlalchemy.orm import relationship
from sqlalchemy.types import TypeDecorator

from clinic.contract import BookingStatus
from clinic.db.base import Base

BOOKING_STATUSES = BookingStatus.values()
# A booking holds its slots unless it is cancelled.
ACTIVE_BOOKING = f"status <> '{BookingStatus.CANCELLED}'"


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):  # type: ignore[misc]  # SQLAlchemy 1.4 is untyped: TypeDecorator is Any
    """An aware datetime stored as naive UTC (same meaning on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        """Aware -> naive UTC; naive datetimes are refused (their meaning is unknown)."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Optional[datetime], dialect: Any) -> Optional[datetime]:
        """Naive UTC -> aware UTC."""
        return None if value is None else value.replace(tzinfo=timezone.utc)


class ClinicSetting(Base):
    """One scheduling setting (timezone, slot grid, notice, horizon), from the clinic's file."""

    __tablename__ = "clinic_settings"

    key = Column(String(60), primary_key=True)
    value = Column(String(200), nullable=False)


class Service(Base):
    """A treatment the clinic sells: milia extraction, skin consultation, IMAGE facial."""

    __tablename__ = "services"

    id = Column(Integer, primary_key=True)
    code = Column(String(40), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    duration_minutes = Column(Integer, nullable=False)
    price_pence = Column(Integer, nullable=False)
    active = Column(Boolean, nullable=False, default=True)

    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="positive_duration"),
        CheckConstraint("price_pence >= 0", name="non_negative_price"),
    )


class Practitioner(Base):
    """A member of staff who treats patients."""

    __tablename__ = "practitioners"

    id = Column(Integer, primary_key=True)
    code = Column(String(40), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    # Weekdays worked, "0,1,2" (Monday is 0); empty means every opening day.
    working_days = Column(String(20), nullable=False, default="")
    active = Column(Boolean, nullable=False, default=True)

    services = relationship("Service", secondary="practitioner_services", lazy="selectin")


class PractitionerService(Base):
    """Which practitioner offers which service."""

    __tablename__ = "practitioner_services"

    practitioner_id = Column(
        Integer, ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True
    )
    service_id = Column(Integer, ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)


class OpeningHours(Base):
    """One opening range on a weekday (several per day for a lunch break)."""

    __tablename__ = "opening_hours"

    id = Column(Integer, primary_key=True)
    weekday = Column(SmallInteger, nullable=False)  # Monday is 0
    opens = Column(Time, nullable=False)
    closes = Column(Time, nullable=False)

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )


class ClosedDay(Base):
    """A whole day the clinic is closed (holiday, training)."""

    __tablename__ = "closed_days"

    day = Column(Date, primary_key=True)
    reason = Column(String(200), nullable=False, default="")


class Patient(Base):
    """Someone who booked: the name they gave and the contact they booked with."""

    __tablename__ = "patients"

    id = Column(Integer, primary_key=True)
    name = Column(String(100), nullable=False)
    contact = Column(String(254), nullable=False, index=True)  # E.164 phone or lower-case email
    contact_kind = Column(String(10), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (CheckConstraint("contact_kind IN ('phone', 'email')", name="contact_kind"),)


class Booking(Base):
    """An appointment, with the triage findings attached for the practitioner."""

    __tablename__ = "bookings"

    id = Column(Integer, primary_key=True)
    reference = Column(String(12), nullable=False, unique=True)
    service_id = Column(Integer, ForeignKey("services.id"), nullable=False)
    practitioner_id = Column(Integer, ForeignKey("practitioners.id"), nullable=False)
    patient_id = Column(Integer, ForeignKey("patients.id"), nullable=False)
    starts_at = Column(UTCDateTime, nullable=False, index=True)
    ends_at = Column(UTCDateTime, nullable=False)
    status = Column(String(12), nullable=False, default=BookingStatus.BOOKED.value)
    sender_id = Column(String(255), nullable=True, index=True)  # the conversation that booked
    triage_result = Column(String(20), nullable=True)
    bump_hardness = Column(String(20), nullable=True)
    bump_fluid = Column(String(20), nullable=True)
    bump_location = Column(String(20), nullable=True)
    notes = Column(Text, nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
    cancelled_at = Column(UTCDateTime, nullable=True)
    cancelled_by = Column(String(20), nullable=True)  # patient | clinic
    confirmed_at = Column(UTCDateTime, nullable=True)  # the patient answered the SMS reminder "C" / "yes"

    service = relationship("Service", lazy="joined")
    practitioner = relationship("Practitioner", lazy="joined")
    patient = relationship("Patient", lazy="joined")
    slots = relationship("BookedSlot", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{status}'" for status in BOOKING_STATUSES)), name="status"
        ),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        Index(
            "uq_bookings_practitioner_start_active",
            "practitioner_id",
            "starts_at",
            unique=True,
            sqlite_where=text(ACTIVE_BOOKING),
            postgresql_where=text(ACTIVE_BOOKING),
        ),
    )


class BookedSlot(Base):
    """One time cell of a practitioner held by an active booking (the anti-double-booking key)."""

    __tablename__ = "booked_slots"

    practitioner_id = Column(Integer, ForeignKey("practitioners.id"), primary_key=True)
    starts_at = Column(UTCDateTime, primary_key=True)
    booking_id = Column(
        Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True
    )
