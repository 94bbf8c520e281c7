"""A patient triages, books, is found by the clinic's CLI, cancels, rebooks and moves, over REST.

Real action server, real Rasa server, real clinic database (the shared `assistant`), real clock.
The last test restarts every process and finds the booking again. Which response the bot gave is read by
name from the tracker (`responded`); the wording where it is the point (what the confirmation tells the
patient from the clinic's text, a reply the channel gives before Rasa reads the message).
"""

import json
from datetime import datetime

import pytest

from tests.integration.chat import (
    book_first_free_time,
    buttons,
    listed,
    new_sender,
    responded,
    screened,
    texts,
)

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def booked(assistant):
    """A milia triage near the eye, then a booked extraction."""
    sender = new_sender()
    assistant.say(sender, "hi")
    reply = assistant.say(sender, "I have a hard white bump under my eye, no pus")
    reply = screened(assistant, sender, reply)
    assert "/book_appointment" in [b["payload"] for b in buttons(reply)]
    reply = assistant.say(sender, "/book_appointment")
    assert responded(assistant, sender) == ["utter_ask_booking_time"], texts(reply)
    reference, day, said = book_first_free_time(assistant, sender, reply)
    return {"sender": sender, "reference": reference, "day": day, "confirmation": said}


def test_triage_then_book_an_extraction(booked):
    said = booked["confirmation"]
    assert "Milia extraction" in said
    assert "lancet" in said and "No anaesthetic" in said and "prick" in said  # from the clinic's text


def test_the_clinic_sees_the_booking_with_the_triage(assistant, booked):
    row = listed(assistant, booked["day"])[booked["reference"]]
    assert row["status"] == "booked" and row["service_code"] == "extraction"
    assert (row["triage_result"], row["bump_hardness"], row["bump_fluid"], row["bump_location"]) == (
        "milia", "hard", "no", "eye_area")
    assert row["sender_id"] == booked["sender"] and row["contact"] == "+447911123456"
    assert datetime.fromisoformat(row["starts_at"]) > datetime.now().astimezone()


def test_bad_answers_get_clear_replies_and_store_nothing(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "I'd like to book a consultation")
    reply = screened(assistant, sender, reply)  # booking without a triage asks about warning signs first
    assert responded(assistant, sender) == ["utter_ask_booking_time"]
    reply = assistant.say(sender, "31 February")
    assert responded(assistant, sender) == ["utter_booking_date_impossible", "utter_ask_booking_time"]
    assert buttons(reply)
    reply = assistant.say(sender, "yesterday")
    assert responded(assistant, sender) == ["utter_booking_time_past", "utter_ask_booking_time"]
    assert buttons(reply)
    reply = assistant.say(sender, buttons(reply)[0]["payload"])
    reply = assistant.say(sender, "J" * 5000)
    assert "too long" in texts(reply)  # the channel's message limit answers first (Rasa never reads it)
    assistant.say(sender, "Robert'); DROP TABLE bookings;--")
    assert responded(assistant, sender) == ["utter_patient_name_invalid", "utter_ask_patient_name"]
    assistant.say(sender, "Sam Smith")
    assistant.say(sender, "12345")
    assert responded(assistant, sender) == ["utter_patient_contact_not_a_number", "utter_ask_patient_contact"]
    assistant.say(sender, "no thanks, I've changed my mind")
    assert responded(assistant, sender) == ["utter_booking_stopped"]
    tracker = assistant.tracker(sender)
    assert tracker["active_loop"] == {} or tracker["active_loop"].get("name") is None


def test_a_second_bad_name_in_a_row_ends_the_booking_with_the_clinics_number(assistant):
    sender = new_sender()
    reply = screened(assistant, sender, assistant.say(sender, "I'd like to book a consultation"))
    assistant.say(sender, buttons(reply)[0]["payload"])
    assistant.say(sender, "Jo" * 60)
    assert responded(assistant, sender) == ["utter_patient_name_too_long", "utter_ask_patient_name"]
    assistant.say(sender, "Robert'); DROP TABLE bookings;--")
    assert responded(assistant, sender) == ["utter_booking_gave_up"]  # not utter_patient_name_invalid again
    tracker = assistant.tracker(sender)
    assert tracker["active_loop"] == {} or tracker["active_loop"].get("name") is None
    assert tracker["slots"]["booking_reference"] is None


def test_urgent_triage_gets_no_booking(assistant):
    sender = new_sender()
    assistant.say(sender, "my eye is swollen")
    assert responded(assistant, sender)[-1] == "utter_red_flag_advice"
    reply = assistant.say(sender, "can I book an appointment?")
    assert responded(assistant, sender) == ["utter_urgent_earlier"] and not buttons(reply)


def test_cancel_needs_the_right_contact_then_rebook(assistant, booked):
    sender = new_sender()  # the patient comes back later, in a new conversation
    assistant.say(sender, "I need to cancel my appointment")
    assert responded(assistant, sender)[-1] == "utter_ask_booking_reference"
    assistant.say(sender, booked["reference"].lower())
    assert responded(assistant, sender) == ["utter_ask_manage_booking_form_patient_contact"]
    assistant.say(sender, "07911 000000")  # not the contact used to book
    assert responded(assistant, sender) == ["utter_booking_not_found"]
    assert listed(assistant, booked["day"])[booked["reference"]]["status"] == "booked"

    assistant.say(sender, "cancel my booking please")
    assistant.say(sender, f"my reference is {booked['reference']}")
    reply = assistant.say(sender, "+44 7911 123456")
    assert responded(assistant, sender) == ["utter_ask_manage_choice"] and booked["reference"] in texts(reply)
    assistant.say(sender, "/cancel_appointment")
    assert responded(assistant, sender) == ["utter_booking_cancelled"]
    row = listed(assistant, booked["day"])[booked["reference"]]
    assert (row["status"], row["cancelled_by"]) == ("cancelled", "patient")

    reply = screened(assistant, sender, assistant.say(sender, "can I book an extraction please"))
    reference, day, _ = book_first_free_time(assistant, sender, reply)
    assert reference != booked["reference"] and listed(assistant, day)[reference]["status"] == "booked"


def test_move_a_booking_and_it_survives_a_restart_of_every_process(assistant):
    sender = new_sender()
    reply = screened(assistant, sender, assistant.say(sender, "I want to book a facial"))
    reference, day, said = book_first_free_time(assistant, sender, reply)
    assert "IMAGE Skincare" in said

    assistant.stop()  # action server and Rasa server
    assistant.start()
    assert listed(assistant, day)[reference]["status"] == "booked"

    sender = new_sender()
    assistant.say(sender, "I need to change my booking")
    assistant.say(sender, reference)
    reply = assistant.say(sender, "07911123456")
    assert reference in texts(reply)
    reply = assistant.say(sender, "/choose_time")  # "Move it"
    reply = screened(assistant, sender, reply)  # moving asks about warning signs too
    later = [b for b in buttons(reply) if b["payload"].startswith("/choose_time{")][-1]["payload"]
    reply = assistant.say(sender, later)
    assert responded(assistant, sender) == ["utter_reschedule_summary"], texts(reply)
    assert reference in texts(reply)
    reply = assistant.say(sender, "yes")
    assert responded(assistant, sender) == ["utter_booking_moved"] and reference in texts(reply)
    new_start = json.loads(later[len("/choose_time"):])["booking_time"]
    row = listed(assistant, new_start[:10])[reference]
    assert row["starts_at"] == new_start and row["status"] == "booked"


def test_an_unclear_screening_answer_books_nothing(assistant):
    sender = new_sender()
    assistant.say(sender, "I'd like to book a consultation")
    said, answered = [], []
    for answer in ("hmm", "dunno really"):
        assert "utter_ask_booking_time" not in responded(assistant, sender)
        said.append(texts(assistant.say(sender, answer)))
        answered.append(responded(assistant, sender))
    assert answered[0] == ["utter_warning_signs_unclear", "utter_ask_warning_signs"]  # asked once more,
    assert "tap a button" in said[0].lower()  # in its variant saying what it takes
    assert answered[1] == ["utter_booking_not_made"]  # a second miss: a maybe, no booking
    assert "VW-" not in " ".join(said)
    tracker = assistant.tracker(sender)
    assert tracker["slots"]["booking_reference"] is None
    assert tracker["active_loop"] == {} or tracker["active_loop"].get("name") is None
