"""What the staff console's pages do, without HTTP: sign-in, conversations, handoff, erasure, insights, audit.

The pages (clinic/web/staff/) parse the request, call one method of `StaffConsole` and render what it
returns. Every read of patient data and every change is audited here, in the name of the `Actor` (who,
with which role, from where); refusing a request is the pages' part (`clinic.web.staff.security.refuse`).
The handoff actions talk to Rasa and are async (its HTTP client is); everything else is a plain call on
the databases, which the pages run off the event loop where the console always has.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Awaitable, Dict, List, Mapping, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from clinic.booking.handlers import BookingView, bookings_for_sender
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.contract import Slot
from clinic.conversations.index import ConversationIndex, Page
from clinic.conversations.insights import TRIAGE_OUTCOMES, Insights, WeakMessage, compute
from clinic.conversations.keys import conversation_key
from clinic.conversations.notes import SUGGESTED_TAGS, Note, NotesRepository, clean_tag, conditions
from clinic.conversations.repository import ConversationRepository
from clinic.conversations.summary import ConversationSummary, TranscriptItem, transcript
from clinic.privacy import erase_patient
from clinic.rasa_api import RasaClient, RasaUnavailable
from clinic.staff.accounts import audit, authenticate, end_session, resolve_session, start_session
from clinic.staff.models import AuditEntry

PAGE_SIZE = 50
MAX_REPLY = 1000  # characters of a staff reply (SMS patients get every one)
MAX_SEARCH = 255  # characters of a sender id searched for
MAX_NOTE_SEARCH = 100  # characters of a search in the notes
AUDIT_ENTRIES = 300  # the latest shown on the audit page
# A request reads at most this long of new tracker events into the index; the rest waits for the next.
REFRESH_BUDGET_SECONDS = 2.0

# The conversation list's filters and the values each may take ("channel" is checked against the index).
FILTERS: Dict[str, Tuple[str, ...]] = {
    "triage": TRIAGE_OUTCOMES + ("none",),
    "handoff": ("yes", "no"),
    "booked": ("yes", "no"),
    "flags": ("yes", "no"),
    "status": ("paused", "active"),
}

# What clearing an urgent conversation resets (clinic/safety.py keeps it urgent 14 days otherwise).
URGENT_CLEARED: List[Dict[str, Any]] = [
    {"event": "slot", "name": name.value, "value": None}
    for name in (Slot.TRIAGE_RESULT, Slot.RED_FLAGS, Slot.URGENT_SINCE, Slot.WARNING_SIGNS)
]

EXPORT_COLUMNS = ["sender_id", "channel", "started", "last_active", "messages", "triage_result", "red_flags",
                  "booked", "booking_status", "handoff_requested", "waiting_for_person", "fallbacks"]


@dataclass(frozen=True)
class Actor:
    """The member of staff a request is from: the audit log's name and address, and the role."""

    username: str
    is_admin: bool
    client_ip: str


def page_number(value: Optional[str]) -> int:
    """A list's `page` parameter: a number of at most six digits, else the first page."""
    return int(value) if value and value.isdigit() and len(value) < 7 else 1


def spreadsheet_cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (phone numbers stay as they are)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not re.fullmatch(r"\+?\d+", text):
        return "'" + text
    return text


def export_row(summary: ConversationSummary) -> List[str]:
    """One conversation's line of the CSV export (EXPORT_COLUMNS), every cell made safe."""
    s = summary
    return [spreadsheet_cell(v) for v in (
        s.sender_id, s.channel, s.started.isoformat() if s.started else "",
        s.last_active.isoformat() if s.last_active else "", s.messages, s.triage_result or "",
        " ".join(s.red_flags), "yes" if s.booked else "no", s.booking_status,
        "yes" if s.handoff_requested else "no",
        "yes" if s.paused else "no", s.fallbacks,
    )]


@dataclass(frozen=True)
class Search:
    """What the conversations list is asked for, as typed (checked against the data by `conversations`)."""

    filters: Mapping[str, str] = field(default_factory=dict)  # FILTERS' names; other values are ignored
    channel: str = ""
    query: str = ""  # a sender id (admins: any part of one)
    tag: str = ""
    note: str = ""  # words in the conversation's notes
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Search:
        """The list's query parameters (q, page, tag, note, channel and the FILTERS)."""
        return cls(
            filters={name: params[name] for name in FILTERS if name in params},
            channel=params.get("channel") or "",
            query=(params.get("q") or "").strip()[:MAX_SEARCH],
            tag=params.get("tag") or "",
            note=(params.get("note") or "").strip()[:MAX_NOTE_SEARCH],
            page=page_number(params.get("page")),
        )


@dataclass
class ConversationList:
    """One page of the conversations list, and what it was narrowed by (only values that exist)."""

    found: Page
    filters: Dict[str, str]
    query: str
    channels: List[str]
    tags: List[Tuple[str, int]]  # every tag in use, with its number of conversations
    tag: str
    note: str
    row_tags: Dict[str, List[str]]
    searched: Dict[str, str]  # filters, tag, note and query: the page links' parameters


@dataclass
class Inbox:
    """The conversations waiting for a person, each with what to show of it, and what the page showed."""

    rows: List[Tuple[ConversationSummary, str, str]]  # (summary, key, the team's question or last message)
    fingerprint: str


@dataclass
class Transcript:
    """One conversation's page: the transcript, its bookings, and staff's notes and tags."""

    summary: ConversationSummary
    items: List[TranscriptItem]
    bookings: List[BookingView]
    notes: List[Note]
    tags: List[str]
    offered_tags: List[str]  # tags in use and the suggested ones, but for those it has


@dataclass
class InsightsPage:
    """The clinic's figures, and the weakest messages with their conversations' keys."""

    figures: Insights
    weakest: List[Tuple[WeakMessage, str]]


class StaffConsole:
    """The console's work on the clinic database, the tracker store (through the index) and Rasa."""

    def __init__(self, db: sessionmaker, index: ConversationIndex, conversations: ConversationRepository,
                 rasa: RasaClient, secret_key: str, database_url: str) -> None:
        self.db = db
        self.index = index
        self.repository = conversations
        self.rasa = rasa
        self.secret_key = secret_key
        self.database_url = database_url
        self.notes = NotesRepository(db)

    def record(self, action: str, username: Optional[str], client_ip: str, target: Optional[str] = None,
               detail: Optional[str] = None) -> None:
        """An audit entry for something done."""
        with self.db() as db:
            audit(db, action, username=username, target=target, client_ip=client_ip, detail=detail)
            db.commit()

    def _record(self, actor: Actor, action: str, target: Optional[str] = None,
                detail: Optional[str] = None) -> None:
        self.record(action, actor.username, actor.client_ip, target=target, detail=detail)

    def key(self, sender_id: str) -> str:
        """The opaque key of a conversation, used in URLs and the audit log."""
        return conversation_key(self.secret_key, sender_id)

    # --- signing in and out -----------------------------------------------------------------------

    def signed_in(self, token: str) -> bool:
        """Whether the session token is live."""
        with self.db() as db:
            return resolve_session(db, token) is not None

    def sign_in(self, username: str, password: str, lifetime: timedelta, client_ip: str) -> Optional[str]:
        """Check the password; if right, a new session's token (the sign-in audited), else None.

        A wrong password is not audited: anyone could fill the audit log (the page logs it, in a budget).
        """
        with self.db() as db:
            user = authenticate(db, username, password)
            if user is None:
                return None
            token, _ = start_session(db, user, lifetime)
            audit(db, "login", username=user.username, client_ip=client_ip)
            db.commit()
            return token

    def sign_out(self, token: Optional[str], actor: Actor) -> None:
        """End the session (its token stops working at once), audited."""
        with self.db() as db:
            if token:
                end_session(db, token)
            audit(db, "logout", username=actor.username, client_ip=actor.client_ip)
            db.commit()

    # --- conversations ----------------------------------------------------------------------------

    def fresh_index(self) -> ConversationIndex:
        """The conversation index, brought up to date with the tracker store (newer events only)."""
        self.index.refresh(REFRESH_BUDGET_SECONDS)
        return self.index

    def find_sender(self, key: str) -> Optional[str]:
        """The sender behind an opaque key, or None (a guessed or stale URL)."""
        return self.fresh_index().sender_for_key(key)

    def conversations(self, search: Search, actor: Actor) -> ConversationList:
        """Every conversation, filtered and searched, PAGE_SIZE a page (SQL over the index); audited."""
        index = self.fresh_index()
        channels = index.channels()
        filters = {name: search.filters[name] for name, allowed in FILTERS.items()
                   if search.filters.get(name) in allowed}
        if search.channel in channels:
            filters["channel"] = search.channel
        # Reviewers find a conversation by its full sender id only: a partial search would let them
        # work out phone numbers they are shown masked.
        exact = not actor.is_admin
        tags = self.notes.tags_in_use()
        tag = clean_tag(search.tag)
        if tag not in {name for name, _ in tags}:
            tag = ""
        query, note = search.query, search.note
        found = index.page(filters, query, exact, search.page, PAGE_SIZE, conditions=conditions(tag, note))
        row_tags = self.notes.tags_for([summary.sender_id for summary, _ in found.rows])
        if query or note:
            self._record(actor, "search conversations",
                         detail=f"{found.found} found{' by their notes' if note else ''}")
        else:
            self._record(actor, "list conversations", detail=f"page {found.page}, {len(found.rows)} shown")
        searched = {**filters, **({"tag": tag} if tag else {}), **({"note": note} if note else {}),
                    **({"q": query} if query else {})}
        return ConversationList(found=found, filters=filters, query=query, channels=channels, tags=tags,
                                tag=tag, note=note, row_tags=row_tags, searched=searched)

    def inbox_fingerprint(self, username: str, waiting: List[Tuple[ConversationSummary, str]]) -> str:
        """What this member of staff is shown: the conversations and how far each has gone (keyed HMAC)."""
        shown = ";".join(f"{key}:{summary.last_event_id}" for summary, key in waiting)
        message = f"inbox|{username}|{shown}".encode()
        return hmac.new(self.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]

    def inbox(self, actor: Actor, seen: Optional[str]) -> Inbox:
        """Conversations waiting for a person, longest first; audited unless exactly as `seen` showed.

        `seen` is the fingerprint of what the page showed before it refreshed itself (None: opened anew).
        A reload that shows this member of staff exactly the same is not audited again (an inbox left open
        would otherwise write a row every half minute); any change, a new patient or message, is.
        """
        waiting = self.fresh_index().waiting()
        rows = [(summary, key, summary.team_question or summary.last_message) for summary, key in waiting]
        fingerprint = self.inbox_fingerprint(actor.username, waiting)
        if not hmac.compare_digest(seen or "", fingerprint):
            refreshed = " (refreshed)" if seen is not None else ""
            self._record(actor, "view inbox", detail=f"{len(rows)} waiting{refreshed}")
        return Inbox(rows=rows, fingerprint=fingerprint)

    def transcript(self, sender_id: str, actor: Actor) -> Optional[Transcript]:
        """One conversation, its bookings, notes and tags (each view audited); None if it has no events."""
        summary = self.index.summary(sender_id)
        items = transcript(self.repository.events_for(sender_id))
        if summary is None or not items:
            return None
        bookings = bookings_for_sender(unit_of_work_factory(self.database_url), sender_id)
        kept = self.notes.notes(sender_id)
        tags = self.notes.tags(sender_id)
        in_use = self.notes.tags_in_use()
        offered = list(dict.fromkeys([name for name, _ in in_use] + list(SUGGESTED_TAGS)))
        self._record(actor, "view transcript", target=self.key(sender_id))
        return Transcript(summary=summary, items=items, bookings=bookings, notes=kept, tags=tags,
                          offered_tags=[t for t in offered if t not in tags])

    # --- handoff: each returns the notice the conversation page shows -----------------------------

    async def reply(self, sender_id: str, text: str, actor: Actor) -> str:
        """A staff member answers the patient on the patient's own channel."""
        text = text.strip()
        if not text:
            return "empty"
        if len(text) > MAX_REPLY:
            return "too_long"
        return await self._handoff(sender_id, "staff reply", actor, "sent",
                                   self.rasa.send_staff_reply(sender_id, text, actor.username))

    async def take_over(self, sender_id: str, actor: Actor) -> str:
        """Pause the bot for this conversation so a person can answer."""
        return await self._handoff(sender_id, "take over", actor, "paused", self.rasa.pause(sender_id))

    async def hand_back(self, sender_id: str, actor: Actor) -> str:
        """Give the conversation back to the bot."""
        return await self._handoff(sender_id, "hand back", actor, "resumed", self.rasa.resume(sender_id))

    async def clear_urgent(self, sender_id: str, actor: Actor) -> str:
        """A member of staff who has spoken to the patient clears the warning sign (audited)."""
        return await self._handoff(sender_id, "clear urgent", actor, "urgent_cleared",
                                   self.rasa.append_events(sender_id, URGENT_CLEARED))

    async def _handoff(self, sender_id: str, action: str, actor: Actor, notice: str,
                       call: Awaitable[object]) -> str:
        """Await the call to Rasa, audited as done or as failed; `notice`, or "rasa_down" if it failed."""
        key = self.key(sender_id)
        try:
            await call
        except RasaUnavailable as error:
            self._record(actor, action, target=key, detail=f"failed: {error}")
            return "rasa_down"
        self._record(actor, action, target=key)
        return notice

    # --- erasure ------------------------------------------------------------------------------------

    def erase(self, sender_id: str, actor: Actor) -> Dict[str, int]:
        """Erase a conversation and the patient's personal data (audited with what was erased)."""
        with self.db() as db:
            erased = erase_patient(self.repository.engine, db, sender_id)
        self._record(actor, "erase conversation", target=self.key(sender_id),
                     detail=f"{erased['events']} events, {erased['personal_records']} personal records")
        return erased

    # --- insights, audit, export ----------------------------------------------------------------

    def insights(self, actor: Actor) -> InsightsPage:
        """The clinic's numbers over the last 30 days and the weakest messages (audited)."""
        figures = compute(self.fresh_index())
        weakest = [(w, self.key(w.sender_id)) for w in figures.weakest]
        self._record(actor, "view insights", detail=f"{len(weakest)} messages shown")
        return InsightsPage(figures=figures, weakest=weakest)

    def audit_log(self, sender: str, actor: Actor) -> List[AuditEntry]:
        """The latest AUDIT_ENTRIES audit entries, or those about one sender's conversation (audited).

        `sender` is any sender id typed in (trimmed, at most MAX_SEARCH characters), or "" for all.
        """
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_ENTRIES)
        if sender:
            query = query.where(AuditEntry.target == self.key(sender))
        with self.db() as db:
            entries: List[AuditEntry] = list(db.scalars(query))
        self._record(actor, "view audit log", target=self.key(sender) if sender else None)
        return entries

    def export_csv(self, actor: Actor) -> str:
        """Every conversation's summary as CSV, full sender ids (audited)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(EXPORT_COLUMNS)
        summaries = self.fresh_index().all_rows()
        for summary in summaries:
            writer.writerow(export_row(summary))
        self._record(actor, "export conversations", detail=f"{len(summaries)} rows")
        return buffer.getvalue()
