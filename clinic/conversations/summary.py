"""Pure functions that turn tracker events into what the staff console shows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple, overload

from clinic.contract import NLU_FALLBACK, BookingOutcome, BookingStatus, Intent, Slot, TriageResult
from clinic.hardening.input_guard import PUBLIC_PAYLOADS

# Every slot and intent name read here is the contract's (clinic/contract.py, checked against domain/), and
# the action's is the domain's (tests/unit/test_console_figures.py checks): the booking itself is never
# guessed from names, it comes from the bookings table.
TRIAGE_SLOT = Slot.TRIAGE_RESULT
RED_FLAGS_SLOT = Slot.RED_FLAGS
# action_start_booking sets it false when a booking can go ahead (true after an urgent triage).
BOOKING_BLOCKED_SLOT = Slot.BOOKING_BLOCKED
# action_submit_booking: booked | taken | declined | failed ("no" at the summary is declined).
BOOKING_OUTCOME_SLOT = Slot.BOOKING_OUTCOME
PATIENT_NAME_SLOT = Slot.PATIENT_NAME
# action_pass_question_on: the patient's words, a question for the team (the bot is not paused for it).
TEAM_QUESTION_SLOT = Slot.TEAM_QUESTION
HANDOFF_INTENT = Intent.HUMAN_HANDOFF
ERASE_ACTION = "action_delete_my_data"  # the tracker store deletes the conversation right after it
FALLBACK_INTENT = NLU_FALLBACK  # Rasa's own (FallbackClassifier), not in the domain
DOMAIN_SLOTS = (TRIAGE_SLOT, RED_FLAGS_SLOT, BOOKING_BLOCKED_SLOT, BOOKING_OUTCOME_SLOT, PATIENT_NAME_SLOT,
                TEAM_QUESTION_SLOT)
DOMAIN_INTENTS = (HANDOFF_INTENT,)
DOMAIN_ACTIONS = (ERASE_ACTION,)
# The assessment offers a booking for these results (domain/triage.yml utter_assessment's buttons).
BOOKABLE_RESULTS = (TriageResult.MILIA, TriageResult.PUSTULE, TriageResult.UNCERTAIN)
# What the list shows for a conversation's bookings, the first status it has in this order.
SHOWN_STATUSES = (
    BookingStatus.ATTENDED, BookingStatus.BOOKED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED,
)
RESETTING_EVENTS = ("session_started", "restart")


@overload
def to_datetime(timestamp: float) -> datetime: ...
@overload
def to_datetime(timestamp: Optional[float]) -> Optional[datetime]: ...
def to_datetime(timestamp: Optional[float]) -> Optional[datetime]:
    """A tracker timestamp (epoch seconds) as an aware UTC datetime."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc)


def parse_data(raw: Optional[str]) -> Dict[str, Any]:
    """An event's JSON; {} when missing or malformed (never an exception)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


@dataclass
class ConversationSummary:
    """One row of the conversations list, folded event by event (`apply`), so it can be kept up to date.

    What the conversation says only: whether it booked, cancelled or attended comes from the bookings
    table (`bookings`, filled by the repository), never from the events.
    """

    sender_id: str
    started: Optional[datetime] = None
    last_active: Optional[datetime] = None
    channel: str = ""
    messages: int = 0
    fallbacks: int = 0
    handoff_requested: bool = False
    paused: bool = False
    waiting_since: Optional[datetime] = None
    triage_result: Optional[str] = None
    red_flags: List[str] = field(default_factory=list)
    offered_booking: bool = False
    booking_outcome: Optional[str] = None
    last_message: str = ""
    last_event_id: int = 0
    # A question passed on to the team and not yet answered by staff (the patient's words), and since when.
    team_question: Optional[str] = None
    question_since: Optional[datetime] = None
    # Bookings made in this conversation, by status (booked, cancelled, attended, no_show): the table's.
    bookings: Dict[str, int] = field(default_factory=dict)

    @property
    def needs_a_person(self) -> bool:
        """Whether the console's inbox lists it: the bot paused for a person, or a question awaits staff."""
        return self.paused or self.team_question is not None

    @property
    def booked(self) -> bool:
        """A booking that stands (booked, attended or a no-show): what conversion counts."""
        return any(n for status, n in self.bookings.items() if status != BookingStatus.CANCELLED)

    @property
    def booking_status(self) -> str:
        """What the list shows: attended, booked, no-show, cancelled, declined, or ""."""
        for status in SHOWN_STATUSES:
            if self.bookings.get(status):
                return status.value.replace("_", "-")
        return BookingOutcome.DECLINED.value if self.booking_outcome == BookingOutcome.DECLINED else ""

    def apply(self, row: Dict[str, Any]) -> None:
        """Fold one tracker event (a row of the events table, in id order) into the summary."""
        kind = row.get("type_name")
        at = to_datetime(row.get("timestamp"))
        if row.get("id"):
            self.last_event_id = max(self.last_event_id, int(row["id"]))
        if kind == "action" and row.get("action_name") == ERASE_ACTION:
            ConversationSummary.__init__(  # erased right after: a fresh summary, in place
                self, sender_id=self.sender_id, last_event_id=self.last_event_id)
            return
        if at is not None:
            self.started = self.started or at
            self.last_active = at
        if kind == "user":
            data = parse_data(row.get("data"))
            intent = row.get("intent_name")
            self.messages += 1
            self.fallbacks += intent == FALLBACK_INTENT
            self.handoff_requested |= intent == HANDOFF_INTENT
            self.channel = self.channel or str(data.get("input_channel") or "")
            text = str(data.get("text") or "")
            if text:
                self.last_message = text[:500]
        elif kind == "bot" and (parse_data(row.get("data")).get("metadata") or {}).get("staff_reply"):
            self.team_question, self.question_since = None, None  # staff have answered
        elif kind in ("slot", "pause", "resume") + RESETTING_EVENTS:
            self.apply_state_event(kind, parse_data(row.get("data")), at)

    def apply_state_event(self, type_name: str, data: Dict[str, Any], at: Optional[datetime] = None) -> None:
        """Fold a slot / pause / resume / session event (in order) into the summary."""
        if type_name == "pause":
            self.waiting_since = self.waiting_since if self.paused else at
            self.paused = True
        elif type_name in ("resume",) + RESETTING_EVENTS:
            self.paused = False
            self.waiting_since = None
            if type_name != "resume":
                self.team_question, self.question_since = None, None
        elif type_name == "slot":
            name, value = data.get("name"), data.get("value")
            if name == TRIAGE_SLOT and value:
                self.triage_result = str(value)
                self.offered_booking |= self.triage_result in BOOKABLE_RESULTS
            elif name == TRIAGE_SLOT and self.triage_result == TriageResult.URGENT:
                self.triage_result = None  # staff cleared the warning sign (only they can)
            elif name == RED_FLAGS_SLOT and value:
                flags = value if isinstance(value, list) else [value]
                self.red_flags = sorted(set(self.red_flags) | {str(f) for f in flags})
            elif name == BOOKING_BLOCKED_SLOT and value is False:
                self.offered_booking = True  # the booking form started (also without a triage)
            elif name == BOOKING_OUTCOME_SLOT and value:
                self.booking_outcome = str(value)
            elif name == TEAM_QUESTION_SLOT and value:
                self.team_question, self.question_since = str(value)[:500], at


def summarise(sender_id: str, rows: Iterable[Dict[str, Any]]) -> Optional[ConversationSummary]:
    """A conversation's summary from its events in order (None when there are none)."""
    summary = ConversationSummary(sender_id=sender_id)
    for row in rows:
        summary.apply(row)
    return summary if summary.started is not None else None


def top_confidence(parse: Dict[str, Any]) -> Optional[float]:
    """The NLU's confidence in its best real intent (nlu_fallback is the absence of one)."""
    ranking = [
        r for r in parse.get("intent_ranking") or []
        if isinstance(r, dict) and r.get("name") != FALLBACK_INTENT
    ]
    if ranking:
        return max(float(r.get("confidence") or 0.0) for r in ranking)
    intent = parse.get("intent") or {}
    if intent.get("name") and intent.get("name") != FALLBACK_INTENT:
        return float(intent.get("confidence") or 0.0)
    return None


@dataclass
class TranscriptItem:
    """One line of a transcript as the console draws it."""

    kind: str  # user | bot | staff | slot | action | pause | resume | session | other
    at: Optional[datetime]
    text: str = ""
    buttons: List[Dict[str, str]] = field(default_factory=list)
    intent: Optional[str] = None
    confidence: Optional[float] = None
    ranking: List[Dict[str, Any]] = field(default_factory=list)
    entities: List[Dict[str, Any]] = field(default_factory=list)
    name: Optional[str] = None
    value: Any = None
    author: Optional[str] = None
    # A patient's tap on a button (or its number, over SMS): the payload sent; `text` is the button's title.
    payload: Optional[str] = None


    @property
    def tapped(self) -> bool:
        """Whether the patient chose one of the bot's buttons (not a channel's own opening payload)."""
        return self.payload is not None and self.payload not in PUBLIC_PAYLOADS


# What a channel's own payload (the widget opens with /greet) shows as.
OPENED_THE_CHAT = "Opened the chat"


def _as_said(text: str, offered: Dict[str, str]) -> Tuple[str, Optional[str]]:
    """(what to show, payload): a button the bot offered shows as its title, like the patient saw it."""
    key = text.strip()
    if key in offered:
        return offered[key], key
    if key in PUBLIC_PAYLOADS:
        return OPENED_THE_CHAT, key
    return text, None


def transcript(rows: Iterable[Dict[str, Any]]) -> List[TranscriptItem]:
    """Events (dicts with type_name, timestamp, data) -> chat bubbles and detail lines."""
    items: List[TranscriptItem] = []
    offered: Dict[str, str] = {}  # payload -> title of the buttons shown so far
    for row in rows:
        data = parse_data(row.get("data"))
        kind = row.get("type_name")
        at = to_datetime(row.get("timestamp"))
        if kind == "user":
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            shown, payload = _as_said(str(data.get("text") or ""), offered)
            items.append(TranscriptItem(
                kind="user",
                at=at,
                text=shown,
                payload=payload,
                intent=intent.get("name"),
                confidence=_float(intent.get("confidence")),
                ranking=[r for r in (parse.get("intent_ranking") or [])[:5] if isinstance(r, dict)],
                entities=[e for e in parse.get("entities") or [] if isinstance(e, dict)],
            ))
        elif kind == "bot":
            metadata = data.get("metadata") or {}
            bot_data = data.get("data") or {}
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in bot_data.get("buttons") or [] if isinstance(b, dict)
            ]
            offered.update({b["payload"].strip(): b["title"] for b in buttons if b["payload"] and b["title"]})
            staff = metadata.get("staff_reply")
            items.append(TranscriptItem(
                kind="staff" if staff else "bot",
                at=at,
                text=str(data.get("text") or ""),
                buttons=buttons,
                author=str(metadata.get("staff") or "") or None,
                name=metadata.get("utter_action"),
            ))
        elif kind == "slot":
            items.append(TranscriptItem(kind="slot", at=at, name=data.get("name"), value=data.get("value")))
        elif kind == "action":
            name = data.get("name")
            if name and name != "action_listen":
                items.append(TranscriptItem(kind="action", at=at, name=name))
        elif kind in ("pause", "resume"):
            items.append(TranscriptItem(kind=kind, at=at))
        elif kind in RESETTING_EVENTS:
            items.append(TranscriptItem(kind="session", at=at, name=kind))
    return items


def _float(value: Any) -> Optional[float]:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
