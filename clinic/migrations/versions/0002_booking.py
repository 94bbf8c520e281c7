"""Booking: the clinic's schedule, patients, bookings and the slots they hold.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from clinic.db.booking import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE_BOOKING = "status <> 'cancelled'"


def upgrade() -> None:
    op.create_table(
        "clinic_settings",
        sa.Column("key", sa.String(60), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_clinic_settings")),
    )
    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("duration_minutes > 0", name=op.f("ck_services_positive_duration")),
        sa.CheckConstraint("price_pence >= 0", name=op.f("ck_services_non_negative_price")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("code", name=op.f("uq_services_code")),
    )
    op.create_table(
        "practitioners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("working_days", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practitioners")),
        sa.UniqueConstraint("code", name=op.f("uq_practitioners_code")),
    )
    op.create_table(
        "practitioner_services",
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["practitioners.id"], ondelete="CASCADE",
            name=op.f("fk_practitioner_services_practitioner_id_practitioners"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], ondelete="CASCADE",
            name=op.f("fk_practitioner_services_service_id_services"),
        ),
        sa.PrimaryKeyConstraint("practitioner_id", "service_id", name=op.f("pk_practitioner_services")),
    )
    op.create_table(
        "opening_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_opening_hours_weekday_range")),
        sa.CheckConstraint("opens < closes", name=op.f("ck_opening_hours_opens_before_closes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opening_hours")),
    )
    op.create_table(
        "closed_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_closed_days")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("contact", sa.String(254), nullable=False),
        sa.Column("contact_kind", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("contact_kind IN ('phone', 'email')", name=op.f("ck_patients_contact_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
    )
    op.create_index(op.f("ix_patients_contact"), "patients", ["contact"])
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(12), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=True),
        sa.Column("triage_result", sa.String(20), nullable=True),
        sa.Column("bump_hardness", sa.String(20), nullable=True),
        sa.Column("bump_fluid", sa.String(20), nullable=True),
        sa.Column("bump_location", sa.String(20), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_by", sa.String(20), nullable=True),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'attended', 'no_show')", name=op.f("ck_bookings_status")
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_bookings_starts_before_ends")),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_bookings_service_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["practitioners.id"],
            name=op.f("fk_bookings_practitioner_id_practitioners"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_bookings_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("reference", name=op.f("uq_bookings_reference")),
    )
    op.create_index(op.f("ix_bookings_starts_at"), "bookings", ["starts_at"])
    op.create_index(op.f("ix_bookings_sender_id"), "bookings", ["sender_id"])
    op.create_index(
        "uq_bookings_practitioner_start_active",
        "bookings",
        ["practitioner_id", "starts_at"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_BOOKING),
        postgresql_where=sa.text(ACTIVE_BOOKING),
    )
    op.create_table(
        "booked_slots",
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["practitioner_id"], ["practitioners.id"],
            name=op.f("fk_booked_slots_practitioner_id_practitioners"),
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], ondelete="CASCADE",
            name=op.f("fk_booked_slots_booking_id_bookings"),
        ),
        sa.PrimaryKeyConstraint("practitioner_id", "starts_at", name=op.f("pk_booked_slots")),
    )
    op.create_index(op.f("ix_booked_slots_booking_id"), "booked_slots", ["booking_id"])


def downgrade() -> None:
    op.drop_table("booked_slots")
    op.drop_index("uq_bookings_practitioner_start_active", table_name="bookings")
    op.drop_table("bookings")
    op.drop_table("patients")
    op.drop_table("closed_days")
    op.drop_table("opening_hours")
    op.drop_table("practitioner_services")
    op.drop_table("practitioners")
    op.drop_table("services")
    op.drop_table("clinic_settings")
