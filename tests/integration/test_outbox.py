"""After the booking (issue 16): confirmations and reminders through the outbox, sent by `clinic worker`.

Real SQLite and PostgreSQL, a real SMTP server (aiosmtpd), the local fake of Twilio's REST API, and the
worker run as its own process (`clinic worker --once --now ...`) like cron runs it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from clinic.booking import handlers
from clinic.booking.contact import Contact
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.channels.repository import MessagingRepository
from clinic.db.engine import session_factory
from clinic.db.outbox import OutboxMessage
from clinic.testing.booking import MONDAY, NOW, TUESDAY, at, prepare_database, request
from clinic.testing.outbox import (
    CLINIC_ADDRESS,
    SmtpServer,
    clinic_file,
    run_worker,
    start_worker,
    worker_env,
)
from clinic.testing.servers import free_port
from clinic.testing.twilio_fake import FakeTwilioServer

pytestmark = pytest.mark.integration

MOBILE = "+447911123456"
EMAIL = "jane.doe@example.com"
DAY_BEFORE = at(MONDAY, 17).isoformat()  # reminders of Tuesday appointments before 17:00 are due


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def twilio():
    server = FakeTwilioServer().start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    prepare_database(url)
    return url


@pytest.fixture
def env(sqlite_db, smtp, twilio, tmp_path, monkeypatch):
    path = clinic_file(tmp_path)
    monkeypatch.setenv("CLINIC_SCHEDULE_FILE", str(path))  # the booking's texts and the worker read one file
    return worker_env(sqlite_db, smtp.url, twilio.url, path)


def by_email(start, address=EMAIL):
    return handlers.BookingRequest("extraction", start, "Jane Doe", Contact("email", address),
                                   sender_id="test-sender")


def rows(url, reference=None):
    with session_factory(url)() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.due_at)
        if reference:
            query = query.where(OutboxMessage.booking_reference == reference)
        return [(m.kind, m.channel, m.status) for m in session.execute(query).scalars()]


def calendar_of(message):
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.walk()]
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def test_book_with_an_email_sends_one_message_with_the_reference_and_a_valid_ics(sqlite_db, env, smtp):
    booked = handlers.book(unit_of_work_factory(sqlite_db), by_email(at(TUESDAY, 10), "ics@example.com"), NOW)
    assert rows(sqlite_db, booked.reference) == [("confirmation", "email", "queued"),
                                                 ("reminder", "email", "queued")]
    output = run_worker(env, NOW.isoformat())
    assert "sent 1" in output
    [message] = smtp.to("ics@example.com")
    assert booked.reference in message["Subject"]
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@vitawell.example>")
    plain = message.get_body(("plain",)).get_content()
    assert booked.reference in plain and "Tuesday 4 June at 10:00am" in plain
    assert booked.reference in message.get_body(("html",)).get_content()
    calendar = calendar_of(message)
    assert calendar["METHOD"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == booked.reference
    assert event.decoded("DTSTART") == at(TUESDAY, 10) and event.decoded("DTEND") == at(TUESDAY, 10, 30)
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert str(event["LOCATION"]) == CLINIC_ADDRESS and CLINIC_ADDRESS in plain
    assert rows(sqlite_db, booked.reference) == [("confirmation", "email", "sent"),
                                                 ("reminder", "email", "queued")]
    run_worker(env, NOW.isoformat())  # nothing more is due: nothing is sent again
    assert len(smtp.to("ics@example.com")) == 1
    assert "sent 1" in run_worker(env, DAY_BEFORE)
    reminder = smtp.to("ics@example.com")[1]
    assert reminder["Subject"].startswith("Reminder:") and booked.reference in reminder["Subject"]


def test_book_with_a_mobile_sends_one_sms_then_the_reminder_the_day_before(sqlite_db, env, twilio):
    booked = handlers.book(unit_of_work_factory(sqlite_db), request(at(TUESDAY, 11), phone=MOBILE), NOW)
    run_worker(env, NOW.isoformat())
    [confirmation] = twilio.api.to(MOBILE)
    assert booked.reference in confirmation and "Tue 4 Jun 11:00am" in confirmation
    assert len(confirmation) <= 160
    run_worker(env, at(MONDAY, 10, 59).isoformat())  # not yet due
    assert len(twilio.api.to(MOBILE)) == 1
    run_worker(env, at(MONDAY, 11).isoformat())
    assert len(twilio.api.to(MOBILE)) == 2 and twilio.api.to(MOBILE)[1].startswith("Reminder from")
    run_worker(env, at(MONDAY, 12).isoformat())
    assert len(twilio.api.to(MOBILE)) == 2
    with session_factory(sqlite_db)() as session:
        sent = session.execute(select(OutboxMessage)).scalars().all()
        assert all(m.status == "sent" and m.provider_id.startswith("SM") for m in sent)


def test_moving_cancels_the_old_reminder_and_cancelling_sends_a_calendar_cancel(sqlite_db, env, smtp):
    uow = unit_of_work_factory(sqlite_db)
    booked = handlers.book(uow, by_email(at(TUESDAY, 14), "mover@example.com"), NOW)
    moved = handlers.reschedule_booking(uow, booked.reference, "mover@example.com", at(TUESDAY, 15), NOW)
    assert rows(sqlite_db, booked.reference) == [
        ("confirmation", "email", "queued"), ("confirmation", "email", "queued"),
        ("reminder", "email", "cancelled"), ("reminder", "email", "queued"),
    ]
    handlers.cancel_booking(uow, moved.reference, "mover@example.com", NOW + timedelta(minutes=5))
    assert sorted(rows(sqlite_db, booked.reference)) == sorted([
        ("confirmation", "email", "queued"), ("confirmation", "email", "queued"),
        ("reminder", "email", "cancelled"), ("reminder", "email", "cancelled"),
        ("cancellation", "email", "queued"),
    ])
    run_worker(env, (NOW + timedelta(minutes=6)).isoformat())
    booked_mail, moved_mail, cancel_mail = smtp.to("mover@example.com")
    assert "3:00pm" in moved_mail.get_body(("plain",)).get_content()
    mails = (booked_mail, moved_mail, cancel_mail)
    sequences = [int(calendar_of(m).walk("VEVENT")[0]["SEQUENCE"]) for m in mails]
    assert sequences == [0, 1, 2]  # each change replaces the event in the patient's calendar
    cancel = calendar_of(cancel_mail)
    assert cancel["METHOD"] == "CANCEL" and cancel.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    assert cancel.walk("VEVENT")[0].decoded("DTSTART") == at(TUESDAY, 15)
    run_worker(env, DAY_BEFORE)
    assert len(smtp.to("mover@example.com")) == 3  # no reminder for a cancelled booking


def test_an_opted_out_number_gets_nothing(sqlite_db, env, twilio):
    MessagingRepository(session_factory(sqlite_db)).set_opted_out(MOBILE, True, "STOP")
    booked = handlers.book(unit_of_work_factory(sqlite_db), request(at(TUESDAY, 12), phone=MOBILE), NOW)
    run_worker(env, NOW.isoformat())
    run_worker(env, DAY_BEFORE)
    assert twilio.api.to(MOBILE) == [] and twilio.api.attempts == 0
    assert rows(sqlite_db, booked.reference) == [("confirmation", "sms", "opted_out"),
                                                 ("reminder", "sms", "opted_out")]


def test_failures_are_retried_with_backoff_then_marked_failed(sqlite_db, env, twilio, smtp):
    env = {**env, "OUTBOX_MAX_ATTEMPTS": "3", "TWILIO_SEND_ATTEMPTS": "1"}
    booked = handlers.book(unit_of_work_factory(sqlite_db), request(at(TUESDAY, 13, 30), phone=MOBILE), NOW)
    twilio.api.failures = [503, 503, 503]
    run_worker(env, NOW.isoformat())
    assert rows(sqlite_db, booked.reference)[0] == ("confirmation", "sms", "queued")
    run_worker(env, (NOW + timedelta(seconds=30)).isoformat())  # the backoff (1 minute) has not passed
    assert twilio.api.attempts == 1
    run_worker(env, (NOW + timedelta(minutes=1)).isoformat())
    assert twilio.api.attempts == 2
    process = start_worker(env, (NOW + timedelta(minutes=3)).isoformat())
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1 and "failed 1" in output  # cron sees the failure
    with session_factory(sqlite_db)() as session:
        row = session.execute(select(OutboxMessage).where(OutboxMessage.kind == "confirmation")).scalar_one()
        assert (row.status, row.attempts) == ("failed", 3) and "after 3 attempts" in row.last_error
    # SMTP not reachable: the e-mail waits (queued) with the reason, nothing is lost
    unreachable = {**env, "SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}
    mailed = handlers.book(unit_of_work_factory(sqlite_db), by_email(at(TUESDAY, 16), "later@example.com"),
                           NOW)
    run_worker(unreachable, (NOW + timedelta(minutes=4)).isoformat())
    with session_factory(sqlite_db)() as session:
        row = session.execute(select(OutboxMessage).where(
            OutboxMessage.booking_reference == mailed.reference, OutboxMessage.kind == "confirmation"
        )).scalar_one()
        assert row.status == "queued" and "SMTP" in row.last_error
    run_worker(env, (NOW + timedelta(minutes=10)).isoformat())
    assert len(smtp.to("later@example.com")) == 1


def _kill_mid_send(env, twilio, accept: bool) -> None:
    twilio.api.hold()
    worker = start_worker(env, NOW.isoformat())
    assert twilio.api.holding.wait(60), "the worker never reached Twilio"
    worker.send_signal(signal.SIGKILL)
    worker.wait(30)
    twilio.api.release(accept)
    time.sleep(0.2)


@pytest.mark.parametrize("reached_twilio", [False, True], ids=["before-twilio", "after-twilio-accepted"])
def test_a_worker_killed_mid_send_leaves_the_message_to_be_sent_once(sqlite_db, env, twilio, reached_twilio):
    booked = handlers.book(unit_of_work_factory(sqlite_db), request(at(TUESDAY, 9), phone=MOBILE), NOW)
    _kill_mid_send(env, twilio, accept=reached_twilio)
    assert rows(sqlite_db, booked.reference)[0] == ("confirmation", "sms", "sending")
    run_worker(env, (NOW + timedelta(minutes=1)).isoformat())  # the claim is still fresh: left alone
    assert len(twilio.api.to(MOBILE)) == (1 if reached_twilio else 0)
    run_worker(env, (NOW + timedelta(minutes=6)).isoformat())  # the claim expired (5 minutes)
    [sms] = twilio.api.to(MOBILE)
    assert booked.reference in sms
    assert rows(sqlite_db, booked.reference)[0] == ("confirmation", "sms", "sent")


def test_two_workers_at_once_on_postgresql_send_each_reminder_exactly_once(postgres_server, tmp_path, smtp):
    from clinic.testing.postgres import fresh_database

    twilio = FakeTwilioServer().start()
    try:
        with fresh_database(postgres_server) as url:
            prepare_database(url)
            uow = unit_of_work_factory(url)
            phones = [f"+4479111234{i:02d}" for i in range(7)]
            emails = [f"patient{i}@example.com" for i in range(7)]
            for i, phone in enumerate(phones):  # 9:00 ... 12:00
                handlers.book(uow, request(at(TUESDAY, 9) + timedelta(minutes=30 * i), phone=phone,
                                           name=f"P{i}"), NOW)
            for i, address in enumerate(emails):  # 13:30 ... 16:30
                handlers.book(uow, by_email(at(TUESDAY, 13, 30) + timedelta(minutes=30 * i), address), NOW)
            env = worker_env(url, smtp.url, twilio.url, clinic_file(tmp_path))
            day_before = at(MONDAY, 18).isoformat()
            workers = [start_worker(env, day_before) for _ in range(2)]
            outputs = [w.communicate(timeout=180)[0] for w in workers]
            assert [w.returncode for w in workers] == [0, 0], outputs
            for phone in phones:
                sent = twilio.api.to(phone)
                assert len(sent) == 2, (phone, sent)  # its confirmation and its reminder, once each
                assert sum(s.startswith("Reminder from") for s in sent) == 1
            for address in emails:
                subjects = [m["Subject"] for m in smtp.to(address)]
                assert len(subjects) == 2 and sum(s.startswith("Reminder:") for s in subjects) == 1, subjects
            assert all(status == "sent" for _, _, status in rows(url))
            assert all("sent" in out for out in outputs), outputs  # both workers took a share
    finally:
        twilio.stop()


def test_bad_now_gets_a_clear_answer(env):
    process = subprocess.run([str(os.path.join(".venv", "bin", "clinic")), "worker", "--once", "--now",
                              "next tuesday"], env=env, capture_output=True, text=True, timeout=60)
    assert process.returncode == 2 and "not an ISO 8601 time" in process.stderr
    assert "Traceback" not in process.stderr


def test_erasing_the_patients_data_cancels_and_blanks_their_messages(sqlite_db, env, twilio):
    from clinic.booking.erasure import erase_sender

    booked = handlers.book(unit_of_work_factory(sqlite_db), request(at(TUESDAY, 10), phone=MOBILE), NOW)
    run_worker(env, NOW.isoformat())  # the confirmation went out; the reminder waits
    with session_factory(sqlite_db)() as session:
        erase_sender(session, "test-sender")
        session.commit()
    run_worker(env, DAY_BEFORE)
    assert len(twilio.api.to(MOBILE)) == 1  # no reminder after the erasure
    with session_factory(sqlite_db)() as session:
        kept = session.execute(select(OutboxMessage).where(
            OutboxMessage.booking_reference == booked.reference
        ).order_by(OutboxMessage.due_at)).scalars().all()
        assert [(m.kind, m.status, m.recipient, m.body) for m in kept] == [
            ("confirmation", "sent", "(erased)", ""), ("reminder", "cancelled", "(erased)", "")]
