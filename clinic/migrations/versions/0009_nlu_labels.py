"""Staff console: labels saved on the Review page (the right intent, or not a real message).

Revision ID: 0009_nlu_labels
Revises: 0008_outbox
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_nlu_labels"
down_revision = "0008_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nlu_labels",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("labelled_by", sa.String(64), nullable=False),
        sa.Column("labelled_at", sa.Float(), nullable=False),
        sa.CheckConstraint("status IN ('labelled', 'not_real')", name=op.f("ck_nlu_labels_status")),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_nlu_labels")),
    )
    op.create_index(op.f("ix_nlu_labels_sender_id"), "nlu_labels", ["sender_id"])
    op.create_index(op.f("ix_nlu_labels_labelled_at"), "nlu_labels", ["labelled_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_nlu_labels_labelled_at"), table_name="nlu_labels")
    op.drop_index(op.f("ix_nlu_labels_sender_id"), table_name="nlu_labels")
    op.drop_table("nlu_labels")
