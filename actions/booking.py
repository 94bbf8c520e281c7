"""Booking actions: start, offer free times, summarise, book; find, cancel and move a booking.

Every text the patient reads is a response in domain/booking.yml; these actions only fill in the
reference, the times and the service. Any database failure ends in `utter_booking_unavailable`
("please call the clinic").
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from datetime import date
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import booking_support as support
from actions.booking_form import offer_waitlist, service_from_text
from actions.booking_support import BOOKING_SLOTS, BookingSystemDown, entity_value, typed_text
from clinic.booking import handlers
from clinic.booking.availability import WINDOWS, FreeTime, Schedule
from clinic.booking.contact import Contact
from clinic.booking.handlers import BookingRequest, BookingView

logger = logging.getLogger(__name__)

# The triage decides what to book: milia -> extraction; a pustule or an unclear bump -> consultation.
SERVICE_FOR_TRIAGE = {"milia": "extraction", "pustule": "consultation", "uncertain": "consultation"}
TRIAGE_SLOTS = ("triage_result", "bump_hardness", "bump_fluid", "bump_location")
MANAGE_SLOTS = ("manage_choice", "manage_outcome")


def reset(*names: str) -> List[EventType]:
    """Empty these slots."""
    return [SlotSet(name, None) for name in names]



def moving(booking: BookingView) -> List[EventType]:
    """The booking form's slots for moving `booking`: its service and name kept, a new time to choose."""
    return [
        SlotSet("rescheduling", booking.reference),
        SlotSet("booking_service", booking.service_code),
        SlotSet("patient_name", booking.patient_name),
        SlotSet("booking_outcome", None),
        SlotSet("booking_time", None),
        SlotSet("booking_time_hint", None),
        SlotSet("booking_confirmed", None),
    ]

class BookingAction(Action, ABC):
    """A booking action that never fails silently: any error becomes "please call the clinic"."""

    failure_events: List[EventType] = []

    @abstractmethod
    def name(self) -> str:
        """Name of the action in the domain."""

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """The action itself."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Run `act`; on any failure tell the patient to call the clinic."""
        try:
            return await self.act(dispatcher, tracker, domain)
        except Exception:  # noqa: BLE001  (BookingSystemDown, or a bug: the patient must hear back)
            logger.exception("%s failed", self.name())
            dispatcher.utter_message(response="utter_booking_unavailable")
            return list(self.failure_events)


class ActionStartBooking(BookingAction):
    """Start a booking: not after an urgent triage; the service follows from the triage or the words."""

    failure_events = [SlotSet("booking_blocked", True)]

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_start_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `booking_blocked` (the rules branch on it) and pre-fill the service."""
        if tracker.get_slot("triage_result") == "urgent" or tracker.get_slot("red_flags"):
            dispatcher.utter_message(response="utter_booking_after_doctor")
            return [SlotSet("booking_blocked", True)]
        schedule = await support.run_db(handlers.current_schedule)
        if not schedule.services:
            raise BookingSystemDown("no services in the database: run `clinic schedule sync`")
        service = (
            entity_value(tracker, "booking_service")
            or service_from_text(typed_text(tracker))
            or SERVICE_FOR_TRIAGE.get(tracker.get_slot("triage_result") or "")
        )
        events = [SlotSet("booking_blocked", False), SlotSet("booking_outcome", None)]
        if tracker.get_slot("warning_signs") not in (None, "none"):  # a maybe earlier is asked again
            events.append(SlotSet("warning_signs", None))
        events += reset(*(s for s in BOOKING_SLOTS if s != "booking_time"))
        events.append(SlotSet("booking_service", service if service in schedule.services else None))
        # A time button from earlier in the chat starts a booking at that time; anything else starts afresh.
        events.append(SlotSet("booking_time", entity_value(tracker, "booking_time")))
        return events


class ActionAskBookingService(BookingAction):
    """Ask which appointment, one button per service the clinic offers online."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_ask_booking_service"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Offer the services with their duration and price."""
        schedule = await support.run_db(handlers.current_schedule)
        buttons = [
            {
                "title": f"{s.name} ({s.duration_minutes} min, {schedule.price_text(s)})",
                "payload": "/book_appointment" + json.dumps({"booking_service": s.code}),
            }
            for s in schedule.services.values()
            if s.practitioner_ids
        ]
        dispatcher.utter_message(response="utter_ask_booking_service", buttons=buttons)
        return []


def _window_words(window: Optional[str]) -> str:
    return f" {window}" if window in WINDOWS else ""


class ActionAskBookingTime(BookingAction):
    """Offer free times as buttons: the next ones, or near what the patient asked for."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_ask_booking_time"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Read the hint left by the validation (a day, a time to be near, a day to start from)."""
        service = tracker.get_slot("booking_service")
        hint = tracker.get_slot("booking_time_hint") or ""
        kind, _, value = hint.partition(":")
        now = support.now()
        if kind == "day":
            day_text, _, window = value.partition(":")
            day = date.fromisoformat(day_text)
            schedule, times = await support.run_db(
                handlers.offer_times, service, now, day=day, window=window or None
            )
            words = support.day_text(day) + _window_words(window)
            if times:
                return self._offer(dispatcher, schedule, times, "utter_booking_times_on_day", tracker,
                                   day=words)
            schedule, times = await support.run_db(handlers.offer_times, service, now, from_day=day)
            return self._offer(dispatcher, schedule, times, "utter_booking_day_full", tracker, day=words)
        if kind == "near" and support.parse_iso(value):
            schedule, verdict, times = await support.run_db(
                handlers.check_time, service, support.parse_iso(value), now
            )
            if verdict.ok:
                times = [FreeTime(verdict.start, verdict.practitioner_ids)] + times
            return self._offer(dispatcher, schedule, times, "utter_booking_nearest_times", tracker)
        first = date.fromisoformat(value) if kind == "from" else None
        schedule, times = await support.run_db(handlers.offer_times, service, now, from_day=first)
        return self._offer(dispatcher, schedule, times, "utter_ask_booking_time", tracker)

    @staticmethod
    def _offer(
        dispatcher: CollectingDispatcher, schedule: Schedule, times: List[FreeTime], response: str,
        tracker: Optional[Tracker] = None, **values: Any,
    ) -> List[EventType]:
        if not times:
            dispatcher.utter_message(response="utter_booking_no_times", days=str(schedule.horizon_days))
            if tracker is not None:
                offer_waitlist(dispatcher, tracker)
            return []
        dispatcher.utter_message(response=response, buttons=support.time_buttons(schedule, times), **values)
        return []


class ActionAskBookingConfirmed(BookingAction):
    """Show the summary and ask for the final yes."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_ask_booking_confirmed"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Service, time, price, name and contact, or the move of an existing booking."""
        schedule = await support.run_db(handlers.current_schedule)
        service = schedule.services[tracker.get_slot("booking_service")]
        start = schedule.local(support.parse_iso(tracker.get_slot("booking_time")))
        values = {
            "service_name": service.name,
            "duration": str(service.duration_minutes),
            "price": schedule.price_text(service),
            "when": support.when_text(start),
            "name": tracker.get_slot("patient_name"),
            "contact": support.contact_text(tracker.get_slot("patient_contact")),
        }
        if tracker.get_slot("rescheduling"):
            dispatcher.utter_message(
                response="utter_reschedule_summary", reference=tracker.get_slot("rescheduling"), **values
            )
        else:
            dispatcher.utter_message(response="utter_booking_summary", **values)
        return []


def _confirmation_values(booking: BookingView) -> Dict[str, str]:
    return {
        "reference": booking.reference,
        "when": support.when_text(booking.starts_at),
        "service_name": booking.service_name,
        "contact_kind": "email address" if booking.contact_kind == "email" else "mobile number",
    }


class ActionSubmitBooking(BookingAction):
    """Book (or move) once the patient said yes; "just taken" sends them back to choose a time."""

    failure_events = [SlotSet("booking_outcome", "failed")] + reset(*BOOKING_SLOTS)

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_submit_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `booking_outcome`: booked, taken, declined or failed (the rules branch on it)."""
        if tracker.get_slot("booking_outcome") == "failed":  # already told to call the clinic
            return [SlotSet("booking_outcome", "failed")] + reset(*BOOKING_SLOTS)
        if not tracker.get_slot("booking_confirmed"):
            dispatcher.utter_message(response="utter_booking_not_made")
            return [SlotSet("booking_outcome", "declined")] + reset(*BOOKING_SLOTS)
        start = support.parse_iso(tracker.get_slot("booking_time"))
        contact = tracker.get_slot("patient_contact")
        moving = tracker.get_slot("rescheduling")
        try:
            if moving:
                booking = await support.run_db(
                    handlers.reschedule_booking, moving, contact, start, support.now()
                )
                dispatcher.utter_message(response="utter_booking_moved", **_confirmation_values(booking))
            else:
                request = BookingRequest(
                    service_code=tracker.get_slot("booking_service"),
                    starts_at=start,
                    name=tracker.get_slot("patient_name"),
                    contact=Contact("email" if "@" in contact else "phone", contact),
                    sender_id=tracker.sender_id,
                    triage={name: tracker.get_slot(name) for name in TRIAGE_SLOTS},
                )
                booking = await support.run_db(handlers.book, request, support.now())
                dispatcher.utter_message(response="utter_booking_confirmed", **_confirmation_values(booking))
        except handlers.SlotUnavailable as error:
            taken = isinstance(error, handlers.SlotTaken)
            response = "utter_booking_time_just_taken" if taken else "utter_booking_time_gone"
            dispatcher.utter_message(response=response)
            hint = f"near:{start.isoformat()}" if taken else ""
            return [SlotSet("booking_outcome", "taken"), SlotSet("booking_time", None),
                    SlotSet("booking_confirmed", None), SlotSet("booking_time_hint", hint)]
        except (handlers.BookingNotFound, handlers.BookingNotChangeable):
            dispatcher.utter_message(response="utter_booking_changed_meanwhile")
            return [SlotSet("booking_outcome", "failed")] + reset(*BOOKING_SLOTS)
        booked = [SlotSet("booking_outcome", "booked"), SlotSet("booking_reference", booking.reference)]
        return booked + reset(*BOOKING_SLOTS)


class ActionStopBooking(Action):
    """The patient changed their mind mid-form: nothing is booked."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_stop_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Say so and forget the booking in progress."""
        dispatcher.utter_message(response="utter_booking_stopped")
        return reset(*BOOKING_SLOTS, "requested_slot")


class ActionStartManaging(Action):
    """Start finding a booking to cancel or move (a reference and contact from this chat are reused)."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_start_managing"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Forget the previous outcome and choice."""
        return reset(*MANAGE_SLOTS)


class ActionAskManageChoice(BookingAction):
    """Show the booking found and ask whether to cancel, move or keep it."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_ask_manage_choice"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """The booking's service and time, with three buttons."""
        booking = await support.run_db(
            handlers.find_booking, tracker.get_slot("booking_reference"), tracker.get_slot("patient_contact")
        )
        dispatcher.utter_message(response="utter_ask_manage_choice", **_confirmation_values(booking))
        return []


class ActionManageBooking(BookingAction):
    """Cancel, keep, or set up the move of the booking found (the booking form then asks the new time)."""

    failure_events = [SlotSet("manage_outcome", "failed"), SlotSet("manage_choice", None)]

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_manage_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `manage_outcome`: cancelled, kept, reschedule (or what the form already found)."""
        outcome = tracker.get_slot("manage_outcome")
        if outcome:  # not found, not changeable or failed: already said
            return [SlotSet("manage_outcome", outcome), SlotSet("manage_choice", None)]
        reference, contact = tracker.get_slot("booking_reference"), tracker.get_slot("patient_contact")
        choice = tracker.get_slot("manage_choice")
        if choice == "keep":
            dispatcher.utter_message(response="utter_booking_kept")
            return [SlotSet("manage_outcome", "kept"), SlotSet("manage_choice", None)]
        if choice == "reschedule" and tracker.get_slot("triage_result") == "urgent":
            dispatcher.utter_message(response="utter_booking_after_doctor")  # cancelling stays possible
            return [SlotSet("manage_outcome", "kept"), SlotSet("manage_choice", None)]
        try:
            if choice == "cancel":
                booking = await support.run_db(handlers.cancel_booking, reference, contact, support.now())
                dispatcher.utter_message(response="utter_booking_cancelled", **_confirmation_values(booking))
                return [SlotSet("manage_outcome", "cancelled"), SlotSet("manage_choice", None)]
            booking = await support.run_db(handlers.find_booking, reference, contact)
        except (handlers.BookingNotFound, handlers.BookingNotChangeable):
            dispatcher.utter_message(response="utter_booking_changed_meanwhile")
            return [SlotSet("manage_outcome", "failed"), SlotSet("manage_choice", None)]
        return [SlotSet("manage_outcome", "reschedule"), SlotSet("manage_choice", None), *moving(booking)]
