"""Practitioners' iCalendar feeds: made and revoked by an admin in the console, read at their secret URL.

A real clinic database (SQLite and PostgreSQL), real bookings through the service layer, and the staff
console through its HTTP client (Starlette's TestClient); the feed is parsed with `icalendar`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from clinic.booking import handlers
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.db.engine import session_factory
from clinic.staff.accounts import create_user
from clinic.staff.models import AuditEntry, CalendarFeed
from clinic.testing.booking import NOW, TUESDAY, at, request
from clinic.testing.outbox import CLINIC_ADDRESS, clinic_file
from clinic.web.staff import staff_app
from clinic.web.staff.settings import StaffSettings

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
FEED_URL = re.compile(r'value="(http://testserver/staff/calendar/([A-Za-z0-9_-]+)\.ics)"')
LONG_AGO = datetime(2025, 1, 7, 10, 0, tzinfo=ZoneInfo("Europe/London"))  # a Tuesday, long past


@pytest.fixture
def console(clinic_db, tmp_path, monkeypatch, cheap_password_hashing):
    monkeypatch.setenv("CLINIC_SCHEDULE_FILE", str(clinic_file(tmp_path)))  # the address: LOCATION
    with session_factory(clinic_db)() as db:
        create_user(db, "adam", PASSWORD, "admin")
        create_user(db, "rita", PASSWORD, "reviewer")
        db.commit()
    settings = StaffSettings(secret_key="feed-test-secret", session_minutes=60, cookie_secure=False,
                             database_url=clinic_db, tracker_store_url=f"sqlite:///{tmp_path / 't.db'}",
                             rasa_url="http://127.0.0.1:9", rasa_auth_token="token")
    return Starlette(routes=[Mount("/staff", app=staff_app(settings))])


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(app, username: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/staff/login")
    response = client.post("/staff/login", data={"username": username, "password": PASSWORD,
                                                 "csrf_token": csrf_of(page.text), "next": "/staff/bookings"})
    assert response.status_code == 200, response.text
    return client


def audited(url: str, action: str) -> list:
    with session_factory(url)() as db:
        return [(e.username, e.target, e.outcome) for e in db.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_a_practitioners_feed_holds_their_bookings_until_revoked(clinic_db, console):
    uow = unit_of_work_factory(clinic_db)
    kept = handlers.book(uow, request(at(TUESDAY, 10), name="Jane Doe", phone="+447911123401"), NOW)
    dropped = handlers.book(uow, request(at(TUESDAY, 11), name="Omar Haddad", phone="+447911123402"), NOW)
    handlers.cancel_booking(uow, dropped.reference, "+447911123402", NOW)
    other = handlers.book(uow, request(at(TUESDAY, 10), name="Li Wei", phone="+447911123403"), NOW)
    past = handlers.book(uow, request(LONG_AGO, phone="+447911123404"),
                         datetime(2025, 1, 6, 9, tzinfo=LONG_AGO.tzinfo))
    assert {kept.practitioner, dropped.practitioner, past.practitioner} == {"Ana"}
    assert other.practitioner == "Ben"  # Ana was taken at 10:00

    admin = signed_in(console, "adam")
    page = admin.get("/staff/calendars").text
    response = admin.post("/staff/calendars", data={"csrf_token": csrf_of(page), "practitioner": "ana"})
    assert response.status_code == 200 and "New feed for Ana" in response.text
    url, token = FEED_URL.search(response.text).groups()
    assert token not in admin.get("/staff/calendars").text  # shown once

    with session_factory(clinic_db)() as db:
        [stored] = db.scalars(select(CalendarFeed)).all()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (stored.token_hash, stored.created_by)

    reader = TestClient(console)  # a calendar provider: no cookies, only the URL
    feed = reader.get(url)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    assert calendar["METHOD"] == "PUBLISH" and "Ana" in str(calendar["X-WR-CALNAME"])
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {kept.reference, dropped.reference}  # not Ben's, not the one long past
    event = events[kept.reference]
    assert event.decoded("DTSTART") == at(TUESDAY, 10) and event.decoded("DTEND") == at(TUESDAY, 10, 30)
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    assert str(event["LOCATION"]) == CLINIC_ADDRESS and str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Milia extraction (de-roofing) - Jane D."
    assert "+4479" not in feed.text  # no contact details for the calendar provider
    assert str(events[dropped.reference]["STATUS"]) == "CANCELLED"
    with session_factory(clinic_db)() as db:
        assert db.scalars(select(CalendarFeed)).one().last_fetched_at is not None

    page = admin.get("/staff/calendars").text
    feed_id = re.search(r'/staff/calendars/(\d+)/revoke', page).group(1)
    revoked = admin.post(f"/staff/calendars/{feed_id}/revoke", data={"csrf_token": csrf_of(page)})
    assert revoked.status_code == 200 and "no longer works" in revoked.text and "revoked" in revoked.text
    assert reader.get(url).status_code == 404
    assert reader.get("/staff/calendar/" + "A" * 43 + ".ics").status_code == 404  # never existed
    assert reader.get("/staff/calendar/.ics").status_code == 404
    assert audited(clinic_db, "create calendar feed") == [("adam", "practitioner ana", "ok")]
    assert audited(clinic_db, "revoke calendar feed") == [("adam", f"feed {feed_id}", "ok")]


def test_only_admins_make_or_revoke_feeds(clinic_db, console):
    reviewer = signed_in(console, "rita")
    page = reviewer.get("/staff/bookings").text
    assert reviewer.get("/staff/calendars").status_code == 403
    assert reviewer.post("/staff/calendars", data={"csrf_token": csrf_of(page), "practitioner": "ana"}
                         ).status_code == 403
    admin = signed_in(console, "adam")
    page = admin.get("/staff/calendars").text
    assert admin.post("/staff/calendars", data={"practitioner": "ana"}).status_code == 403  # no CSRF token
    assert admin.post("/staff/calendars", data={"csrf_token": csrf_of(page), "practitioner": "zed"}
                      ).status_code == 404
    assert admin.post("/staff/calendars/99/revoke", data={"csrf_token": csrf_of(page)}).status_code == 404
    with session_factory(clinic_db)() as db:
        assert db.scalars(select(CalendarFeed)).all() == []
    assert ("rita", None, "refused") in [(u, t, o) for u, t, o in audited(clinic_db, "GET /staff/calendars")]
