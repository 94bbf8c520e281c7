"""The console's figures come from the source of truth: real conversations (trackers built from events,
saved through the project's tracker store) and real rows of the bookings table."""

import ast
import asyncio
import json
import re
import time

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from clinic.booking import handlers
from clinic.booking.contact import Contact
from clinic.booking.handlers import BookingRequest
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.conversations import summary as summary_module
from clinic.db.booking import Booking
from clinic.db.engine import session_factory
from clinic.staff.accounts import create_user
from clinic.testing.booking import NOW, TUESDAY, at, prepare_database
from clinic.tracker_store import ErasableSQLTrackerStore
from clinic.web.staff import staff_app
from clinic.web.staff.settings import StaffSettings
from tests.conftest import ROOT

SECRET = "figures-secret"
PASSWORD = "figures password"
DOMAIN = Domain.load(str(ROOT / "domain"))


def test_summary_names_only_slots_actions_and_intents_the_domain_has():
    assert set(summary_module.DOMAIN_SLOTS) <= set(DOMAIN.slots and [s.name for s in DOMAIN.slots])
    assert set(summary_module.DOMAIN_INTENTS) <= set(DOMAIN.intents)
    assert set(summary_module.DOMAIN_ACTIONS) <= set(DOMAIN.action_names_or_texts)
    assert set(summary_module.BOOKABLE_RESULTS) < set(DOMAIN.slots[
        [s.name for s in DOMAIN.slots].index("triage_result")].values)
    # and no other name slipped in: every action_/utter_ string in the module is the domain's (or Rasa's
    # own event fields: an event's action_name, a bot message's utter_action)
    tree = ast.parse((ROOT / "clinic" / "conversations" / "summary.py").read_text())
    names = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
             and isinstance(node.value, str) and re.fullmatch(r"(action|utter|validate)_\w+", node.value)}
    names -= {"action_name", "utter_action"}
    assert names and names <= set(DOMAIN.action_names_or_texts), names - set(DOMAIN.action_names_or_texts)
    slot_names = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                  and isinstance(node.value, str) and node.value.endswith(("_result", "_outcome", "_slot"))}
    assert slot_names <= {s.name for s in DOMAIN.slots}


def user(text, intent, confidence=0.97, at=0.0):
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": []}
    return UserUttered(text, parse_data=parse, input_channel="rest", timestamp=at)


def start(at):
    return [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
            ActionExecuted("action_listen", timestamp=at)]


def assessed(result, at):
    return [user("hard white bump, no pus", "describe_bump", at=at + 1),
            SlotSet("bump_hardness", "hard", timestamp=at + 1),
            SlotSet("triage_result", result, timestamp=at + 2),
            ActionExecuted("action_give_assessment", timestamp=at + 2)]


def booking_form(outcome, at):
    """What action_start_booking and action_submit_booking record."""
    events = [user("/book_appointment", "book_appointment", 1.0, at=at + 3),
              ActionExecuted("action_start_booking", timestamp=at + 3),
              SlotSet("booking_blocked", False, timestamp=at + 3),
              SlotSet("patient_name", "Jane Doe", timestamp=at + 4),
              user("no" if outcome == "declined" else "yes", "deny" if outcome == "declined" else "affirm",
                   at=at + 5),
              ActionExecuted("action_submit_booking", timestamp=at + 5),
              SlotSet("booking_outcome", outcome, timestamp=at + 5)]
    return events


# sender -> (events, what happens in the bookings table)
def conversations(now):
    return {
        "figures-books": (start(now) + assessed("milia", now) + booking_form("booked", now), "booked"),
        "figures-declines": (start(now) + assessed("pustule", now) + booking_form("declined", now), None),
        "figures-cancels": (start(now) + assessed("uncertain", now) + booking_form("booked", now),
                            "cancelled"),
        "figures-no-triage": (start(now) + booking_form("booked", now), "booked"),
        "figures-attends": (start(now) + assessed("milia", now) + booking_form("booked", now), "attended"),
        "figures-not-now": (start(now) + assessed("milia", now)
                            + [user("not now", "deny", at=now + 4)], None),
        "figures-urgent": (start(now) + [user("it bleeds", "report_red_flag", at=now + 1),
                                         SlotSet("red_flags", ["bleeding"], timestamp=now + 1),
                                         SlotSet("triage_result", "urgent", timestamp=now + 1),
                                         user("book me in", "book_appointment", at=now + 2),
                                         ActionExecuted("action_start_booking", timestamp=now + 2),
                                         SlotSet("booking_blocked", True, timestamp=now + 2)], None),
        "figures-just-asks": (start(now) + [user("what are milia?", "ask_what_is_milia", at=now + 1)], None),
    }


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("figures")
    tracker_url, db_url = f"sqlite:///{tmp / 'tracker.db'}", f"sqlite:///{tmp / 'clinic.db'}"
    store = ErasableSQLTrackerStore(domain=DOMAIN, host=tracker_url)
    now = time.time() - 3600
    prepare_database(db_url)
    uow = unit_of_work_factory(db_url)
    hour = 9
    for sender, (events, fate) in conversations(now).items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
        if fate is None:
            continue
        booking = handlers.book(uow, BookingRequest("extraction", at(TUESDAY, hour), "Jane Doe",
                                                    Contact("phone", "+447911123456"), sender_id=sender), NOW)
        hour += 1
        if fate == "cancelled":
            handlers.cancel_by_clinic(uow, booking.reference, NOW)
        elif fate == "attended":
            handlers.mark_attended(uow, booking.reference, at(TUESDAY, 17))
    with session_factory(db_url)() as db:
        create_user(db, "rita", PASSWORD, "reviewer")
        db.commit()
    settings = StaffSettings(secret_key=SECRET, session_minutes=60, cookie_secure=False, database_url=db_url,
                             tracker_store_url=tracker_url, rasa_url="http://127.0.0.1:9",
                             rasa_auth_token="token")
    return Starlette(routes=[Mount("/staff", app=staff_app(settings))]), db_url


@pytest.fixture
def client(clinic, cheap_password_hashing):
    client = TestClient(clinic[0])
    page = client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/staff/login", data={"username": "rita", "password": PASSWORD,
                                                 "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    return client


def table(db_url):
    """What the bookings table says, per status, over the conversations' bookings."""
    with session_factory(db_url)() as db:
        rows = dict(db.execute(select(Booking.status, func.count()).group_by(Booking.status)).all())
        standing = db.scalar(select(func.count(func.distinct(Booking.sender_id)))
                             .where(Booking.status != "cancelled"))
    return rows, standing


def number(page, label):
    """The figure shown before `label` on the insights page."""
    return re.search(r"<strong>([^<]+)</strong>" + re.escape(label), page).group(1)


def test_insights_figures_match_the_bookings_table(client, clinic):
    statuses, standing = table(clinic[1])
    assert statuses == {"booked": 2, "cancelled": 1, "attended": 1} and standing == 3
    page = client.get("/staff/insights").text
    # offered: the five conversations with a booking form or a bookable assessment, plus "not now"
    assert number(page, "booked of those offered a booking") == f"{standing} / 6"
    assert "(50%)" in page
    assert number(page, "declined") == "1"  # "no" at the summary is not booked
    assert number(page, "bookings cancelled since") == str(statuses["cancelled"])
    assert number(page, "attended") == str(statuses["attended"])
    assert number(page, "conversations") == "8"


@pytest.mark.parametrize("booked, senders", [
    ("yes", {"figures-books", "figures-no-triage", "figures-attends"}),
    ("no", {"figures-declines", "figures-cancels", "figures-not-now", "figures-urgent", "figures-just-asks"}),
])
def test_the_booked_filter_is_the_bookings_table(client, booked, senders):
    page = client.get("/staff/conversations", params={"booked": booked}).text
    assert f"{len(senders)} of 8 conversations" in page


def test_each_conversation_shows_its_booking_status_from_the_table(client):
    page = client.get("/staff/conversations").text
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    shown = []
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        if len(cells) > 6:
            shown.append(cells[5].strip())
    assert sorted(shown) == sorted(
        ["booked", "declined", "cancelled", "booked", "attended", "no", "no", "no"])


def rows_of(events):
    """Tracker events as rows of the tracker store's events table (Rasa's SQLTrackerStore columns)."""
    rows = []
    for i, event in enumerate(events, start=1):
        data = event.as_dict()
        rows.append({"id": i, "type_name": event.type_name, "timestamp": event.timestamp,
                     "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get("name"),
                     "action_name": data.get("name") if event.type_name == "action" else None,
                     "data": json.dumps(data)})
    return rows


def manage_form(at):
    """What the manage booking form and action_manage_booking record when a patient cancels by reference."""
    return [user("I need to cancel", "cancel_appointment", at=at + 1),
            ActionExecuted("action_start_managing", timestamp=at + 1),
            SlotSet("booking_reference", "MIL-7KQ2", timestamp=at + 2),
            SlotSet("patient_contact", "+447911123456", timestamp=at + 3),
            SlotSet("manage_choice", "cancel", timestamp=at + 4),
            ActionExecuted("action_manage_booking", timestamp=at + 4),
            SlotSet("manage_outcome", "cancelled", timestamp=at + 4),
            SlotSet("manage_choice", None, timestamp=at + 4)]


def submitted(at):
    """What action_submit_booking records once it booked (the booking form's slots are then emptied)."""
    return [SlotSet("booking_outcome", "booked", timestamp=at + 6),
            SlotSet("booking_reference", "MIL-7KQ2", timestamp=at + 6),
            SlotSet("booking_time", None, timestamp=at + 6)]


def test_a_booking_counts_from_the_bookings_table_never_from_slot_or_action_names():
    # summary.py once took the booking from guessed names (slots booking_reference, booking_id,
    # appointment_id; actions action_confirm_booking, action_book_appointment, action_submit_booking):
    # a patient who only looked up a booking to cancel it counted as a booking.
    now = time.time()
    cancels = summary_module.summarise("cancels", rows_of(start(now) + manage_form(now)))
    assert not cancels.booked and not cancels.offered_booking and cancels.booking_status == ""
    cancels.bookings = {"cancelled": 1}
    assert not cancels.booked and cancels.booking_status == "cancelled"

    books = summary_module.summarise(
        "books", rows_of(start(now) + assessed("milia", now) + booking_form("booked", now) + submitted(now)))
    assert books.offered_booking and books.booking_outcome == "booked" and books.triage_result == "milia"
    assert not books.booked  # until the bookings table has its row
    books.bookings = {"booked": 1}
    assert books.booked and books.booking_status == "booked"


def test_summary_reads_the_contracts_names():
    from clinic.contract import Intent, Slot

    assert all(isinstance(name, Slot) for name in summary_module.DOMAIN_SLOTS)
    assert all(isinstance(name, Intent) for name in summary_module.DOMAIN_INTENTS)
