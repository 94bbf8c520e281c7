"""The clinic's numbers from the conversations: volume, triage mix, conversion, fallbacks, weak spots."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Dict, Iterable, List, Optional

from clinic.conversations.repository import ConversationRepository
from clinic.conversations.summary import parse_data, to_datetime, top_confidence

TRIAGE_OUTCOMES = ("milia", "pustule", "uncertain", "urgent")
BOOKABLE = ("milia", "pustule", "uncertain")


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
    bookable: int
    booked: int
    messages_per_day: List[int]
    fallbacks_per_day: List[int]
    weakest: List[WeakMessage] = field(default_factory=list)

    @property
    def conversion(self) -> Optional[float]:
        """Share of conversations that could book (not urgent, assessed) that did."""
        return self.booked / self.bookable if self.bookable else None

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


def compute(repo: ConversationRepository, days: int = 30, today: Optional[date] = None,
            weakest: int = 15, booked_senders: Iterable[str] = ()) -> Insights:
    """Figures over the last `days` days (UTC); `booked_senders` come from the bookings table."""
    booked_senders = set(booked_senders)
    today = today or datetime.now(timezone.utc).date()
    first = today - timedelta(days=days - 1)
    calendar = [first + timedelta(days=i) for i in range(days)]
    index = {day: i for i, day in enumerate(calendar)}
    per_day = [0] * days
    mix: Counter = Counter()
    bookable = booked = total = 0
    for summary in repo.summaries():
        if summary.started is None or summary.started.date() not in index:
            continue
        total += 1
        per_day[index[summary.started.date()]] += 1
        mix[summary.triage_result or "no result"] += 1
        if summary.triage_result in BOOKABLE:
            bookable += 1
            booked += summary.booked or summary.sender_id in booked_senders
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
        fallbacks[i] += row["intent_name"] == "nlu_fallback"
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
        conversations=total,
        bookable=bookable,
        booked=booked,
        messages_per_day=messages,
        fallbacks_per_day=fallbacks,
        weakest=weak[:weakest],
    )
