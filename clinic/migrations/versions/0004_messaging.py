"""Messaging channels: opt-out state per address, numbered options awaiting a reply.

Revision ID: 0004_messaging
Revises: 0003_staff
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_messaging"
down_revision = "0003_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messaging_consent",
        sa.Column("address", sa.String(32), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("keyword", sa.String(16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_messaging_consent")),
    )
    op.create_table(
        "messaging_reply_options",
        sa.Column("address", sa.String(32), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_messaging_reply_options")),
    )


def downgrade() -> None:
    op.drop_table("messaging_reply_options")
    op.drop_table("messaging_consent")
