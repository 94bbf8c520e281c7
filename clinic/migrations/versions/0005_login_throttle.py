"""Staff console: failed sign-ins as counters with exponential backoff (replaces one row per failure).

Revision ID: 0005_login_throttle
Revises: 0004_messaging
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_login_throttle"
down_revision = "0004_messaging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_failure_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_staff_login_throttle")),
    )
    op.create_index(op.f("ix_staff_login_throttle_last_failure_ms"), "staff_login_throttle",
                    ["last_failure_ms"])
    op.drop_table("staff_login_failures")


def downgrade() -> None:
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failures")),
    )
    op.create_index(op.f("ix_staff_login_failures_username"), "staff_login_failures", ["username"])
    op.create_index(op.f("ix_staff_login_failures_client_ip"), "staff_login_failures", ["client_ip"])
    op.create_index(op.f("ix_staff_login_failures_at"), "staff_login_failures", ["at"])
    op.drop_table("staff_login_throttle")
