"""Staff's notes and tags on a conversation ("called back", "needs GP letter"), found again with SQL.

Notes and tags belong to a conversation (its sender id) in the clinic database. The conversation list
filters on them through indexes only, so the filters stay fast at any number of conversations:

- a tag is an equality on `conversation_tags (tag, sender_id)`;
- a note search looks words up in `conversation_note_words (word, sender_id)`: each note's words, lower
  case, taken from the note with its contact details masked (so a search can't find a phone number a
  reviewer is shown masked). Each word searched for is a prefix ("call" finds "called"), a range of that
  index (binary collation); several words must all be in the conversation's notes.

Notes and tags are personal data about the patient: erased with them (`erase_sender`) and by retention
(`purge_before`), both registered in clinic.privacy.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from clinic.conversations.models import ConversationNote, ConversationRow, ConversationTag, NoteWord
from clinic.masking import mask_text

MAX_NOTE = 2000  # characters
MAX_TAG = 40
MAX_WORD = 40
MAX_TERMS = 5  # words of a note search (each one more index range)
TAGS_LISTED = 200
# Offered in the tag field alongside the tags already in use (a datalist: staff may type any tag).
SUGGESTED_TAGS = ("called back", "needs GP letter")
CHUNK = 500
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Note:
    """A note as the conversation page shows it."""

    id: int
    text: str
    author: str
    created_at: datetime


def clean_tag(text: str) -> str:
    """A tag as stored: printable, spaces collapsed, at most MAX_TAG characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text or "")
    return re.sub(r"\s+", " ", printable).strip()[:MAX_TAG].strip()


def words(text: str, masked: bool = True) -> List[str]:
    """The words a note is found by: lower case, the note's contact details masked first.

    `masked=False` for the words of a search, as typed (a phone number searched for finds nothing: the
    notes' numbers were masked before their words were kept).
    """
    found: Dict[str, None] = {}
    for word in _WORD.findall((mask_text(text or "") if masked else text or "").casefold()):
        found.setdefault(word[:MAX_WORD], None)
    return list(found)


def _after(prefix: str) -> str:
    """The first string after every string that starts with `prefix` (in code point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def conditions(tag: Optional[str] = None, text: str = "") -> List[Any]:
    """SQL conditions on the conversation list for a tag and a note search (each through an index)."""
    where: List[Any] = []
    if tag:
        where.append(ConversationRow.sender_id.in_(
            select(ConversationTag.sender_id).where(ConversationTag.tag == tag)))
    for term in words(text, masked=False)[:MAX_TERMS]:
        where.append(ConversationRow.sender_id.in_(
            select(NoteWord.sender_id).where(NoteWord.word >= term, NoteWord.word < _after(term))))
    return where


def _note(row: ConversationNote) -> Note:
    return Note(row.id, row.text, row.author, datetime.fromtimestamp(row.created_at, tz=timezone.utc))


class NotesRepository:
    """Notes and tags in the clinic database (one short session per call)."""

    def __init__(self, db: sessionmaker) -> None:
        self.db = db

    def notes(self, sender_id: str) -> List[Note]:
        """A conversation's notes, newest first."""
        with self.db() as db:
            rows = db.scalars(select(ConversationNote).where(ConversationNote.sender_id == sender_id)
                              .order_by(ConversationNote.created_at.desc(), ConversationNote.id.desc()))
            return [_note(row) for row in rows]

    def add_note(self, sender_id: str, text: str, author: str) -> Note:
        """Keep a note (its words indexed for the search)."""
        text = text.strip()[:MAX_NOTE]
        with self.db() as db:
            row = ConversationNote(sender_id=sender_id, text=text, author=author, created_at=time.time())
            db.add(row)
            db.flush()
            db.add_all(NoteWord(note_id=row.id, word=word, sender_id=sender_id) for word in words(text))
            db.commit()
            return _note(row)

    def note(self, sender_id: str, note_id: int) -> Optional[Note]:
        """One of the conversation's notes (None: no such note on this conversation)."""
        with self.db() as db:
            row = db.get(ConversationNote, note_id)
            return _note(row) if row is not None and row.sender_id == sender_id else None

    def delete_note(self, sender_id: str, note_id: int) -> bool:
        """Delete one of the conversation's notes and its words; False when there is no such note."""
        with self.db() as db:
            row = db.get(ConversationNote, note_id)
            if row is None or row.sender_id != sender_id:
                return False
            db.execute(delete(NoteWord).where(NoteWord.note_id == note_id))
            db.delete(row)
            db.commit()
            return True

    def tags(self, sender_id: str) -> List[str]:
        """A conversation's tags, alphabetically."""
        return self.tags_for([sender_id]).get(sender_id, [])

    def tags_for(self, senders: Iterable[str]) -> Dict[str, List[str]]:
        """The tags of each of these conversations (a page of the list)."""
        wanted = list(set(senders))
        found: Dict[str, List[str]] = {}
        with self.db() as db:
            for i in range(0, len(wanted), CHUNK):
                query = select(ConversationTag.sender_id, ConversationTag.tag).where(
                    ConversationTag.sender_id.in_(wanted[i:i + CHUNK]))
                for sender, tag in db.execute(query):
                    found.setdefault(sender, []).append(tag)
        return {sender: sorted(tags, key=str.casefold) for sender, tags in found.items()}

    def tags_in_use(self) -> List[Tuple[str, int]]:
        """(tag, conversations) for the tags in use, alphabetically (the list's filter)."""
        with self.db() as db:
            rows = db.execute(select(ConversationTag.tag, func.count()).group_by(ConversationTag.tag)
                              .order_by(ConversationTag.tag).limit(TAGS_LISTED)).all()
        return sorted(((tag, int(count)) for tag, count in rows), key=lambda r: r[0].casefold())

    def add_tag(self, sender_id: str, tag: str, author: str) -> Optional[str]:
        """Tag a conversation; the spelling already in use wins ("needs gp letter" -> "needs GP letter").

        Returns the tag as stored, or None when nothing is left of it once cleaned.
        """
        tag = clean_tag(tag)
        if not tag:
            return None
        with self.db() as db:
            same = db.scalar(select(ConversationTag.tag)
                             .where(func.lower(ConversationTag.tag) == tag.lower()).limit(1))
            tag = same or tag
            if db.get(ConversationTag, (sender_id, tag)) is None:
                db.add(ConversationTag(sender_id=sender_id, tag=tag, added_by=author, added_at=time.time()))
                db.commit()
        return tag

    def remove_tag(self, sender_id: str, tag: str) -> bool:
        """Take a tag off a conversation; False when it did not have it."""
        with self.db() as db:
            removed = db.execute(delete(ConversationTag).where(ConversationTag.sender_id == sender_id,
                                                               ConversationTag.tag == tag)).rowcount
            db.commit()
        return bool(removed)


# --- erasure and retention (registered in clinic.privacy) ---------------------------------------

def erase_sender(db: Session, sender_id: str) -> int:
    """A patient's erasure: the notes and tags on their conversation (caller commits)."""
    db.execute(delete(NoteWord).where(NoteWord.sender_id == sender_id))
    erased: int = db.execute(delete(ConversationNote).where(ConversationNote.sender_id == sender_id)).rowcount
    erased += db.execute(delete(ConversationTag).where(ConversationTag.sender_id == sender_id)).rowcount
    return erased


def purge_before(db: Session, cutoff: datetime) -> int:
    """Retention: notes and tags older than the cutoff (naive UTC), and those of conversations idle since.

    Runs before the index's purger, which forgets the idle conversations.
    """
    epoch = cutoff.replace(tzinfo=timezone.utc).timestamp()
    idle = select(ConversationRow.sender_id).where(ConversationRow.last_active < epoch)
    old_notes = or_(ConversationNote.created_at < epoch, ConversationNote.sender_id.in_(idle))
    quick = {"synchronize_session": False}
    db.execute(delete(NoteWord).where(NoteWord.note_id.in_(select(ConversationNote.id).where(old_notes)))
               .execution_options(**quick))
    erased: int = db.execute(delete(ConversationNote).where(old_notes).execution_options(**quick)).rowcount
    old_tags = or_(ConversationTag.added_at < epoch, ConversationTag.sender_id.in_(idle))
    erased += db.execute(delete(ConversationTag).where(old_tags).execution_options(**quick)).rowcount
    return erased
