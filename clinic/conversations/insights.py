"""The clinic's numbers from the conversations: volume, triage mix, conversion, fallbacks, weak spots."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional

from clinic.contract import BookingOutcome, BookingStatus, TriageResult
from clinic.conversations.summary import ConversationSummary, to_datetime

if TYPE_CHECKING:
    from clinic.conversations.index import ConversationIndex

TRIAGE_OUTCOMES = TriageResult.values()


@dataclass
class WeakMessage:
    """A patient's message the NLU was least sure about (material for NLU training)."""

    sender_id: str
    at: Optional[datetime]
    text: str
    intent: str
    confidence: float


@dataclass
class Insights:
    """Everything the insights page shows, for `days` days up to `today`."""

    days: List[date]
    conversations_per_day: List[int]
    triage_mix: Dict[str, int]
    conversations: int
    offered: int  # offered a booking: by the assessment, or the booking form started (also without a triage)
    booked: int  # conversations with a booking that stands (booked, attended, no-show) in the bookings table
    declined: int  # offered, said no at the summary, and no booking
    cancelled: int  # bookings of these conversations cancelled since (patient or clinic)
    attended: int  # bookings of these conversations the patient came to
    messages_per_day: List[int]
    fallbacks_per_day: List[int]
    weakest: List[WeakMessage] = field(default_factory=list)

    @property
    def conversion(self) -> Optional[float]:
        """Share of the conversations offered a booking that booked (the bookings table's word)."""
        return self.booked / self.offered if self.offered else None

    @property
    def fallback_rate(self) -> Optional[float]:
        """Share of patients' messages the bot did not understand."""
        total = sum(self.messages_per_day)
        return sum(self.fallbacks_per_day) / total if total else None

    @property
    def fallback_rate_per_day(self) -> List[Optional[float]]:
        """Daily share of not-understood messages (None on a day without messages)."""
        pairs = zip(self.fallbacks_per_day, self.messages_per_day, strict=True)
        return [f / m if m else None for f, m in pairs]


def booking_figures(summaries: List[ConversationSummary],
                    bookings: Mapping[str, Mapping[str, int]]) -> Dict[str, int]:
    """Offered, booked, declined, cancelled, attended over these conversations (bookings: the table's)."""
    figures = dict.fromkeys(("offered", "booked", "declined", "cancelled", "attended"), 0)
    for summary in summaries:
        statuses = bookings.get(summary.sender_id) or {}
        booked = any(n for status, n in statuses.items() if status != BookingStatus.CANCELLED)
        offered = summary.offered_booking or bool(statuses)
        figures["offered"] += offered
        figures["booked"] += booked
        figures["declined"] += offered and not statuses and summary.booking_outcome == BookingOutcome.DECLINED
        figures["cancelled"] += statuses.get(BookingStatus.CANCELLED, 0)
        figures["attended"] += statuses.get(BookingStatus.ATTENDED, 0)
    return figures


def first_day(days: int = 30, today: Optional[date] = None) -> datetime:
    """Midnight UTC of the first of the last `days` days."""
    today = today or datetime.now(timezone.utc).date()
    return datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), tzinfo=timezone.utc)


def compute(
    index: ConversationIndex, days: int = 30, today: Optional[date] = None, weakest: int = 15
) -> Insights:
    """Figures over the last `days` days (UTC), from the conversation index (ConversationIndex)."""
    first = first_day(days, today)
    calendar = [first.date() + timedelta(days=i) for i in range(days)]
    position = {day: i for i, day in enumerate(calendar)}
    window = index.window(first.timestamp(), weakest=weakest)
    per_day = [0] * days
    mix: Counter[str] = Counter()
    dated = [(s, s.started.date()) for s in window.summaries if s.started is not None]
    shown_on = [(s, day) for s, day in dated if day in position]
    shown = [s for s, _ in shown_on]
    for summary, day in shown_on:
        per_day[position[day]] += 1
        mix[summary.triage_result or "no result"] += 1
    messages = [window.days.get(day, (0, 0))[0] for day in calendar]
    fallbacks = [window.days.get(day, (0, 0))[1] for day in calendar]
    ordered_mix = {k: mix[k] for k in TRIAGE_OUTCOMES + ("no result",) if mix[k]}
    return Insights(
        days=calendar,
        conversations_per_day=per_day,
        triage_mix=ordered_mix,
        conversations=len(shown),
        **booking_figures(shown, window.bookings),
        messages_per_day=messages,
        fallbacks_per_day=fallbacks,
        weakest=[WeakMessage(w.sender_id, to_datetime(w.at), w.text, w.intent, w.confidence)
                 for w in window.weakest],
    )
