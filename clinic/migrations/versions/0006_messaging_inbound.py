"""Messaging channels: inbound Twilio messages seen (MessageSid), so a replay is answered once.

Revision ID: 0006_messaging_inbound
Revises: 0005_login_throttle
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_messaging_inbound"
down_revision = "0005_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messaging_inbound",
        sa.Column("message_sid", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_sid", name=op.f("pk_messaging_inbound")),
    )
    op.create_index(op.f("ix_messaging_inbound_received_at"), "messaging_inbound", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_messaging_inbound_received_at"), table_name="messaging_inbound")
    op.drop_table("messaging_inbound")
