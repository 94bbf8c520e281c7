"""The console's index of conversations, in the clinic database (kept up to date from the tracker store).

One row per conversation (`conversation_summaries`), the patients' messages the NLU was least sure of
(`review_messages`), messages per day (`message_days`) and where the index has read up to
(`conversation_index_state`). Built by `clinic.conversations.index.ConversationIndex.refresh` from the
tracker events newer than the last one it read, so no request replays every event. Times are epoch
seconds, like the tracker store's. Staff's notes and tags on a conversation (`conversation_notes`, their
words in `conversation_note_words`, `conversation_tags`) are written by clinic.conversations.notes.
"""

from sqlalchemy import Boolean, CheckConstraint, Column, Date, Float, ForeignKey, Index, Integer, String, Text

from clinic.db.base import Base


class ConversationRow(Base):
    """A conversation as the console lists it (what its events say; bookings come from the bookings table)."""

    __tablename__ = "conversation_summaries"

    sender_id = Column(String(255), primary_key=True)
    # HMAC of the sender id with the console's secret: computed once, used in URLs and the audit log.
    conversation_key = Column(String(24), nullable=False, index=True)
    started = Column(Float, nullable=False, index=True)
    last_active = Column(Float, nullable=False, index=True)
    channel = Column(String(40), nullable=False, default="", index=True)
    messages = Column(Integer, nullable=False, default=0)
    fallbacks = Column(Integer, nullable=False, default=0)
    handoff_requested = Column(Boolean, nullable=False, default=False)
    paused = Column(Boolean, nullable=False, default=False, index=True)
    waiting_since = Column(Float, nullable=True)
    triage_result = Column(String(20), nullable=True, index=True)
    red_flags = Column(String(255), nullable=False, default="")  # space-separated
    offered_booking = Column(Boolean, nullable=False, default=False)
    booking_outcome = Column(String(20), nullable=True)
    last_message = Column(Text, nullable=False, default="")
    last_event_id = Column(Integer, nullable=False, default=0)
    # A question passed on to the team, not yet answered by staff (the patient's words), and since when.
    team_question = Column(Text, nullable=True)
    question_since = Column(Float, nullable=True, index=True)


class ReviewMessage(Base):
    """A patient's message the NLU was unsure of (or did not understand): material for the review page."""

    __tablename__ = "review_messages"

    event_id = Column(Integer, primary_key=True)  # the tracker event's id
    sender_id = Column(String(255), nullable=False, index=True)
    at = Column(Float, nullable=False, index=True)
    text = Column(Text, nullable=False)
    intent = Column(String(64), nullable=False, default="")
    confidence = Column(Float, nullable=False, index=True)
    fallback = Column(Boolean, nullable=False, default=False)
    entities = Column(Text, nullable=False, default="[]")  # JSON, as the NLU gave them

    __table_args__ = (Index("ix_review_messages_fallback_confidence", "fallback", "confidence"),)


class MessageDay(Base):
    """Patients' messages per day (UTC) and how many the bot did not understand."""

    __tablename__ = "message_days"

    day = Column(Date, primary_key=True)
    messages = Column(Integer, nullable=False, default=0)
    fallbacks = Column(Integer, nullable=False, default=0)


class IndexState(Base):
    """How far the index has read (last_event_id) and which secret its keys were made with."""

    __tablename__ = "conversation_index_state"

    name = Column(String(40), primary_key=True)
    value = Column(String(255), nullable=False)


class NluLabel(Base):
    """A member of staff's verdict on a review message: its right intent, or not a real message."""

    __tablename__ = "nlu_labels"

    event_id = Column(Integer, primary_key=True)  # the review message's tracker event id
    sender_id = Column(String(255), nullable=False, index=True)  # for erasure
    text = Column(Text, nullable=False)  # with placeholders for names, phone numbers and e-mails
    intent = Column(String(64), nullable=True)  # None when not a real message
    status = Column(String(12), nullable=False)  # labelled | not_real
    labelled_by = Column(String(64), nullable=False)
    labelled_at = Column(Float, nullable=False, index=True)

    __table_args__ = (CheckConstraint("status IN ('labelled', 'not_real')", name="status"),)


# Byte order on PostgreSQL too (SQLite's default is already binary), so a prefix is a range of the index:
# word >= 'gp' AND word < 'gq' finds every word starting with "gp" through the index, whatever the locale.
WORD = String(40).with_variant(String(40, collation="C"), "postgresql")


class ConversationNote(Base):
    """A member of staff's note on a conversation ("called back, GP letter posted")."""

    __tablename__ = "conversation_notes"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    text = Column(Text, nullable=False)
    author = Column(String(64), nullable=False)
    created_at = Column(Float, nullable=False, index=True)  # epoch seconds


class NoteWord(Base):
    """A word of a note (lower case, contact details masked first): what the note search looks up."""

    __tablename__ = "conversation_note_words"

    note_id = Column(Integer, ForeignKey("conversation_notes.id", ondelete="CASCADE"), primary_key=True)
    word = Column(WORD, primary_key=True)
    sender_id = Column(String(255), nullable=False)

    __table_args__ = (Index("ix_conversation_note_words_word_sender_id", "word", "sender_id"),)


class ConversationTag(Base):
    """A tag staff put on a conversation ("called back", "needs GP letter")."""

    __tablename__ = "conversation_tags"

    sender_id = Column(String(255), primary_key=True)
    tag = Column(String(40), primary_key=True)
    added_by = Column(String(64), nullable=False)
    added_at = Column(Float, nullable=False, index=True)

    __table_args__ = (Index("ix_conversation_tags_tag_sender_id", "tag", "sender_id"),)
