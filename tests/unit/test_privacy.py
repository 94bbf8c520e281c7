"""Masking, opaque keys, erasure (delete_my_data) and retention (purge) on a real SQL tracker store."""

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select

from actions.privacy import ActionDeleteMyData
from clinic import privacy
from clinic.conversations.store import events, tracker_engine
from clinic.db.engine import session_factory
from clinic.db.migrate import upgrade
from clinic.privacy import conversation_key, mask_contact, parse_age, purge
from clinic.tracker_store import ErasableSQLTrackerStore
from tests.conftest import ROOT, make_tracker


@pytest.mark.parametrize(
    "value, masked",
    [
        ("+447700900123", "+44•••23"),
        ("whatsapp:+447700900123", "whatsapp:+44•••23"),
        ("07700 900123", "07•••23"),
        ("jane.doe@example.com", "j•••@example.com"),
        ("3f2a9c1d8e7b4a60", "3f2•••60"),
        ("abc", "•••"),
        ("", ""),
        (None, ""),
    ],
)
def test_masking_hides_contact_details(value, masked):
    assert mask_contact(value) == masked


def test_masked_phone_keeps_no_more_than_four_digits():
    masked = mask_contact("+15005550006")
    assert sum(c.isdigit() for c in masked) == 4
    assert "5550006" not in masked


def test_conversation_keys_are_opaque_stable_and_secret_dependent():
    key = conversation_key("secret-a", "+447700900123")
    assert key == conversation_key("secret-a", "+447700900123")
    assert key != conversation_key("secret-b", "+447700900123")
    assert key != conversation_key("secret-a", "+447700900124")
    assert "7700" not in key and len(key) == 24


@pytest.mark.parametrize("text, expected", [("90d", timedelta(days=90)), ("12w", timedelta(weeks=12)),
                                            (" 48H ", timedelta(hours=48))])
def test_parse_age(text, expected):
    assert parse_age(text) == expected


@pytest.mark.parametrize("text", ["", "90", "0d", "-5d", "ninety days", "9y"])
def test_parse_age_rejects_nonsense_with_a_clear_message(text):
    with pytest.raises(ValueError, match="not an age like 90d"):
        parse_age(text)


@pytest.fixture(scope="module")
def domain_obj():
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture
def tracker_url(tmp_path):
    return f"sqlite:///{tmp_path / 'tracker.db'}"


def conversation(sender, start, texts, extra=()):
    """Events of one session that started at `start` (epoch seconds), one second per event."""
    evs = [ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start + 1),
           ActionExecuted("action_listen", timestamp=start + 2)]
    t = start + 3
    for text in texts:
        evs.append(UserUttered(text, {"name": "greet", "confidence": 0.9}, timestamp=t, input_channel="rest"))
        evs.append(BotUttered("hello", timestamp=t + 1))
        t += 2
    for event in extra:
        event.timestamp = t
        evs.append(event)
        t += 1
    return evs


def save(store, sender, evs):
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, evs)))


def count(url, sender=None):
    query = select(func.count()).select_from(events)
    if sender:
        query = query.where(events.c.sender_id == sender)
    with tracker_engine(url).connect() as conn:
        return conn.scalar(query)


def test_confirmed_delete_my_data_erases_only_that_conversation(domain_obj, tracker_url):
    store = ErasableSQLTrackerStore(domain=domain_obj, host=tracker_url)
    now = time.time()
    save(store, "keep-me", conversation("keep-me", now, ["hi"]))
    erased = conversation("erase-me", now, ["delete my data", "yes"],
                          extra=[ActionExecuted("action_delete_my_data"), ActionExecuted("action_listen")])
    # The turn before the confirmation is stored as usual ...
    save(store, "erase-me", erased[:-4])
    assert count(tracker_url, "erase-me") > 0
    # ... and the turn that ran action_delete_my_data takes the whole conversation with it.
    save(store, "erase-me", erased)
    assert count(tracker_url, "erase-me") == 0
    assert count(tracker_url, "keep-me") == len(conversation("keep-me", now, ["hi"]))
    # A new message from the same patient starts from nothing (Rasa finds no tracker).
    assert asyncio.run(store.retrieve("erase-me")) is None


def test_the_plain_store_behaviour_is_unchanged_without_erasure(domain_obj, tracker_url):
    store = ErasableSQLTrackerStore(domain=domain_obj, host=tracker_url)
    evs = conversation("p", time.time(), ["hi", "delete my data", "no"])
    save(store, "p", evs)
    assert count(tracker_url, "p") == len(evs)
    retrieved = asyncio.run(store.retrieve("p"))
    assert [e.text for e in retrieved.events if isinstance(e, UserUttered)] == ["hi", "delete my data", "no"]


async def test_delete_my_data_action_erases_clinic_records_and_confirms(tmp_path, monkeypatch, dispatcher,
                                                                         domain):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    erased_for = []
    monkeypatch.setattr(privacy, "PERSONAL_DATA_ERASERS", [lambda db, sender: erased_for.append(sender) or 2])
    events_out = await ActionDeleteMyData().run(dispatcher, make_tracker(sender_id="+447700900123"), domain)
    assert events_out == []
    assert erased_for == ["+447700900123"]
    assert [m["response"] for m in dispatcher.messages] == ["utter_data_deleted"]


async def test_delete_my_data_action_says_so_when_erasure_fails(monkeypatch, dispatcher, domain, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.db'}")

    def broken(db, sender):
        raise RuntimeError("database is down")

    monkeypatch.setattr(privacy, "PERSONAL_DATA_ERASERS", [broken])
    await ActionDeleteMyData().run(dispatcher, make_tracker(), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_data_delete_failed"]


def test_purge_erases_idle_conversations_and_old_sessions_only(domain_obj, tracker_url, tmp_path,
                                                               monkeypatch):
    store = SQLTrackerStore(domain=domain_obj, host=tracker_url)
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    day = 86400
    old, recent = (now - timedelta(days=120)).timestamp(), (now - timedelta(days=5)).timestamp()
    save(store, "idle", conversation("idle", old, ["hi"]))
    save(store, "fresh", conversation("fresh", recent, ["hi"]))
    # A patient who first wrote 120 days ago and came back 5 days ago: only the old session goes.
    returning = conversation("back", old, ["hi", "bye"]) + conversation("back", recent + day, ["hello again"])
    save(store, "back", returning)
    current_session = len(conversation("back", recent + day, ["hello again"]))
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    purged_before = []
    monkeypatch.setattr(privacy, "RETENTION_PURGERS", [lambda db, cutoff: purged_before.append(cutoff) or 3])
    with session_factory(url)() as db:
        report = purge(tracker_engine(tracker_url), db, timedelta(days=90), now=now)
    assert count(tracker_url, "idle") == 0
    assert count(tracker_url, "fresh") == len(conversation("fresh", recent, ["hi"]))
    # the returning patient keeps the current session (from its action_session_start on)
    assert count(tracker_url, "back") == current_session
    assert report.conversations == 1
    assert report.events == len(conversation("idle", old, ["hi"])) + len(returning) - current_session
    assert report.clinic_records == 3
    assert purged_before == [datetime(2026, 3, 3)]
    # Rasa still loads the returning patient's conversation
    tracker = asyncio.run(store.retrieve("back"))
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hello again"]


def test_purge_on_an_empty_tracker_store_does_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    upgrade(url)
    with session_factory(url)() as db:
        report = purge(tracker_engine(f"sqlite:///{tmp_path / 'none.db'}"), db, timedelta(days=90))
    assert (report.events, report.conversations) == (0, 0)


def test_erasing_a_sender_cancels_upcoming_bookings_and_anonymises_the_patient(tmp_path):
    from clinic.booking import handlers
    from clinic.booking.unit_of_work import unit_of_work_factory
    from clinic.db.booking import BookedSlot, Booking, Patient
    from clinic.testing.booking import NOW, TUESDAY, at, prepare_database, request

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    prepare_database(url)
    uow = unit_of_work_factory(url)
    mine = handlers.book(uow, request(at(TUESDAY, 10)), NOW)  # sender "test-sender"
    other = handlers.book(uow, request(at(TUESDAY, 11), name="Sam Roe", phone="+447911654321"), NOW)
    with session_factory(url)() as db:
        db.execute(Booking.__table__.update().where(Booking.reference == other.reference)
                   .values(sender_id="someone-else"))
        db.commit()
        assert privacy.erase_personal_data(db, "test-sender") == 2  # one booking, one patient
        db.commit()
    with session_factory(url)() as db:
        erased = db.scalar(select(Booking).where(Booking.reference == mine.reference))
        assert (erased.status, erased.cancelled_by, erased.sender_id) == ("cancelled", "patient", None)
        assert db.scalar(select(func.count()).select_from(BookedSlot).where(
            BookedSlot.booking_id == erased.id)) == 0  # its time is free again
        assert db.get(Patient, erased.patient_id).name == "(erased)"
        assert "+447911123456" not in {p.contact for p in db.scalars(select(Patient))}
        kept = db.scalar(select(Booking).where(Booking.reference == other.reference))
        assert (kept.status, kept.sender_id, db.get(Patient, kept.patient_id).name) == (
            "booked", "someone-else", "Sam Roe")


def test_retention_unlinks_old_bookings_and_anonymises_their_patients(tmp_path):
    from clinic.booking import handlers
    from clinic.booking.erasure import purge_before
    from clinic.booking.unit_of_work import unit_of_work_factory
    from clinic.db.booking import Booking, Patient
    from clinic.testing.booking import NOW, TUESDAY, at, prepare_database, request

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    prepare_database(url)
    old = handlers.book(unit_of_work_factory(url), request(at(TUESDAY, 10)), NOW)
    with session_factory(url)() as db:
        assert purge_before(db, datetime(2030, 6, 1)) == 0  # not old yet
        assert purge_before(db, datetime(2030, 9, 1)) == 2
        db.commit()
        booking = db.scalar(select(Booking).where(Booking.reference == old.reference))
        assert booking.sender_id is None and booking.status == "booked"
        assert db.get(Patient, booking.patient_id).contact.startswith("erased-")
        assert purge_before(db, datetime(2030, 9, 1)) == 0  # idempotent


def test_erasing_a_sender_removes_their_pending_sms_options_but_keeps_other_numbers(tmp_path):
    from clinic.channels.repository import MessagingRepository
    from clinic.channels.sms_text import Option
    from clinic.testing.booking import prepare_database

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    prepare_database(url)
    messaging = MessagingRepository(session_factory(url))
    option = Option(number=1, title="Hard", payload="/inform")
    messaging.remember_reply_options("+447700900123", [option])
    messaging.remember_reply_options("+447700900999", [option])
    with session_factory(url)() as db:
        assert privacy.erase_personal_data(db, "+447700900123") == 1
        db.commit()
    assert messaging.reply_options("+447700900123") == []
    assert messaging.reply_options("+447700900999") == [option]
