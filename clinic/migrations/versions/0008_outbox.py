"""After the booking (issue 16): the outbox of confirmations, reminders and cancellations.

Revision ID: 0008_outbox
Revises: 0007_conversation_index
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_outbox"
down_revision = "0007_conversation_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("booking_reference", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(5), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("service_name", sa.String(120), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(80), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("provider_id", sa.String(255), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('confirmation', 'reminder', 'cancellation', 'waitlist_offer')",
            name=op.f("ck_outbox_messages_kind"),
        ),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_outbox_messages_channel")),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'cancelled', 'opted_out')",
            name=op.f("ck_outbox_messages_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(op.f("ix_outbox_messages_booking_reference"), "outbox_messages", ["booking_reference"])
    op.create_index("ix_outbox_messages_status_next_attempt_at", "outbox_messages",
                    ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_status_next_attempt_at", table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_booking_reference"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
