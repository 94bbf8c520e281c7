"""The outbox's pure parts: the wording from domain/, reminders' timing, the .ics, the e-mail, SMTP_URL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from clinic.booking.handlers import BookingView
from clinic.outbox.calendar import Venue, invitation
from clinic.outbox.cli import parse_now
from clinic.outbox.compose import CHANGES, MessagePolicy, messages_for
from clinic.outbox.email import EmailNotConfigured, SmtpSettings, build_email, html_body
from clinic.outbox.texts import MissingResponse, render, responses
from clinic.outbox.worker import backoff
from clinic.testing.booking import TZ

NOW = datetime(2030, 6, 3, 8, 0, tzinfo=TZ)
START = datetime(2030, 6, 4, 9, 30, tzinfo=TZ)


def booking(contact: str = "+447911123456", kind: str = "phone", **changes) -> BookingView:
    view = BookingView(
        reference="VW-7KM3QD", status="booked", service_code="extraction",
        service_name="Milia extraction (de-roofing)", practitioner="Ana", patient_name="Jane Doe",
        contact=contact, contact_kind=kind, starts_at=START, ends_at=START + timedelta(minutes=30),
        sender_id=None, triage_result=None, bump_hardness=None, bump_fluid=None, bump_location=None,
        created_at=NOW, cancelled_at=None, cancelled_by=None,
    )
    return replace(view, **changes)


@pytest.mark.parametrize("change", CHANGES)
def test_every_message_is_a_domain_response_with_its_placeholders_filled(change):
    for row in (messages_for(change, booking(), NOW, 0, MessagePolicy())[:1]
                + messages_for(change, booking("jane@example.com", "email"), NOW, 0, MessagePolicy())[:1]):
        assert "VW-7KM3QD" in row.body and "{" not in row.body and "}" not in row.body, row.body
        if row.channel == "email":
            assert "VW-7KM3QD" in row.subject and "Tuesday 4 June at 9:30am" in row.body
        else:
            assert len(row.body) <= 160, (change, len(row.body), row.body)  # one SMS
            assert "Tue 4 Jun 9:30am" in row.body


def test_the_wording_lives_in_domain_outbox_yml():
    names = [n for n in responses() if n.startswith("utter_outbox_")]
    assert len(names) == 13  # with the waitlist offer
    with pytest.raises(MissingResponse):
        render("utter_outbox_sms_unknown", {})


def test_reminders_are_due_reminder_hours_before_and_skipped_at_short_notice():
    rows = messages_for("booked", booking(), NOW, 0, MessagePolicy(reminder_hours_before=24))
    assert [(r.kind, r.due_at) for r in rows] == [
        ("confirmation", NOW), ("reminder", START - timedelta(hours=24))]
    two_hours = messages_for("booked", booking(), NOW, 0, MessagePolicy(reminder_hours_before=2))
    assert two_hours[1].due_at == START - timedelta(hours=2)
    late = messages_for("booked", booking(), START - timedelta(hours=3), 0, MessagePolicy())
    assert [r.kind for r in late] == ["confirmation"]  # booked 3 hours before: no reminder
    assert [r.kind for r in messages_for("cancelled", booking(), NOW, 2, MessagePolicy())] == ["cancellation"]


def _row(kind="confirmation"):
    change = {"confirmation": "booked", "cancellation": "cancelled"}[kind]
    row = messages_for(change, booking("jane@example.com", "email"), NOW, 3, MessagePolicy())[0]
    row.created_at = NOW
    return row


def test_the_invitation_is_on_the_clinics_clock_with_the_reference_as_uid():
    clinic = Venue(address="12 Harley Mews, London")
    calendar = Calendar.from_ical(invitation(_row(), clinic, "Vitawell <bookings@vitawell.example>", NOW))
    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REQUEST" and str(event["UID"]) == "VW-7KM3QD"
    assert event.decoded("DTSTART") == START and event["DTSTART"].params["TZID"] == "Europe/London"
    assert int(event["SEQUENCE"]) == 3 and str(event["LOCATION"]) == "12 Harley Mews, London"
    assert calendar.walk("VTIMEZONE"), "the zone is described for clients that don't know it"
    cancel = Calendar.from_ical(invitation(_row("cancellation"), Venue(), "b@vitawell.example", NOW))
    assert cancel["METHOD"] == "CANCEL" and cancel.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    assert "LOCATION" not in cancel.walk("VEVENT")[0]  # no address in the clinic's file: none invented


def test_the_venue_and_the_texts_use_the_clinics_details():
    venue = Venue.from_clinic_file()
    assert venue.address == "12 Example Street, London XX1 1XX" and venue.timezone == "Europe/London"
    [email] = messages_for("cancelled", booking("jane@example.com", "email"), NOW, 0, MessagePolicy())
    assert "Vitawell Skin Clinic" in email.body and "020 7946 0321" in email.body
    [sms, reminder] = messages_for("booked", booking(), NOW, 0, MessagePolicy())
    assert sms.body.startswith("Vitawell Skin Clinic:") and "020 7946 0321" in email.body
    assert reminder.body.endswith("Reply C to confirm, R to change, X to cancel.")  # actions/reminders.py


def test_a_broken_clinic_file_leaves_the_clinic_placeholders_not_a_crash(tmp_path):
    path = tmp_path / "clinic.yml"
    path.write_text("timezone: Europe/London\n")
    assert Venue.from_clinic_file(path) == Venue()
    [row] = messages_for("cancelled", booking(), NOW, 0, MessagePolicy(clinic_file=path))
    assert "VW-7KM3QD" in row.body


def test_the_email_has_text_html_and_the_ics_and_a_message_id_from_the_row():
    row = _row()
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    email = build_email(row, "Vitawell <bookings@vitawell.example>", NOW, ics)
    assert email["Message-ID"] == f"<{row.id}@vitawell.example>"
    types = [part.get_content_type() for part in email.walk()]
    assert types == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]
    escaped = html_body("<script>alert(1)</script>")
    assert "<script" not in escaped and "&lt;script&gt;" in escaped


def test_smtp_url_forms_and_clear_errors():
    assert SmtpSettings.from_url("smtp://127.0.0.1:2525") == SmtpSettings("plain", "127.0.0.1", 2525)
    assert SmtpSettings.from_url("smtp+starttls://kim:p%40ss@mail.example:587") == SmtpSettings(
        "starttls", "mail.example", 587, "kim", "p@ss")
    assert SmtpSettings.from_url("smtps://mail.example").port == 465
    for bad in ("", "http://mail.example", "smtp://", "smtp://host:notaport"):
        with pytest.raises(EmailNotConfigured):
            SmtpSettings.from_url(bad)


def test_now_and_backoff():
    assert parse_now("2030-06-03T09:00", "Europe/London") == datetime(2030, 6, 3, 8, 0, tzinfo=timezone.utc)
    assert parse_now("2030-06-03T09:00Z", "Europe/London") == datetime(2030, 6, 3, 9, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_now("tomorrow", "Europe/London")
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (1, 2, 4)]
    assert backoff(20) == timedelta(hours=1)
