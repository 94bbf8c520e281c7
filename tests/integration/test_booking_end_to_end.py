"""A patient triages, books, is found by the clinic's CLI, cancels, rebooks and moves, over REST.

Real action server, real Rasa server, real clinic database (the shared `assistant`), real clock.
The last test restarts every process and finds the booking again.
"""

import json
from datetime import datetime

import pytest

from tests.integration.chat import book_first_free_time, buttons, listed, new_sender, screened, texts

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
    assert "When would you like to come in?" in texts(reply), texts(reply)
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
    assert "When would you like to come in?" in texts(reply)
    reply = assistant.say(sender, "31 February")
    assert "isn't a date on the calendar" in texts(reply) and buttons(reply)
    reply = assistant.say(sender, "yesterday")
    assert "already passed" in texts(reply) and buttons(reply)
    reply = assistant.say(sender, buttons(reply)[0]["payload"])
    reply = assistant.say(sender, "J" * 5000)
    assert "too long" in texts(reply)  # the channel's message limit answers first
    reply = assistant.say(sender, "Robert'); DROP TABLE bookings;--")
    assert "just your name" in texts(reply)
    reply = assistant.say(sender, "Sam Smith")
    reply = assistant.say(sender, "12345")
    assert "doesn't look like a phone number" in texts(reply)
    reply = assistant.say(sender, "no thanks, I've changed my mind")
    assert "nothing is booked" in texts(reply)
    tracker = assistant.tracker(sender)
    assert tracker["active_loop"] == {} or tracker["active_loop"].get("name") is None


def test_a_second_bad_name_in_a_row_ends_the_booking_with_the_clinics_number(assistant):
    sender = new_sender()
    reply = screened(assistant, sender, assistant.say(sender, "I'd like to book a consultation"))
    reply = assistant.say(sender, buttons(reply)[0]["payload"])
    reply = assistant.say(sender, "Jo" * 60)
    assert "a bit long for a name" in texts(reply)
    reply = assistant.say(sender, "Robert'); DROP TABLE bookings;--")
    said = texts(reply)
    assert "not getting this right" in said and "person" in said and "just your name" not in said
    tracker = assistant.tracker(sender)
    assert tracker["active_loop"] == {} or tracker["active_loop"].get("name") is None
    assert tracker["slots"]["booking_reference"] is None


def test_urgent_triage_gets_no_booking(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "my eye is swollen")
    assert "doctor" in texts(reply)
    reply = assistant.say(sender, "can I book an appointment?")
    assert "doctor" in texts(reply) and not buttons(reply)


def test_cancel_needs_the_right_contact_then_rebook(assistant, booked):
    sender = new_sender()  # the patient comes back later, in a new conversation
    reply = assistant.say(sender, "I need to cancel my appointment")
    assert "booking reference" in texts(reply)
    reply = assistant.say(sender, booked["reference"].lower())
    assert "booked with" in texts(reply)
    reply = assistant.say(sender, "07911 000000")  # not the contact used to book
    assert "couldn't find a booking" in texts(reply)
    assert listed(assistant, booked["day"])[booked["reference"]]["status"] == "booked"

    assistant.say(sender, "cancel my booking please")
    assistant.say(sender, f"my reference is {booked['reference']}")
    reply = assistant.say(sender, "+44 7911 123456")
    assert booked["reference"] in texts(reply) and "cancel it" in texts(reply)
    reply = assistant.say(sender, "/cancel_appointment")
    assert "is cancelled" in texts(reply)
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
    assert f"Move your booking {reference}" in texts(reply), texts(reply)
    reply = assistant.say(sender, "yes")
    assert f"{reference}" in texts(reply) and "is now on" in texts(reply)
    new_start = json.loads(later[len("/choose_time"):])["booking_time"]
    row = listed(assistant, new_start[:10])[reference]
    assert row["starts_at"] == new_start and row["status"] == "booked"


def test_an_unclear_screening_answer_books_nothing(assistant):
    sender = new_sender()
    reply = assistant.say(sender, "I'd like to book a consultation")
    said = []
    for answer in ("hmm", "dunno really"):
        assert "When would you like to come in?" not in texts(reply)
        reply = assistant.say(sender, answer)
        said.append(texts(reply))
    assert "see a doctor" in said[0] and "tap a button" in said[0].lower()  # asked once more, with help
    assert "When would you like to come in?" not in said[1]  # a second miss: a maybe, no booking
    assert "VW-" not in " ".join(said)
    tracker = assistant.tracker(sender)
    assert tracker["slots"]["booking_reference"] is None
    assert tracker["active_loop"] == {} or tracker["active_loop"].get("name") is None
