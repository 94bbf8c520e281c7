"""The staff calendar's layout: a day as slots x practitioners, a week as practitioners x days.

Pure functions over the schedule snapshot and the bookings (`clinic.booking.handlers.BookingView`, times
on the clinic's clock): no database, no clock, no Starlette, so the layout is unit-tested on its own.

A day's rows are the schedule's slot grid (`slot_minutes`) from the earliest opening (or booking) to the
latest closing (or booking end); rows outside the opening hours (a lunch break) are marked closed. A
booking fills the rows it lasts (`Block.rows`, a `rowspan`); cancelled bookings hold no time and are
listed apart. Bookings of a practitioner who is no longer listed get a column of their own, and one
outside the opening hours widens the grid, so nothing booked is ever left out.

What each booking's card shows is decided here too (`booking_cards`: its status label, whether the
clinic may mark or cancel it, by `clinic.booking.handlers`' own rules, its messages' lines), so
bookings.html only displays it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from clinic.booking.availability import Schedule
from clinic.booking.handlers import BookingView, clinic_may_cancel, clinic_may_mark
from clinic.contract import BookingStatus
from clinic.outbox.repository import MessageView

CANCELLED = BookingStatus.CANCELLED
# A booking's status as the card words it.
STATUS_LABELS: Dict[str, str] = {
    BookingStatus.BOOKED: "booked",
    BookingStatus.CANCELLED: "cancelled",
    BookingStatus.ATTENDED: "attended",
    BookingStatus.NO_SHOW: "no-show",
}


@dataclass(frozen=True)
class Column:
    """A practitioner's column (or row, in the week)."""

    code: str
    name: str
    works: bool = True  # False: not working that day (or no longer listed)


@dataclass
class Block:
    """One or more bookings filling `rows` rows of a practitioner's column from `first_row`."""

    first_row: int
    rows: int
    bookings: List[BookingView] = field(default_factory=list)


class Covered:
    """A cell under a block that started in a row above (no <td> of its own)."""


COVERED = Covered()
Cell = Union[None, Block, Covered]


@dataclass
class Row:
    """One slot of the day: its start on the clinic's clock, open or not, a cell per column."""

    start: time
    open: bool
    cells: List[Cell]

    @property
    def label(self) -> str:
        """09:15."""
        return self.start.strftime("%H:%M")


@dataclass
class DayGrid:
    """A day of the calendar."""

    day: date
    columns: List[Column]
    rows: List[Row]
    closed: Optional[str]  # why the clinic is closed all day ("Training day", "closed"), else None
    active: List[BookingView]
    cancelled: List[BookingView]


@dataclass
class WeekDay:
    """A day column of the week."""

    day: date
    closed: Optional[str]


@dataclass
class WeekGrid:
    """A week of the calendar: a row per practitioner, a column per day, bookings listed in each cell."""

    days: List[WeekDay]
    columns: List[Column]  # the practitioners (rows of the table)
    cells: Dict[Tuple[str, date], List[BookingView]]
    cancelled: List[BookingView]

    def cell(self, code: str, day: date) -> List[BookingView]:
        """The practitioner's bookings that day, earliest first."""
        return self.cells.get((code, day), [])


def _order(booking: BookingView) -> Tuple[datetime, str]:
    return booking.starts_at, booking.reference


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def closed_reason(schedule: Schedule, day: date) -> Optional[str]:
    """Why the clinic is closed all day, or None when it opens."""
    if day in schedule.closed_days:
        return schedule.closed_days[day] or "closed"
    return None if schedule.hours.get(day.weekday()) else "closed"


def columns(schedule: Schedule, bookings: Sequence[BookingView], day: Optional[date] = None) -> List[Column]:
    """The practitioners in the schedule's order, then any only the bookings name (no longer listed)."""
    found = [
        Column(p.code, p.name, works=day is None or (p.works_on(day) and not schedule.is_closed(day)))
        for p in schedule.practitioners.values()
    ]
    known = {c.code for c in found}
    for booking in bookings:
        if booking.status != CANCELLED and booking.practitioner_code not in known:
            found.append(Column(booking.practitioner_code, booking.practitioner, works=False))
            known.add(booking.practitioner_code)
    return found


def day_grid(schedule: Schedule, day: date, bookings: Sequence[BookingView]) -> DayGrid:
    """Lay out one day's bookings (those not on `day` are ignored)."""
    mine = sorted((b for b in bookings if b.starts_at.date() == day), key=_order)
    active = [b for b in mine if b.status != CANCELLED]
    cancelled = [b for b in mine if b.status == CANCELLED]
    cols = columns(schedule, active, day)
    step = schedule.slot_minutes
    ranges = [(_minutes(o), _minutes(c)) for o, c in schedule.hours.get(day.weekday(), ())]
    if schedule.is_closed(day):
        ranges = []
    edges = [m for r in ranges for m in r]
    for b in active:
        edges.append(_minutes(b.starts_at.time()))
        # a booking running past midnight ends at the end of the grid's day
        edges.append(_minutes(b.ends_at.time()) if b.ends_at.date() == day else 24 * 60)
    rows: List[Row] = []
    if edges:
        first = min(edges) // step * step
        last = -(-max(edges) // step) * step
        count = max(1, (last - first) // step)
        starts = [first + i * step for i in range(count)]
        owner: List[List[Optional[Block]]] = [[None] * len(cols) for _ in starts]
        index = {c.code: i for i, c in enumerate(cols)}
        for b in active:
            col = index[b.practitioner_code]
            end = _minutes(b.ends_at.time()) if b.ends_at.date() == day else 24 * 60
            top = (_minutes(b.starts_at.time()) - first) // step
            bottom = max(top + 1, -(-(end - first) // step))
            _place(owner, col, Block(top, bottom - top, [b]))
        for r, minute in enumerate(starts):
            cells: List[Cell] = []
            for c in range(len(cols)):
                block = owner[r][c]
                cells.append(None if block is None else block if block.first_row == r else COVERED)
            is_open = any(opens <= minute < closes for opens, closes in ranges)
            rows.append(Row(time(minute // 60, minute % 60), is_open, cells))
    return DayGrid(day=day, columns=cols, rows=rows, closed=closed_reason(schedule, day), active=active,
                   cancelled=cancelled)


def _place(owner: List[List[Optional[Block]]], col: int, block: Block) -> None:
    """Put `block` in its column; blocks it overlaps (only after the slot grid changed) join it."""
    merging = True
    while merging:
        merging = False
        for r in range(block.first_row, block.first_row + block.rows):
            other = owner[r][col]
            if other is not None and other is not block:
                end = max(block.first_row + block.rows, other.first_row + other.rows)
                block.first_row = min(block.first_row, other.first_row)
                block.rows = end - block.first_row
                block.bookings = sorted(other.bookings + block.bookings, key=_order)
                for rr in range(other.first_row, other.first_row + other.rows):
                    owner[rr][col] = None
                merging = True
                break
    for r in range(block.first_row, block.first_row + block.rows):
        owner[r][col] = block


def week_grid(schedule: Schedule, monday: date, bookings: Sequence[BookingView]) -> WeekGrid:
    """Lay out the week from `monday` (seven days): practitioners x days."""
    days = [monday + timedelta(days=i) for i in range(7)]
    inside = [b for b in bookings if days[0] <= b.starts_at.date() <= days[-1]]
    active = sorted((b for b in inside if b.status != CANCELLED), key=_order)
    cells: Dict[Tuple[str, date], List[BookingView]] = {}
    for b in active:
        cells.setdefault((b.practitioner_code, b.starts_at.date()), []).append(b)
    return WeekGrid(
        days=[WeekDay(d, closed_reason(schedule, d)) for d in days],
        columns=columns(schedule, active),
        cells=cells,
        cancelled=sorted((b for b in inside if b.status == CANCELLED), key=_order),
    )


def works_on(schedule: Schedule, code: str, day: date) -> bool:
    """Whether the practitioner `code` works on `day` (the week's shading)."""
    for p in schedule.practitioners.values():
        if p.code == code:
            return p.works_on(day) and not schedule.is_closed(day)
    return False


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


# --- what a booking's card shows --------------------------------------------------------------------


@dataclass(frozen=True)
class MessageLine:
    """One of a booking's outbox messages as its card lists it."""

    status: str  # the outbox status (the line's class)
    summary: str  # "reminder (sms): replied (confirm)"
    when: str  # "04 Jun 09:00" once sent, else "due 03 Jun 09:00"; ", 3 attempts" after retries
    error: Optional[str]  # the last sending error, if any


@dataclass(frozen=True)
class BookingCard:
    """A booking's card in the calendar: the booking and what the page says and offers about it."""

    booking: BookingView
    status_label: str  # "no-show"
    confirmed_by_patient: bool  # still booked, and the patient confirmed it (a reply to the reminder)
    findings: str  # the triage's answers: "hard fluid: no eye_area"
    conversation_key: Optional[str]  # the conversation that booked it, when the console has it
    messages: List[MessageLine]
    can_mark: bool  # the Attended and No-show buttons
    can_cancel: bool  # the Cancel button (admins only)


def message_line(message: MessageView, booking: BookingView) -> MessageLine:
    """A message's line on its booking's card (times on the booking's clock)."""
    zone = booking.starts_at.tzinfo
    if message.sent_at:
        when = f"{message.sent_at.astimezone(zone):%d %b %H:%M}"
    else:
        when = f"due {message.due_at.astimezone(zone):%d %b %H:%M}"
    if message.attempts > 1:
        when += f", {message.attempts} attempts"
    reply = f" ({message.reply})" if message.reply else ""
    return MessageLine(
        status=message.status,
        summary=f"{message.kind} ({message.channel}): {message.status.replace('_', ' ')}{reply}",
        when=when,
        error=message.last_error or None,
    )


def booking_card(
    booking: BookingView, now: datetime, is_admin: bool, conversation_key: Optional[str] = None,
    messages: Sequence[MessageView] = (),
) -> BookingCard:
    """What the card of `booking` shows to a member of staff at `now`."""
    fluid = f"fluid: {booking.bump_fluid}" if booking.bump_fluid else ""
    return BookingCard(
        booking=booking,
        status_label=STATUS_LABELS[booking.status],
        confirmed_by_patient=booking.confirmed_at is not None and booking.status == BookingStatus.BOOKED,
        findings=" ".join(part for part in (booking.bump_hardness, fluid, booking.bump_location) if part),
        conversation_key=conversation_key,
        messages=[message_line(m, booking) for m in messages],
        can_mark=clinic_may_mark(booking.status, booking.starts_at, now),
        can_cancel=is_admin and clinic_may_cancel(booking.status),
    )


def booking_cards(
    bookings: Sequence[BookingView], now: datetime, is_admin: bool, conversation_keys: Mapping[str, str],
    messages: Mapping[str, Sequence[MessageView]],
) -> Dict[str, BookingCard]:
    """The card of each booking, by reference."""
    return {
        b.reference: booking_card(b, now, is_admin, conversation_keys.get(b.sender_id or ""),
                                  messages.get(b.reference, ()))
        for b in bookings
    }
