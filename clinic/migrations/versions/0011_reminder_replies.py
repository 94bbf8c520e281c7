"""After the booking: replies to SMS reminders (C confirms, X cancels, R reschedules).

The reminder's outbox row records the answer (status `replied`, `reply`, `replied_at`); a booking the patient
confirmed keeps when (`bookings.confirmed_at`).

Revision ID: 0011_reminder_replies
Revises: 0010_calendar_feeds
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_reminder_replies"
down_revision = "0010_calendar_feeds"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('queued', 'sending', 'sent', 'failed', 'cancelled', 'opted_out')"
NEW_STATUSES = "status IN ('queued', 'sending', 'sent', 'failed', 'cancelled', 'opted_out', 'replied')"


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_constraint(op.f("ck_outbox_messages_status"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_messages_status"), NEW_STATUSES)
        batch.add_column(sa.Column("reply", sa.String(12), nullable=True))
        batch.add_column(sa.Column("replied_at", sa.DateTime(), nullable=True))
    # A plain ADD COLUMN: a batch copy of `bookings` on SQLite would lose its partial unique index's WHERE.
    op.add_column("bookings", sa.Column("confirmed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("bookings", "confirmed_at")
    op.execute("UPDATE outbox_messages SET status = 'sent' WHERE status = 'replied'")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("replied_at")
        batch.drop_column("reply")
        batch.drop_constraint(op.f("ck_outbox_messages_status"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_messages_status"), OLD_STATUSES)
