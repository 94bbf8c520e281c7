"""Staff console: notes and tags on a conversation, searchable (the notes' words indexed).

Revision ID: 0012_conversation_notes
Revises: 0011_reminder_replies
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_conversation_notes"
down_revision = "0011_reminder_replies"
branch_labels = None
depends_on = None

# Byte order on PostgreSQL (SQLite's default is binary already): a word prefix is a range of the index.
WORD = sa.String(40).with_variant(sa.String(40, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    op.create_index(op.f("ix_conversation_notes_sender_id"), "conversation_notes", ["sender_id"])
    op.create_index(op.f("ix_conversation_notes_created_at"), "conversation_notes", ["created_at"])
    op.create_table(
        "conversation_note_words",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("word", WORD, nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["conversation_notes.id"], ondelete="CASCADE",
                                name=op.f("fk_conversation_note_words_note_id_conversation_notes")),
        sa.PrimaryKeyConstraint("note_id", "word", name=op.f("pk_conversation_note_words")),
    )
    op.create_index("ix_conversation_note_words_word_sender_id", "conversation_note_words",
                    ["word", "sender_id"])
    op.create_table(
        "conversation_tags",
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("tag", sa.String(40), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
        sa.Column("added_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", "tag", name=op.f("pk_conversation_tags")),
    )
    op.create_index("ix_conversation_tags_tag_sender_id", "conversation_tags", ["tag", "sender_id"])
    op.create_index(op.f("ix_conversation_tags_added_at"), "conversation_tags", ["added_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_tags_added_at"), table_name="conversation_tags")
    op.drop_index("ix_conversation_tags_tag_sender_id", table_name="conversation_tags")
    op.drop_table("conversation_tags")
    op.drop_index("ix_conversation_note_words_word_sender_id", table_name="conversation_note_words")
    op.drop_table("conversation_note_words")
    op.drop_index(op.f("ix_conversation_notes_created_at"), table_name="conversation_notes")
    op.drop_index(op.f("ix_conversation_notes_sender_id"), table_name="conversation_notes")
    op.drop_table("conversation_notes")
