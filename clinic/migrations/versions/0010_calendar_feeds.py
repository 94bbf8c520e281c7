"""Staff: each practitioner's iCalendar feed at a secret, revocable URL (the token stored hashed).

Revision ID: 0010_calendar_feeds
Revises: 0009_nlu_labels
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_calendar_feeds"
down_revision = "0009_nlu_labels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("practitioner_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_fetched_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["practitioner_id"], ["practitioners.id"], ondelete="CASCADE",
                                name=op.f("fk_calendar_feeds_practitioner_id_practitioners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )
    op.create_index(op.f("ix_calendar_feeds_practitioner_id"), "calendar_feeds", ["practitioner_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_calendar_feeds_practitioner_id"), table_name="calendar_feeds")
    op.drop_table("calendar_feeds")
