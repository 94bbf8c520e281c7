"""Booking actions: start, offer free times, summarise, book; find, cancel and move a booking.

Every text the patient reads is a response in domain/booking.yml; these actions only fill in the
reference, the times and the service. Every booking rule is the service layer's
(`clinic.booking.handlers`): these actions read the slots, call it, and turn its typed answers into
responses. Any database failure ends in `utter_booking_unavailable` ("please call the clinic").
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
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
from clinic.booking.handlers import BookingRequest, BookingView, Offer
from clinic.booking.time_hint import TimeHint
from clinic.contract import (
    REQUESTED_SLOT,
    BookingOutcome,
    Entity,
    Intent,
    ManageChoice,
    ManageOutcome,
    Slot,
    TriageResult,
    WarningSigns,
)

logger = logging.getLogger(__name__)

# The triage decides what to book: milia -> extraction; a pustule or an unclear bump -> consultation.
SERVICE_FOR_TRIAGE: Dict[str, str] = {
    TriageResult.MILIA: "extraction",
    TriageResult.PUSTULE: "consultation",
    TriageResult.UNCERTAIN: "consultation",
}
TRIAGE_SLOTS = (Slot.TRIAGE_RESULT, Slot.BUMP_HARDNESS, Slot.BUMP_FLUID, Slot.BUMP_LOCATION)
MANAGE_SLOTS = (Slot.MANAGE_CHOICE, Slot.MANAGE_OUTCOME)


def reset(*names: str) -> List[EventType]:
    """Empty these slots."""
    return [SlotSet(name, None) for name in names]


def needs_doctor_first(tracker: Tracker) -> bool:
    """The service layer's rule on this conversation's triage: no booking, move or waitlist online."""
    return handlers.needs_doctor_first(tracker.get_slot(Slot.TRIAGE_RESULT), tracker.get_slot(Slot.RED_FLAGS))


def moving(booking: BookingView) -> List[EventType]:
    """The booking form's slots for moving `booking`: its service and name kept, a new time to choose."""
    return [
        SlotSet(Slot.RESCHEDULING, booking.reference),
        SlotSet(Slot.BOOKING_SERVICE, booking.service_code),
        SlotSet(Slot.PATIENT_NAME, booking.patient_name),
        SlotSet(Slot.BOOKING_OUTCOME, None),
        SlotSet(Slot.BOOKING_TIME, None),
        SlotSet(Slot.BOOKING_TIME_HINT, None),
        SlotSet(Slot.BOOKING_CONFIRMED, None),
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

    failure_events = [SlotSet(Slot.BOOKING_BLOCKED, True)]

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_start_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `booking_blocked` (the rules branch on it) and pre-fill the service."""
        if needs_doctor_first(tracker):
            dispatcher.utter_message(response="utter_booking_after_doctor")
            return [SlotSet(Slot.BOOKING_BLOCKED, True)]
        schedule = await support.run_db(handlers.current_schedule)
        if not schedule.services:
            raise BookingSystemDown("no services in the database: run `clinic schedule sync`")
        service = (
            entity_value(tracker, Entity.BOOKING_SERVICE)
            or service_from_text(typed_text(tracker))
            or SERVICE_FOR_TRIAGE.get(tracker.get_slot(Slot.TRIAGE_RESULT) or "")
        )
        events: List[EventType] = [SlotSet(Slot.BOOKING_BLOCKED, False), SlotSet(Slot.BOOKING_OUTCOME, None)]
        # A maybe earlier is asked again.
        if tracker.get_slot(Slot.WARNING_SIGNS) not in (None, WarningSigns.NONE):
            events.append(SlotSet(Slot.WARNING_SIGNS, None))
        events += reset(*(s for s in BOOKING_SLOTS if s != Slot.BOOKING_TIME))
        events.append(SlotSet(Slot.BOOKING_SERVICE, service if service in schedule.services else None))
        # A time button from earlier in the chat starts a booking at that time; anything else starts afresh.
        events.append(SlotSet(Slot.BOOKING_TIME, entity_value(tracker, Entity.BOOKING_TIME)))
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
                "payload": f"/{Intent.BOOK_APPOINTMENT}" + json.dumps({Entity.BOOKING_SERVICE.value: s.code}),
            }
            for s in handlers.online_services(schedule)
        ]
        dispatcher.utter_message(response="utter_ask_booking_service", buttons=buttons)
        return []


def _window_words(window: Optional[str]) -> str:
    return f" {window}" if window in WINDOWS else ""


# How each offer of free times is put to the patient.
OFFER_RESPONSES = {
    Offer.NEXT: "utter_ask_booking_time",
    Offer.ON_DAY: "utter_booking_times_on_day",
    Offer.DAY_FULL: "utter_booking_day_full",
    Offer.NEAREST: "utter_booking_nearest_times",
}


class ActionAskBookingTime(BookingAction):
    """Offer free times as buttons: the next ones, or near what the patient asked for."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_ask_booking_time"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Offer the times the validation's hint names (a day, a time to be near, a day to start from)."""
        hint = TimeHint.from_slot(tracker.get_slot(Slot.BOOKING_TIME_HINT))
        offered = await support.run_db(
            handlers.times_to_offer, tracker.get_slot(Slot.BOOKING_SERVICE), hint, support.now()
        )
        values: Dict[str, Any] = {}
        if offered.offer in (Offer.ON_DAY, Offer.DAY_FULL) and hint.day is not None:
            values["day"] = support.day_text(hint.day) + _window_words(hint.window)
        return self._offer(dispatcher, offered.schedule, offered.times, OFFER_RESPONSES[offered.offer],
                           tracker, **values)

    @staticmethod
    def _offer(
        dispatcher: CollectingDispatcher, schedule: Schedule, times: List[FreeTime], response: str,
        tracker: Tracker, **values: Any,
    ) -> List[EventType]:
        if not times:
            dispatcher.utter_message(response="utter_booking_no_times", days=str(schedule.horizon_days))
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
        service = schedule.services[support.filled(tracker, Slot.BOOKING_SERVICE)]
        start = schedule.local(support.filled_time(tracker, Slot.BOOKING_TIME))
        values: Dict[str, Any] = {
            "service_name": service.name,
            "duration": str(service.duration_minutes),
            "price": schedule.price_text(service),
            "when": support.when_text(start),
            "name": tracker.get_slot(Slot.PATIENT_NAME),
            "contact": support.contact_text(tracker.get_slot(Slot.PATIENT_CONTACT)),
        }
        if tracker.get_slot(Slot.RESCHEDULING):
            dispatcher.utter_message(
                response="utter_reschedule_summary", reference=tracker.get_slot(Slot.RESCHEDULING), **values
            )
        else:
            dispatcher.utter_message(response="utter_booking_summary", **values)
        return []


def _confirmation_values(booking: BookingView) -> Dict[str, Any]:
    return {
        "reference": booking.reference,
        "when": support.when_text(booking.starts_at),
        "service_name": booking.service_name,
        "contact_kind": "email address" if booking.contact_kind == "email" else "mobile number",
    }


class ActionSubmitBooking(BookingAction):
    """Book (or move) once the patient said yes; "just taken" sends them back to choose a time."""

    failure_events = [SlotSet(Slot.BOOKING_OUTCOME, BookingOutcome.FAILED)] + reset(*BOOKING_SLOTS)

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_submit_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `booking_outcome`: booked, taken, declined or failed (the rules branch on it)."""
        if tracker.get_slot(Slot.BOOKING_OUTCOME) == BookingOutcome.FAILED:  # already told to call the clinic
            return [SlotSet(Slot.BOOKING_OUTCOME, BookingOutcome.FAILED)] + reset(*BOOKING_SLOTS)
        if not tracker.get_slot(Slot.BOOKING_CONFIRMED):
            dispatcher.utter_message(response="utter_booking_not_made")
            return [SlotSet(Slot.BOOKING_OUTCOME, BookingOutcome.DECLINED)] + reset(*BOOKING_SLOTS)
        start = support.parse_iso(tracker.get_slot(Slot.BOOKING_TIME))
        contact = tracker.get_slot(Slot.PATIENT_CONTACT)
        moving = tracker.get_slot(Slot.RESCHEDULING)
        try:
            if moving:
                booking = await support.run_db(
                    handlers.reschedule_booking, moving, contact, start, support.now()
                )
                dispatcher.utter_message(response="utter_booking_moved", **_confirmation_values(booking))
            else:
                contact = support.filled(tracker, Slot.PATIENT_CONTACT)
                request = BookingRequest(
                    service_code=support.filled(tracker, Slot.BOOKING_SERVICE),
                    starts_at=support.filled_time(tracker, Slot.BOOKING_TIME),
                    name=support.filled(tracker, Slot.PATIENT_NAME),
                    contact=Contact.stored(contact),
                    sender_id=tracker.sender_id,
                    triage={name: tracker.get_slot(name) for name in TRIAGE_SLOTS},
                )
                booking = await support.run_db(handlers.book, request, support.now())
                dispatcher.utter_message(response="utter_booking_confirmed", **_confirmation_values(booking))
        except handlers.SlotUnavailable as error:
            taken = isinstance(error, handlers.SlotTaken)
            response = "utter_booking_time_just_taken" if taken else "utter_booking_time_gone"
            dispatcher.utter_message(response=response)
            return [SlotSet(Slot.BOOKING_OUTCOME, BookingOutcome.TAKEN), SlotSet(Slot.BOOKING_TIME, None),
                    SlotSet(Slot.BOOKING_CONFIRMED, None),
                    SlotSet(Slot.BOOKING_TIME_HINT, error.instead.to_slot())]
        except (handlers.BookingNotFound, handlers.BookingNotChangeable):
            dispatcher.utter_message(response="utter_booking_changed_meanwhile")
            return [SlotSet(Slot.BOOKING_OUTCOME, BookingOutcome.FAILED)] + reset(*BOOKING_SLOTS)
        booked = [SlotSet(Slot.BOOKING_OUTCOME, BookingOutcome.BOOKED),
                  SlotSet(Slot.BOOKING_REFERENCE, booking.reference)]
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
        return reset(*BOOKING_SLOTS, REQUESTED_SLOT)


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
            handlers.find_booking, tracker.get_slot(Slot.BOOKING_REFERENCE),
            tracker.get_slot(Slot.PATIENT_CONTACT),
        )
        dispatcher.utter_message(response="utter_ask_manage_choice", **_confirmation_values(booking))
        return []


class ActionManageBooking(BookingAction):
    """Cancel, keep, or set up the move of the booking found (the booking form then asks the new time)."""

    failure_events = [SlotSet(Slot.MANAGE_OUTCOME, ManageOutcome.FAILED), SlotSet(Slot.MANAGE_CHOICE, None)]

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_manage_booking"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `manage_outcome`: cancelled, kept, reschedule (or what the form already found)."""
        outcome = tracker.get_slot(Slot.MANAGE_OUTCOME)
        if outcome:  # not found, not changeable or failed: already said
            return [SlotSet(Slot.MANAGE_OUTCOME, outcome), SlotSet(Slot.MANAGE_CHOICE, None)]
        reference, contact = tracker.get_slot(Slot.BOOKING_REFERENCE), tracker.get_slot(Slot.PATIENT_CONTACT)
        choice = tracker.get_slot(Slot.MANAGE_CHOICE)
        if choice == ManageChoice.KEEP:
            dispatcher.utter_message(response="utter_booking_kept")
            return [SlotSet(Slot.MANAGE_OUTCOME, ManageOutcome.KEPT), SlotSet(Slot.MANAGE_CHOICE, None)]
        if choice == ManageChoice.RESCHEDULE and needs_doctor_first(tracker):
            dispatcher.utter_message(response="utter_booking_after_doctor")  # cancelling stays possible
            return [SlotSet(Slot.MANAGE_OUTCOME, ManageOutcome.KEPT), SlotSet(Slot.MANAGE_CHOICE, None)]
        try:
            if choice == ManageChoice.CANCEL:
                booking = await support.run_db(handlers.cancel_booking, reference, contact, support.now())
                dispatcher.utter_message(response="utter_booking_cancelled", **_confirmation_values(booking))
                return [SlotSet(Slot.MANAGE_OUTCOME, ManageOutcome.CANCELLED),
                        SlotSet(Slot.MANAGE_CHOICE, None)]
            booking = await support.run_db(handlers.find_booking, reference, contact)
        except (handlers.BookingNotFound, handlers.BookingNotChangeable):
            dispatcher.utter_message(response="utter_booking_changed_meanwhile")
            return [SlotSet(Slot.MANAGE_OUTCOME, ManageOutcome.FAILED), SlotSet(Slot.MANAGE_CHOICE, None)]
        return [SlotSet(Slot.MANAGE_OUTCOME, ManageOutcome.RESCHEDULE), SlotSet(Slot.MANAGE_CHOICE, None),
                *moving(booking)]
