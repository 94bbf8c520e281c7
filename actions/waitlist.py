"""The waitlist: join it from the booking's time question; answer a texted offer of a freed time.

Every decision is the service layer's (`clinic.booking.handlers`, the waitlist section): these actions read
the form's answers and word the outcome. A YES or NO to an offer reaches the assistant from the Twilio
channel as `waitlist_reply` (like a reply to a reminder, actions/reminders.py): the offer is looked up again
by the conversation's own number.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import booking_support as support
from actions.booking import BookingAction, _confirmation_values
from actions.booking_form import ValidateBookingForm
from actions.booking_support import entity_value, typed_text
from actions.reminders import answered_by_sms
from clinic.booking import handlers
from clinic.booking.contact import Contact, InvalidContact, parse_contact
from clinic.config import get_settings
from clinic.contract import REQUESTED_SLOT, Entity, Slot, WaitlistAnswer, WaitlistOutcome

DAY_WORDS = {"week": 7, "fortnight": 14, "two weeks": 14, "2 weeks": 14, "month": 28}
_DAYS = re.compile(r"\b(\d{1,2})\b")


def days_from_text(text: Optional[str]) -> Optional[int]:
    """'5', '5 days', 'a week', 'the next fortnight' -> a number of days, if the words say one."""
    if not text:
        return None
    lowered = text.lower()
    for words, days in sorted(DAY_WORDS.items(), key=lambda item: -len(item[0])):  # "2 weeks" before "week"
        if words in lowered:
            return days
    match = _DAYS.search(lowered)
    return int(match[1]) if match else None


def hold_minutes() -> str:
    """WAITLIST_HOLD_MINUTES, as the patient reads it."""
    return str(get_settings().waitlist_hold_minutes)


class ActionStartWaitlist(BookingAction):
    """Start joining the waitlist for the service being booked (none chosen yet: not possible)."""

    failure_events = [SlotSet(Slot.WAITLIST_BLOCKED, True)]

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_start_waitlist"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `waitlist_blocked` (the rules branch on it)."""
        allowed = handlers.may_join_waitlist(
            tracker.get_slot(Slot.BOOKING_SERVICE), tracker.get_slot(Slot.TRIAGE_RESULT),
            tracker.get_slot(Slot.RED_FLAGS),
        )
        if not allowed:
            dispatcher.utter_message(response="utter_waitlist_unavailable")
            return [SlotSet(Slot.WAITLIST_BLOCKED, True)]
        return [SlotSet(Slot.WAITLIST_BLOCKED, False), SlotSet(Slot.WAITLIST_DAYS, None),
                SlotSet(Slot.WAITLIST_OUTCOME, None), SlotSet(REQUESTED_SLOT, None)]


class ValidateWaitlistForm(ValidateBookingForm):
    """How many days, the name and a mobile number (offers are texted)."""

    outcome_slot = Slot.WAITLIST_OUTCOME
    failed = WaitlistOutcome.FAILED

    def name(self) -> str:
        """Name of the action in the domain."""
        return "validate_waitlist_form"

    async def required_slots(
        self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[str]:
        """The form's own slots (not the booking form's screening rule)."""
        return domain_slots

    async def extract_waitlist_days(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A typed number of days ('5', 'a week'), when asked."""
        text = typed_text(tracker)
        if text is None or tracker.get_slot(REQUESTED_SLOT) != Slot.WAITLIST_DAYS:
            return {}
        days = days_from_text(text)
        if days is None:
            return self.missed(Slot.WAITLIST_DAYS, dispatcher, tracker, "utter_waitlist_days_not_understood")
        return {Slot.WAITLIST_DAYS: str(days)}

    def validate_waitlist_days(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """1 to 60 days (handlers.MAX_WAITLIST_DAYS)."""
        try:
            days = int(str(slot_value))
        except (TypeError, ValueError):
            return {Slot.WAITLIST_DAYS: None}
        if not handlers.waitlist_days_ok(days):
            dispatcher.utter_message(response="utter_waitlist_days_not_understood")
            return {Slot.WAITLIST_DAYS: None}
        return {Slot.WAITLIST_DAYS: str(days)}

    def validate_patient_contact(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        """A mobile number only: the offer is a text message."""
        if slot_value is None:
            return {Slot.PATIENT_CONTACT: None}
        try:
            contact = parse_contact(str(slot_value))
        except InvalidContact:
            return {Slot.PATIENT_CONTACT: None}
        if not handlers.waitlist_contact_ok(contact):
            dispatcher.utter_message(response="utter_waitlist_needs_mobile")
            return {Slot.PATIENT_CONTACT: None}
        return {Slot.PATIENT_CONTACT: contact.value}


class ActionJoinWaitlist(BookingAction):
    """Put the patient on the waitlist for the service and days chosen."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_join_waitlist"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Join (or update the patient's place); a form that gave up joins nothing."""
        days, name = tracker.get_slot(Slot.WAITLIST_DAYS), tracker.get_slot(Slot.PATIENT_NAME)
        contact = tracker.get_slot(Slot.PATIENT_CONTACT)
        failed = tracker.get_slot(Slot.WAITLIST_OUTCOME) == WaitlistOutcome.FAILED
        if failed or not (days and name and contact):
            dispatcher.utter_message(response="utter_waitlist_not_joined")
            return [SlotSet(Slot.WAITLIST_DAYS, None)]
        service = tracker.get_slot(Slot.BOOKING_SERVICE)
        try:
            joined = await support.run_db(handlers.join_waitlist, service, int(days), name,
                                          Contact("phone", contact), tracker.sender_id, support.now())
        except handlers.WaitlistNeedsMobile:
            dispatcher.utter_message(response="utter_waitlist_needs_mobile")
            return [SlotSet(Slot.WAITLIST_DAYS, None)]
        schedule = await support.run_db(handlers.current_schedule)
        dispatcher.utter_message(
            response="utter_waitlist_joined", service_name=schedule.services[joined.service_code].name,
            last_day=support.day_text(joined.last_day), contact=support.contact_text(contact),
            hold_minutes=hold_minutes(),
        )
        return [SlotSet(Slot.WAITLIST_DAYS, None)]


class ActionAnswerWaitlistOffer(BookingAction):
    """YES books the held time; NO passes it to the next patient waiting."""

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_answer_waitlist_offer"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Look the offer up by the conversation's number, then book or pass it on."""
        answer = entity_value(tracker, Entity.WAITLIST_ANSWER) or tracker.get_slot(Slot.WAITLIST_ANSWER)
        reset = [SlotSet(Slot.WAITLIST_ANSWER, None)]
        if answer not in WaitlistAnswer.values() or not answered_by_sms(tracker):
            dispatcher.utter_message(response="utter_waitlist_offer_ended", hold_minutes=hold_minutes())
            return reset
        try:
            _, booking = await support.run_db(handlers.answer_waitlist_offer, tracker.sender_id,
                                              answer == WaitlistAnswer.ACCEPT, support.now())
        except handlers.SlotTaken:
            dispatcher.utter_message(response="utter_waitlist_taken")
            return reset
        except handlers.BookingNotFound:
            dispatcher.utter_message(response="utter_waitlist_offer_ended", hold_minutes=hold_minutes())
            return reset
        if booking is None:
            dispatcher.utter_message(response="utter_waitlist_passed")
            return reset
        dispatcher.utter_message(response="utter_waitlist_booked", **_confirmation_values(booking))
        return reset + [SlotSet(Slot.BOOKING_REFERENCE, booking.reference)]
