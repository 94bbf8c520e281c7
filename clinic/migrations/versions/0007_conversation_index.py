"""Staff console: an index of conversations kept from the tracker store (summaries, review messages, days).

Revision ID: 0007_conversation_index
Revises: 0006_messaging_inbound
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_conversation_index"
down_revision = "0006_messaging_inbound"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_summaries",
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("conversation_key", sa.String(24), nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        sa.Column("last_active", sa.Float(), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("handoff_requested", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("waiting_since", sa.Float(), nullable=True),
        sa.Column("triage_result", sa.String(20), nullable=True),
        sa.Column("red_flags", sa.String(255), nullable=False),
        sa.Column("offered_booking", sa.Boolean(), nullable=False),
        sa.Column("booking_outcome", sa.String(20), nullable=True),
        sa.Column("last_message", sa.Text(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", name=op.f("pk_conversation_summaries")),
    )
    for column in ("conversation_key", "started", "last_active", "channel", "paused", "triage_result"):
        op.create_index(op.f(f"ix_conversation_summaries_{column}"), "conversation_summaries", [column])
    op.create_table(
        "review_messages",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("entities", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_review_messages")),
    )
    for column in ("sender_id", "at", "confidence"):
        op.create_index(op.f(f"ix_review_messages_{column}"), "review_messages", [column])
    op.create_index("ix_review_messages_fallback_confidence", "review_messages", ["fallback", "confidence"])
    op.create_table(
        "message_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_message_days")),
    )
    op.create_table(
        "conversation_index_state",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_conversation_index_state")),
    )


def downgrade() -> None:
    op.drop_table("conversation_index_state")
    op.drop_table("message_days")
    op.drop_index("ix_review_messages_fallback_confidence", table_name="review_messages")
    for column in ("sender_id", "at", "confidence"):
        op.drop_index(op.f(f"ix_review_messages_{column}"), table_name="review_messages")
    op.drop_table("review_messages")
    for column in ("conversation_key", "started", "last_active", "channel", "paused", "triage_result"):
        op.drop_index(op.f(f"ix_conversation_summaries_{column}"), table_name="conversation_summaries")
    op.drop_table("conversation_summaries")
