"""A reply to an SMS reminder: C (or yes) confirms, X cancels, R moves the booking (the move flow).

The Twilio channel turns the bare reply into the `reminder_reply` intent (clinic/channels/twilio_channel.py);
this action does not trust anything in the message but the answer: the reminder and its booking are looked
up again by the conversation's own number, which Twilio's signature vouches for and which is the contact the
booking was made with, so no reference or contact check is asked. Recording the reply on the reminder and the
booking change commit together (`clinic.booking.handlers.answer_reminder`).
"""

from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import booking_support as support
from actions.booking import BookingAction, _confirmation_values, moving, needs_doctor_first
from actions.booking_support import entity_value
from clinic.booking import handlers
from clinic.channels.identity import TWILIO, WHATSAPP_PREFIX, output_channel_for
from clinic.contract import Entity, ReminderAnswer, ReminderOutcome, Slot
from clinic.db.outbox import REMINDER_REPLIES

DONE: List[EventType] = [
    SlotSet(Slot.REMINDER_OUTCOME, ReminderOutcome.DONE), SlotSet(Slot.REMINDER_ANSWER, None),
]


def answered_by_sms(tracker: Tracker) -> bool:
    """The message came over SMS from the number that is the conversation's id (not WhatsApp, not REST)."""
    sender = tracker.sender_id or ""
    return (tracker.get_latest_input_channel() == TWILIO and output_channel_for(sender) == TWILIO
            and not sender.startswith(WHATSAPP_PREFIX))


class ActionAnswerReminder(BookingAction):
    """Confirm, cancel or start moving the booking whose SMS reminder the patient answered."""

    failure_events = list(DONE)

    def name(self) -> str:
        """Name of the action in the domain."""
        return "action_answer_reminder"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set `reminder_outcome`: done (confirmed, cancelled, nothing to answer) or reschedule."""
        answer = entity_value(tracker, Entity.REMINDER_ANSWER) or tracker.get_slot(Slot.REMINDER_ANSWER)
        if answer not in REMINDER_REPLIES or not answered_by_sms(tracker):
            dispatcher.utter_message(response="utter_reminder_not_found")
            return list(DONE)
        if answer == ReminderAnswer.RESCHEDULE and needs_doctor_first(tracker):
            dispatcher.utter_message(response="utter_booking_after_doctor")  # X still cancels
            return list(DONE)
        phone = tracker.sender_id
        try:
            booking = await support.run_db(handlers.answer_reminder, phone, answer, support.now())
        except handlers.BookingNotFound:
            dispatcher.utter_message(response="utter_reminder_not_found")
            return list(DONE)
        values = {**_confirmation_values(booking), "patient_name": booking.patient_name}
        if answer == ReminderAnswer.CONFIRM:
            dispatcher.utter_message(response="utter_reminder_confirmed", **values)
            return list(DONE)
        if answer == ReminderAnswer.CANCEL:
            dispatcher.utter_message(response="utter_reminder_cancelled", **values)
            return list(DONE)
        dispatcher.utter_message(response="utter_reminder_reschedule", **values)
        return [
            SlotSet(Slot.REMINDER_OUTCOME, ReminderOutcome.RESCHEDULE),
            SlotSet(Slot.REMINDER_ANSWER, None),
            SlotSet(Slot.BOOKING_REFERENCE, booking.reference),
            SlotSet(Slot.PATIENT_CONTACT, phone),
            SlotSet(Slot.MANAGE_OUTCOME, None),
            SlotSet(Slot.MANAGE_CHOICE, None),
            *moving(booking),
        ]
