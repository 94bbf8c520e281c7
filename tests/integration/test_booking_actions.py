"""The booking actions with the real domain, a real SQLite database and a fixed clock.

The clock is Monday 3 June 2030, 08:00 in London (clinic/testing/booking.py); the clinic's test schedule is
open Monday to Saturday, closed on Sunday and on Wednesday 5 June (a training day).
"""

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import booking_support as support
from actions.booking import (
    ActionAskBookingConfirmed,
    ActionAskBookingService,
    ActionAskBookingTime,
    ActionManageBooking,
    ActionStartBooking,
    ActionSubmitBooking,
)
from actions.booking_form import ValidateBookingForm, ValidateManageBookingForm
from clinic.booking import handlers
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.testing.booking import MONDAY, NOW, TUESDAY, at, prepare_database, request
from tests.conftest import make_tracker

pytestmark = pytest.mark.integration

FREE = at(TUESDAY, 10).isoformat()


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    prepare_database(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(support, "now", lambda: NOW)
    return unit_of_work_factory(url)


def slot_events(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def responses(dispatcher):
    return [m.get("response") for m in dispatcher.messages]


def candidate(name, value):
    """Rasa passes a slot taken from a button's entity as the last event of the tracker."""
    slot = {"event": "slot", "timestamp": 2, "name": name, "value": value}
    return [{"event": "user", "timestamp": 1}, slot]


async def validate_booking(dispatcher, domain, slots=None, events=None, **message):
    tracker = make_tracker(slots=slots, active_loop="booking_form", events=events or [], **message)
    return slot_events(await ValidateBookingForm().run(dispatcher, tracker, domain))


# --- starting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "triage, text, service",
    [("milia", "yes please", "extraction"), ("pustule", "yes", "consultation"),
     ("uncertain", "ok", "consultation"), (None, "I'd like a facial", "facial"), (None, "book me in", None)],
)
async def test_the_service_follows_the_triage_or_the_words(db, dispatcher, domain, triage, text, service):
    tracker = make_tracker(slots={"triage_result": triage}, text=text, intent="book_appointment")
    slots = slot_events(await ActionStartBooking().run(dispatcher, tracker, domain))
    assert slots["booking_blocked"] is False and slots["booking_service"] == service
    assert dispatcher.messages == []


async def test_no_booking_after_an_urgent_triage(db, dispatcher, domain):
    tracker = make_tracker(slots={"triage_result": "urgent", "red_flags": ["bleeding"]}, intent="affirm")
    slots = slot_events(await ActionStartBooking().run(dispatcher, tracker, domain))
    assert slots == {"booking_blocked": True}
    assert responses(dispatcher) == ["utter_booking_after_doctor"]


async def test_database_down_means_please_call(monkeypatch, dispatcher, domain):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/nothing")
    tracker = make_tracker(text="book me in", intent="book_appointment")
    slots = slot_events(await ActionStartBooking().run(dispatcher, tracker, domain))
    assert slots == {"booking_blocked": True}
    assert responses(dispatcher) == ["utter_booking_unavailable"]
    dispatcher.messages.clear()
    form = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "requested_slot": "booking_time"},
        text="tomorrow at 10am", intent="choose_time",
    )
    assert form == {"booking_outcome": "failed", "requested_slot": None}  # the form ends
    assert responses(dispatcher) == ["utter_booking_unavailable"]


# --- choosing a time ------------------------------------------------------------------------


async def test_free_times_are_offered_as_buttons(db, dispatcher, domain):
    tracker = make_tracker(slots={"booking_service": "extraction", "requested_slot": "booking_time"})
    await ActionAskBookingTime().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_booking_time"
    assert [b["title"] for b in message["buttons"]] == [
        "Mon 3 Jun, 9:00am", "Mon 3 Jun, 11:00am", "Tue 4 Jun, 9:00am", "Tue 4 Jun, 11:00am"]
    assert message["buttons"][0]["payload"] == '/choose_time{"booking_time": "2030-06-03T09:00:00+01:00"}'


async def test_a_day_and_part_of_day_offers_that_afternoon(db, dispatcher, domain):
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "requested_slot": "booking_time"},
        text="next Tuesday afternoon", intent="choose_time",
    )
    assert slots["booking_time"] is None and slots["booking_time_hint"] == "day:2030-06-04:afternoon"
    tracker = make_tracker(slots={"booking_service": "extraction", **slots})
    await ActionAskBookingTime().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_booking_times_on_day"
    assert message["day"] == "Tuesday 4 June afternoon"
    assert message["buttons"][0]["title"] == "Tue 4 Jun, 12:00pm"


@pytest.mark.parametrize(
    "text, said, hint",
    [
        ("yesterday", "utter_booking_time_past", ""),
        ("31 February", "utter_booking_date_impossible", ""),
        ("Sunday", "utter_booking_day_closed", "from:2030-06-09"),
        ("wednesday at 10am", "utter_booking_day_closed", "from:2030-06-05"),
        ("monday at 8pm", "utter_booking_time_outside_hours", "near:2030-06-03T20:00:00+01:00"),
        ("Robert'); DROP TABLE bookings;--", "utter_booking_time_not_understood", None),
        ("x" * 5000, "utter_booking_time_not_understood", None),
    ],
)
async def test_unbookable_requests_get_a_reason_and_alternatives(db, dispatcher, domain, text, said, hint):
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "requested_slot": "booking_time"},
        text=text, intent="choose_time",
    )
    assert slots["booking_time"] is None
    assert slots.get("booking_time_hint") == hint
    assert responses(dispatcher) == [said]
    dispatcher.messages.clear()
    tracker = make_tracker(slots={"booking_service": "extraction", "booking_time_hint": hint})
    await ActionAskBookingTime().run(dispatcher, tracker, domain)
    assert len(dispatcher.messages[0]["buttons"]) == 4  # alternatives, always


async def test_a_button_time_is_checked_and_kept(db, dispatcher, domain):
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "booking_time": FREE,
                                   "requested_slot": "booking_time"},
        events=candidate("booking_time", FREE), text="/choose_time", intent="choose_time",
    )
    assert slots["booking_time"] == FREE and dispatcher.messages == []


async def test_a_typed_time_that_is_free_is_said_back(db, dispatcher, domain):
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "requested_slot": "booking_time"},
        text="tuesday at 10am", intent="choose_time",
    )
    assert slots["booking_time"] == FREE
    assert [(m["response"], m.get("when")) for m in dispatcher.messages] == [
        ("utter_booking_time_free", "Tuesday 4 June at 10:00am")]


async def test_a_forged_button_payload_is_refused(db, dispatcher, domain):
    forged = "'; DROP TABLE bookings; --"
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "booking_time": forged,
                                   "requested_slot": "booking_time"},
        events=candidate("booking_time", forged), text="/choose_time", intent="choose_time",
    )
    assert slots["booking_time"] is None
    assert responses(dispatcher) == ["utter_booking_time_not_understood"]


async def test_a_taken_time_is_refused_with_the_nearest_free_ones(db, dispatcher, domain):
    handlers.book(db, request(at(MONDAY, 14)), NOW)
    taken = at(MONDAY, 14).isoformat()
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "booking_time": taken,
                                   "requested_slot": "booking_time"},
        events=candidate("booking_time", taken), text="/choose_time", intent="choose_time",
    )
    assert slots["booking_time"] is None and slots["booking_time_hint"] == f"near:{taken}"
    assert responses(dispatcher) == ["utter_booking_time_taken"]
    dispatcher.messages.clear()
    tracker = make_tracker(slots={"booking_service": "extraction", **slots})
    await ActionAskBookingTime().run(dispatcher, tracker, domain)
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[:2] == ["Mon 3 Jun, 1:30pm", "Mon 3 Jun, 2:30pm"]


async def test_changing_the_time_at_the_summary(db, dispatcher, domain):
    slots = await validate_booking(
        dispatcher, domain,
        slots={"booking_service": "extraction", "booking_time": FREE, "patient_name": "Jane Doe",
               "patient_contact": "+447911123456", "requested_slot": "booking_confirmed"},
        text="actually can I come friday at 3pm instead", intent="choose_time",
    )
    assert slots["booking_time"] == "2030-06-07T15:00:00+01:00"


# --- name and contact -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value, said",
    [
        ("my name is Jane Doe", "Jane Doe", []),
        ("J" * 5000, None, ["utter_patient_name_too_long"]),
        ("Robert'); DROP TABLE bookings;--", None, ["utter_patient_name_invalid"]),
        ("07911 123456", None, ["utter_patient_name_invalid"]),
    ],
)
async def test_names(db, dispatcher, domain, text, value, said):
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "booking_time": FREE,
                                   "requested_slot": "patient_name"},
        text=text, intent="nlu_fallback",
    )
    assert slots["patient_name"] == value and responses(dispatcher) == said


@pytest.mark.parametrize(
    "text, value, said",
    [
        ("07911 123456", "+447911123456", []),
        ("jane@example.com", "jane@example.com", []),
        ("12345", None, ["utter_patient_contact_not_a_number"]),
        ("020 7946 0000", None, ["utter_patient_contact_landline"]),
        ("jane@", None, ["utter_patient_contact_not_an_email"]),
    ],
)
async def test_contacts(db, dispatcher, domain, text, value, said):
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "booking_time": FREE,
                                   "patient_name": "Jane", "requested_slot": "patient_contact"},
        text=text, intent="inform",
    )
    assert slots["patient_contact"] == value and responses(dispatcher) == said


NAME_ASKED = {"booking_service": "extraction", "booking_time": FREE, "requested_slot": "patient_name"}


async def test_a_second_bad_answer_in_a_row_ends_the_booking_with_the_clinics_number(db, dispatcher, domain):
    first = await validate_booking(dispatcher, domain, slots=NAME_ASKED, text="07911 123456", intent="inform")
    assert first["patient_name"] is None and first["question_misses"] == 1  # explained, asked again
    assert responses(dispatcher) == ["utter_patient_name_invalid"]
    dispatcher.messages.clear()
    second = await validate_booking(
        dispatcher, domain, slots={**NAME_ASKED, "question_misses": 1.0, "missed_question": "patient_name"},
        text="07911 123456", intent="inform",
    )
    assert responses(dispatcher) == ["utter_booking_gave_up"]  # not asked a third time
    assert second["booking_outcome"] == "failed" and second["requested_slot"] is None
    events = await ActionSubmitBooking().run(
        dispatcher, make_tracker(slots={**NAME_ASKED, **second}), domain)
    assert slot_events(events)["booking_outcome"] == "failed"
    assert handlers.bookings_on(db, TUESDAY) == []
    text = domain["responses"]["utter_booking_gave_up"][0]["text"]
    assert "{clinic_phone}" in text and "person" in text


async def test_a_good_answer_after_a_miss_clears_the_count(db, dispatcher, domain):
    slots = await validate_booking(
        dispatcher, domain, slots={**NAME_ASKED, "question_misses": 1.0, "missed_question": "patient_name"},
        text="Jane Doe", intent="inform",
    )
    assert slots["patient_name"] == "Jane Doe" and slots["question_misses"] is None
    assert slots.get("booking_outcome") is None


async def test_two_unreadable_times_end_the_booking(db, dispatcher, domain):
    asked = {"booking_service": "extraction", "requested_slot": "booking_time"}
    first = await validate_booking(dispatcher, domain, slots=asked, text="whenevs lol", intent="nlu_fallback")
    assert first["booking_time"] is None and responses(dispatcher) == ["utter_booking_time_not_understood"]
    dispatcher.messages.clear()
    second = await validate_booking(
        dispatcher, domain, slots={**asked, **{k: v for k, v in first.items() if k != "booking_time"}},
        text="whenevs lol", intent="nlu_fallback",
    )
    assert second["booking_outcome"] == "failed" and responses(dispatcher) == ["utter_booking_gave_up"]


async def test_two_unreadable_references_end_the_manage_form(db, dispatcher, domain):
    asked = {"requested_slot": "booking_reference"}
    first = await validate_manage(dispatcher, domain, asked, text="the one from tuesday", intent="inform")
    assert responses(dispatcher) == ["utter_booking_reference_not_understood"]
    dispatcher.messages.clear()
    second = await validate_manage(
        dispatcher, domain, {**asked, "question_misses": first["question_misses"],
                             "missed_question": first["missed_question"]},
        text="dunno it was tuesday", intent="inform",
    )
    assert second["manage_outcome"] == "failed" and second["requested_slot"] is None
    assert responses(dispatcher) == ["utter_booking_gave_up"]


async def test_a_question_instead_of_a_name_is_left_to_the_rules(db, dispatcher, domain):
    slots = await validate_booking(
        dispatcher, domain, slots={"booking_service": "extraction", "booking_time": FREE,
                                   "requested_slot": "patient_name"},
        text="does it hurt?", intent="ask_pain",
    )
    assert "patient_name" not in slots and dispatcher.messages == []  # the form is rejected: rules answer


# --- summary and booking --------------------------------------------------------------------

BOOKING = {
    "booking_service": "extraction", "booking_time": FREE, "patient_name": "Jane Doe",
    "patient_contact": "+447911123456", "booking_confirmed": True, "triage_result": "milia",
    "bump_hardness": "hard", "bump_fluid": "no", "bump_location": "eye_area",
}


async def test_services_and_summary(db, dispatcher, domain):
    await ActionAskBookingService().run(dispatcher, make_tracker(), domain)
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[0] == "Milia extraction (de-roofing) (30 min, £60.00)" and len(titles) == 3
    dispatcher.messages.clear()
    await ActionAskBookingConfirmed().run(dispatcher, make_tracker(slots=BOOKING), domain)
    [summary] = dispatcher.messages
    assert summary["response"] == "utter_booking_summary"
    assert (summary["when"], summary["price"], summary["contact"]) == (
        "Tuesday 4 June at 10:00am", "£60.00", "+44 7911 123456")


async def test_confirmed_booking_is_stored_with_the_triage(db, dispatcher, domain):
    tracker = make_tracker(slots=BOOKING, intent="affirm", sender_id="chat-42")
    slots = slot_events(await ActionSubmitBooking().run(dispatcher, tracker, domain))
    assert slots["booking_outcome"] == "booked" and slots["booking_time"] is None
    [message] = dispatcher.messages
    assert message["response"] == "utter_booking_confirmed"
    assert message["reference"] == slots["booking_reference"]
    assert message["when"] == "Tuesday 4 June at 10:00am"
    [stored] = handlers.bookings_on(db, TUESDAY)
    assert (stored.reference, stored.sender_id, stored.triage_result, stored.bump_location) == (
        slots["booking_reference"], "chat-42", "milia", "eye_area")


@pytest.mark.parametrize("empty", ["patient_name", "patient_contact", "booking_service", "booking_time"])
async def test_a_confirmation_with_a_slot_missing_says_please_call(db, dispatcher, domain, empty):
    """Not "that time was just taken": a missing name used to fail every insert and read as a race."""
    tracker = make_tracker(slots={**BOOKING, empty: None}, intent="affirm")
    slots = slot_events(await ActionSubmitBooking().run(dispatcher, tracker, domain))
    assert slots["booking_outcome"] == "failed" and responses(dispatcher) == ["utter_booking_unavailable"]
    assert handlers.bookings_on(db, TUESDAY) == []


async def test_no_at_the_summary_books_nothing(db, dispatcher, domain):
    tracker = make_tracker(slots={**BOOKING, "booking_confirmed": False}, intent="deny")
    slots = slot_events(await ActionSubmitBooking().run(dispatcher, tracker, domain))
    assert slots["booking_outcome"] == "declined" and responses(dispatcher) == ["utter_booking_not_made"]
    assert handlers.bookings_on(db, TUESDAY) == []


async def test_twenty_patients_confirming_one_time_one_booking_nineteen_just_taken(db, domain):
    """The brief's race, through the real action: 1 confirmation, 19 "that time was just taken"."""
    start = at(MONDAY, 10).isoformat()  # only Ana works on Mondays

    async def confirm(i):
        dispatcher = CollectingDispatcher()
        slots = {**BOOKING, "booking_time": start, "patient_name": f"Patient {i}",
                 "patient_contact": f"+4479111234{i:02d}"}
        events = await ActionSubmitBooking().run(dispatcher, make_tracker(slots=slots), domain)
        return slot_events(events)["booking_outcome"], responses(dispatcher)

    outcomes = await asyncio.gather(*(confirm(i) for i in range(20)))
    assert sorted(o for o, _ in outcomes) == ["booked"] + ["taken"] * 19
    said = sorted(r[0] for _, r in outcomes)
    assert said == ["utter_booking_confirmed"] + ["utter_booking_time_just_taken"] * 19
    assert len(handlers.bookings_on(db, MONDAY)) == 1


# --- cancel and move ------------------------------------------------------------------------


async def validate_manage(dispatcher, domain, slots, **message):
    tracker = make_tracker(slots=slots, active_loop="manage_booking_form", **message)
    return slot_events(await ValidateManageBookingForm().run(dispatcher, tracker, domain))


async def test_someone_elses_or_unknown_reference_is_not_found(db, dispatcher, domain):
    booked = handlers.book(db, request(at(TUESDAY, 10)), NOW)
    for reference, contact in [(booked.reference, "07911 000000"), ("VW-AAAA44", "07911 123456")]:
        dispatcher.messages.clear()
        slots = await validate_manage(
            dispatcher, domain, {"booking_reference": reference, "requested_slot": "patient_contact"},
            text=contact, intent="inform",
        )
        assert slots["manage_outcome"] == "not_found" and slots["requested_slot"] is None
        assert slots["booking_reference"] is None and slots["patient_contact"] is None
        assert responses(dispatcher) == ["utter_booking_not_found"]
    assert handlers.bookings_on(db, TUESDAY)[0].status == "booked"


async def test_reference_typed_loosely_is_found_then_cancelled(db, dispatcher, domain):
    booked = handlers.book(db, request(at(TUESDAY, 10)), NOW)
    slots = await validate_manage(
        dispatcher, domain, {"requested_slot": "booking_reference"},
        text=f"it's {booked.reference[3:].lower()}", intent="inform",
    )
    assert slots["booking_reference"] == booked.reference
    slots = await validate_manage(
        dispatcher, domain, {"booking_reference": booked.reference, "requested_slot": "patient_contact"},
        text="+44 7911 123456", intent="inform",
    )
    assert slots["patient_contact"] == "+447911123456" and "manage_outcome" not in slots
    tracker = make_tracker(slots={"booking_reference": booked.reference, "patient_contact": "+447911123456",
                                  "manage_choice": "cancel"})
    slots = slot_events(await ActionManageBooking().run(dispatcher, tracker, domain))
    assert slots["manage_outcome"] == "cancelled" and responses(dispatcher) == ["utter_booking_cancelled"]
    assert handlers.bookings_on(db, TUESDAY)[0].status == "cancelled"


async def test_move_sets_up_the_booking_form(db, dispatcher, domain):
    booked = handlers.book(db, request(at(TUESDAY, 10)), NOW)
    tracker = make_tracker(slots={"booking_reference": booked.reference, "patient_contact": "+447911123456",
                                  "manage_choice": "reschedule"})
    slots = slot_events(await ActionManageBooking().run(dispatcher, tracker, domain))
    set_up = (slots["manage_outcome"], slots["rescheduling"], slots["booking_service"], slots["patient_name"])
    assert set_up == ("reschedule", booked.reference, "extraction", "Jane Doe")
    moved = {**BOOKING, "booking_time": at(TUESDAY, 15).isoformat(), "rescheduling": booked.reference}
    slots = slot_events(await ActionSubmitBooking().run(dispatcher, make_tracker(slots=moved), domain))
    assert slots["booking_outcome"] == "booked" and slots["booking_reference"] == booked.reference
    assert responses(dispatcher)[-1] == "utter_booking_moved"
    assert [b.starts_at for b in handlers.bookings_on(db, TUESDAY)] == [at(TUESDAY, 15)]


@pytest.mark.parametrize(
    "text, intent, confidence, name",
    [
        ("Noor", "deny", 0.92, "Noor"),  # a name that the NLU reads as "no"
        ("Sam Smith", "ask_milia_vs_pustule", 0.42, "Sam Smith"),
        ("no thanks, I've changed my mind", "deny", 0.78, None),  # left to the rules: stop booking
        ("does it hurt", "ask_pain", 0.97, None),  # a question: the rules answer, then ask again
    ],
)
async def test_names_that_read_like_other_intents(db, dispatcher, domain, text, intent, confidence, name):
    tracker = make_tracker(slots={"booking_service": "extraction", "booking_time": FREE,
                                  "requested_slot": "patient_name"}, active_loop="booking_form",
                           text=text, intent=intent)
    tracker.latest_message["intent"]["confidence"] = confidence
    slots = slot_events(await ValidateBookingForm().run(dispatcher, tracker, domain))
    assert slots.get("patient_name") == name and dispatcher.messages == []


@pytest.mark.parametrize("cancelled, now, words", [
    (True, NOW, "already cancelled"), (False, at(TUESDAY, 10, 15), "already in the past")])
async def test_a_booking_that_can_no_longer_change_says_why(db, dispatcher, domain, monkeypatch,
                                                            cancelled, now, words):
    booked = handlers.book(db, request(at(TUESDAY, 10)), NOW)
    if cancelled:
        handlers.cancel_booking(db, booked.reference, "+447911123456", NOW)
    monkeypatch.setattr(support, "now", lambda: now)
    slots = await validate_manage(
        dispatcher, domain, {"booking_reference": booked.reference, "requested_slot": "patient_contact"},
        text="07911 123456", intent="inform",
    )
    assert slots["manage_outcome"] == "not_changeable" and slots["requested_slot"] is None
    [message] = dispatcher.messages
    assert (message["response"], message["reference"], message["status"]) == (
        "utter_booking_not_changeable", booked.reference, words)


@pytest.mark.parametrize("triage", [{"triage_result": "urgent"}, {"red_flags": ["bleeding"]}])
async def test_no_move_or_waitlist_before_a_doctor_but_cancelling_stays_possible(db, dispatcher, domain,
                                                                                 triage):
    from actions.waitlist import ActionStartWaitlist

    booked = handlers.book(db, request(at(TUESDAY, 10)), NOW)
    found = {"booking_reference": booked.reference, "patient_contact": "+447911123456", **triage}
    move = make_tracker(slots={**found, "manage_choice": "reschedule"})
    slots = slot_events(await ActionManageBooking().run(dispatcher, move, domain))
    assert slots["manage_outcome"] == "kept" and responses(dispatcher) == ["utter_booking_after_doctor"]
    dispatcher.messages.clear()
    wait = make_tracker(slots={"booking_service": "extraction", **triage})
    blocked = slot_events(await ActionStartWaitlist().run(dispatcher, wait, domain))
    assert blocked == {"waitlist_blocked": True}
    assert responses(dispatcher) == ["utter_waitlist_unavailable"]
    dispatcher.messages.clear()
    cancel = make_tracker(slots={**found, "manage_choice": "cancel"})
    slots = slot_events(await ActionManageBooking().run(dispatcher, cancel, domain))
    assert slots["manage_outcome"] == "cancelled"
