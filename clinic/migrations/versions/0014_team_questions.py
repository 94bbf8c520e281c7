"""Questions for the team: a conversation's question awaiting staff, listed in the console's inbox.

Revision ID: 0014_team_questions
Revises: 0013_waitlist
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_team_questions"
down_revision = "0013_waitlist"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_summaries") as table:
        table.add_column(sa.Column("team_question", sa.Text(), nullable=True))
        table.add_column(sa.Column("question_since", sa.Float(), nullable=True))
    op.create_index(op.f("ix_conversation_summaries_question_since"), "conversation_summaries",
                    ["question_since"])


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_summaries_question_since"), table_name="conversation_summaries")
    with op.batch_alter_table("conversation_summaries") as table:
        table.drop_column("question_since")
        table.drop_column("team_question")
