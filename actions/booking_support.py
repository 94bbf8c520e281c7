"""What the booking actions share: the clock, the database, and times worded for patients.

Database work runs in a worker thread (it would block the action server's event loop), one unit of
work per call. Anything unexpected becomes `BookingSystemDown`, which every booking action answers
with "please call the clinic": never silence.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from datetime import date, datetime, timezone
from typing import Any, Callable, Dict, FrozenSet, List, Optional, TypeVar

from rasa_sdk import Tracker

from actions import screening
from clinic.booking.availability import FreeTime, Schedule
from clinic.booking.contact import Contact
from clinic.booking.handlers import BookingError
from clinic.booking.unit_of_work import UnitOfWorkFactory, unit_of_work_factory
from clinic.booking.wording import clock_text as clock_text  # re-exported: the actions word times with these
from clinic.booking.wording import day_text as day_text
from clinic.booking.wording import when_text as when_text
from clinic.contract import Entity, Intent, Slot

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Slots of one booking (reset when a booking starts or ends).
BOOKING_SLOTS = (Slot.BOOKING_TIME, Slot.BOOKING_TIME_HINT, Slot.BOOKING_CONFIRMED, Slot.RESCHEDULING)
# The patient asked something else: the form lets the rules answer, then asks again.
INTERRUPTIONS = frozenset({
    Intent.ASK_SQUEEZE, Intent.ASK_SELF_EXTRACT, Intent.ASK_WHAT_IS_MILIA, Intent.ASK_MILIA_VS_PUSTULE,
    Intent.ASK_EXTRACTION_PROCEDURE, Intent.ASK_PAIN, Intent.ASK_FACIALS, Intent.REPORT_RED_FLAG,
    Intent.HUMAN_HANDOFF, Intent.ASK_OPENING_HOURS, Intent.ASK_LOCATION, Intent.ASK_PRICES, Intent.ASK_WHO,
    Intent.ASK_AFTERCARE, Intent.ASK_CAUSE, Intent.ASK_RECURRENCE, Intent.ASK_CHILDREN, Intent.ASK_PREGNANCY,
    Intent.ASK_CANCER,
    Intent.CANCEL_APPOINTMENT, Intent.DENY, Intent.GOODBYE, Intent.BOT_CHALLENGE, Intent.DELETE_MY_DATA,
    Intent.THANK,
})


_CODE_LIKE = re.compile(r"[;{}<>=\[\]\\]|--|\)\s*;")


class BookingSystemDown(Exception):
    """The booking database could not be used."""


class MissingSlot(Exception):
    """A slot the form fills was empty when an action needed it (the action then fails: "call the clinic")."""


def now() -> datetime:
    """The current time (tests replace this with a fixed clock)."""
    return datetime.now(timezone.utc)


def unit_of_work() -> UnitOfWorkFactory:
    """Units of work on DATABASE_URL, read now (tests point it at their own database)."""
    return unit_of_work_factory()


async def run_db(operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a booking operation on a worker thread; BookingErrors pass, anything else is BookingSystemDown."""
    call = functools.partial(operation, unit_of_work(), *args, **kwargs)
    try:
        return await asyncio.get_running_loop().run_in_executor(None, call)
    except BookingError:
        raise
    except Exception as error:  # noqa: BLE001  (database down, bad URL, bug: the patient must hear back)
        logger.exception("booking database operation %s failed", getattr(operation, "__name__", operation))
        raise BookingSystemDown(str(error)) from error


def typed_text(tracker: Tracker) -> Optional[str]:
    """The patient's latest words, or None for a button payload like /choose_time{...} or blank text."""
    text = screening.typed_text(tracker)
    return text if text and text.strip() else None


intent_of = screening.intent_of


# Interruptions that are questions to the bot, not a change of mind.
QUESTIONS = INTERRUPTIONS - {Intent.DENY, Intent.CANCEL_APPOINTMENT, Intent.GOODBYE, Intent.THANK}


def is_interruption(tracker: Tracker, intents: FrozenSet[str] = INTERRUPTIONS) -> bool:
    """A question or a change of mind rather than an answer to the form's question.

    Names and numbers get arbitrary intents ("Noor" reads as deny at 0.57), so a short answer counts
    as an interruption only when the intent is clear. A 5,000-character paste, or code-like text
    ("Robert'); DROP TABLE bookings;--" reads as "cancel"), is an answer, checked and refused as such.
    """
    text = typed_text(tracker) or ""
    intent, confidence = screening.latest_intent(tracker)
    if intent not in intents or len(text) > 200 or _CODE_LIKE.search(text):
        return False
    return confidence >= 0.9 or (confidence >= 0.5 and ("?" in text or len(text.split()) >= 4))


def entity_value(tracker: Tracker, name: str) -> Optional[str]:
    """The value of an entity in the latest message (button payloads carry them), if not empty."""
    for value in tracker.get_latest_entity_values(name):
        if value not in (None, ""):
            return str(value)
    return None


def button_title(moment: datetime) -> str:
    """Tue 4 Jun, 9:00am."""
    return f"{moment:%a} {moment.day} {moment:%b}, {clock_text(moment.time())}"


def time_buttons(schedule: Schedule, times: List[FreeTime]) -> List[Dict[str, str]]:
    """One button per free time; the payload carries the exact start (ISO 8601, with offset)."""
    return [
        {
            "title": button_title(schedule.local(free.start)),
            "payload": f"/{Intent.CHOOSE_TIME}"
            + json.dumps({Entity.BOOKING_TIME.value: schedule.local(free.start).isoformat()}),
        }
        for free in times
    ]


def hours_text(schedule: Schedule, day: date) -> str:
    """The day's opening hours in words: 9:00am to 5:00pm (and 1:30pm to 5:00pm)."""
    ranges = schedule.hours.get(day.weekday(), ())
    return " and ".join(f"{clock_text(a)} to {clock_text(b)}" for a, b in ranges) or "closed"


def contact_text(value: Optional[str]) -> str:
    """The stored contact as the patient reads it back."""
    if not value:
        return ""
    return Contact.stored(value).display()


def filled(tracker: Tracker, slot: Slot) -> str:
    """The value of a text slot the form has filled; MissingSlot if it is empty."""
    value = tracker.get_slot(slot)
    if value is None:
        raise MissingSlot(slot)
    return str(value)


def filled_time(tracker: Tracker, slot: Slot) -> datetime:
    """The aware datetime in a slot the form has filled; MissingSlot if it is empty or not a time."""
    moment = parse_iso(tracker.get_slot(slot))
    if moment is None:
        raise MissingSlot(slot)
    return moment


def parse_iso(value: Any) -> Optional[datetime]:
    """An aware datetime from a slot value, or None."""
    try:
        moment = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None
