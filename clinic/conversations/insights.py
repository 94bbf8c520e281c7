"""The clinic's numbers from the conversations: volume, triage mix, conversion, fallbacks, weak spots."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Dict, List, Mapping, Optional

from clinic.conversations.repository import ConversationRepository
from clinic.conversations.summary import (
    FALLBACK_INTENT,
    ConversationSummary,
    parse_data,
    to_datetime,
    top_confidence,
)

TRIAGE_OUTCOMES = ("milia", "pustule", "uncertain", "urgent")


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
    declined: int  # offered, said no at the summary (or stopped), and no booking
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
    """offered, booked, declined, cancelled, attended over these conversations (bookings: the table's)."""
    figures = dict.fromkeys(("offered", "booked", "declined", "cancelled", "attended"), 0)
    for summary in summaries:
        statuses = bookings.get(summary.sender_id) or {}
        booked = any(n for status, n in statuses.items() if status != "cancelled")
        offered = summary.offered_booking or bool(statuses)
        figures["offered"] += offered
        figures["booked"] += booked
        figures["declined"] += offered and not statuses and summary.booking_outcome == "declined"
        figures["cancelled"] += statuses.get("cancelled", 0)
        figures["attended"] += statuses.get("attended", 0)
    return figures


def compute(repo: ConversationRepository, days: int = 30, today: Optional[date] = None,
            weakest: int = 15, bookings: Optional[Mapping[str, Mapping[str, int]]] = None) -> Insights:
    """Figures over the last `days` days (UTC); `bookings` (sender -> status -> n) from the bookings table."""
    bookings = bookings or {}
    today = today or datetime.now(timezone.utc).date()
    first = today - timedelta(days=days - 1)
    calendar = [first + timedelta(days=i) for i in range(days)]
    index = {day: i for i, day in enumerate(calendar)}
    per_day = [0] * days
    mix: Counter = Counter()
    shown = [s for s in repo.summaries() if s.started is not None and s.started.date() in index]
    for summary in shown:
        per_day[index[summary.started.date()]] += 1
        mix[summary.triage_result or "no result"] += 1
    since = datetime.combine(first, datetime.min.time(), tzinfo=timezone.utc).timestamp()
    messages = [0] * days
    fallbacks = [0] * days
    weak: List[WeakMessage] = []
    for row in repo.user_messages(since, with_data=True):
        at = to_datetime(row["timestamp"])
        i = index.get(at.date()) if at else None
        if i is None:
            continue
        messages[i] += 1
        fallbacks[i] += row["intent_name"] == FALLBACK_INTENT
        data = parse_data(row.get("data"))
        text = str(data.get("text") or "")
        if not text or text.startswith("/"):  # button payloads are not the NLU's work
            continue
        parse = data.get("parse_data") or {}
        confidence = top_confidence(parse)
        if confidence is None:
            continue
        ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
        best = max(ranking, key=lambda r: r.get("confidence") or 0)["name"] if ranking else (
            (parse.get("intent") or {}).get("name") or "")
        weak.append(WeakMessage(row["sender_id"], at, text, str(best), confidence))
    weak.sort(key=lambda w: w.confidence)
    ordered_mix = {k: mix[k] for k in TRIAGE_OUTCOMES + ("no result",) if mix[k]}
    return Insights(
        days=calendar,
        conversations_per_day=per_day,
        triage_mix=ordered_mix,
        conversations=len(shown),
        **booking_figures(shown, bookings),
        messages_per_day=messages,
        fallbacks_per_day=fallbacks,
        weakest=weak[:weakest],
    )
