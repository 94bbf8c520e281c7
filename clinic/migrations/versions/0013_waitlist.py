"""After the booking: the waitlist (patients offered freed times, each held for a while).

Revision ID: 0013_waitlist
Revises: 0012_conversation_notes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_waitlist"
down_revision = "0012_conversation_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(40), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("patient_name", sa.String(100), nullable=False),
        sa.Column("contact", sa.String(254), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("offer_starts_at", sa.DateTime(), nullable=True),
        sa.Column("offer_ends_at", sa.DateTime(), nullable=True),
        sa.Column("offer_practitioner_id", sa.Integer(), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(), nullable=True),
        sa.Column("offered_from", sa.String(12), nullable=True),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("booking_reference", sa.String(12), nullable=True),
        sa.CheckConstraint("status IN ('waiting', 'offered', 'booked', 'left')",
                           name=op.f("ck_waitlist_entries_status")),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_waitlist_entries_days_in_order")),
        sa.ForeignKeyConstraint(["offer_practitioner_id"], ["practitioners.id"],
                                name=op.f("fk_waitlist_entries_offer_practitioner_id_practitioners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(op.f("ix_waitlist_entries_contact"), "waitlist_entries", ["contact"])
    op.create_index("ix_waitlist_entries_status_service", "waitlist_entries", ["status", "service_code"])


def downgrade() -> None:
    op.drop_index("ix_waitlist_entries_status_service", table_name="waitlist_entries")
    op.drop_index(op.f("ix_waitlist_entries_contact"), table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
