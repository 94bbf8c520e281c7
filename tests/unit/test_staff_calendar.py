"""The bookings calendar: its layout (pure) and the pages it gives from real bookings in a real database."""

from dataclasses import replace
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from typing import Dict, List, Optional, Tuple

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from clinic.booking import handlers
from clinic.booking.availability import Schedule
from clinic.booking.contact import Contact
from clinic.booking.handlers import BookingRequest, BookingView
from clinic.booking.schedule import parse_schedule
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.contract import BookingStatus
from clinic.db.engine import session_factory
from clinic.outbox.repository import MessageView
from clinic.staff.accounts import create_user
from clinic.testing.booking import (
    MONDAY,
    NOW,
    SUNDAY,
    TEST_SCHEDULE,
    TUESDAY,
    WEDNESDAY_CLOSED,
    at,
    prepare_database,
)
from clinic.testing.booking import schedule as clinic_schedule
from clinic.web.staff import staff_app
from clinic.web.staff.calendar import (
    COVERED,
    STATUS_LABELS,
    Block,
    booking_card,
    booking_cards,
    day_grid,
    week_grid,
    week_start,
)
from clinic.web.staff.settings import StaffSettings

PASSWORD = "calendar password"


def booking(start: datetime, minutes: int = 30, practitioner: str = "ana", status: str = "booked",
            reference: Optional[str] = None) -> BookingView:
    return BookingView(
        reference=reference or f"VW-{practitioner[:2].upper()}{start:%d%H%M}", status=status,
        service_code="extraction", service_name="Milia extraction (de-roofing)",
        practitioner=practitioner.title(), patient_name="Jane Doe", contact="+447911123456",
        contact_kind="phone", starts_at=start, ends_at=start + timedelta(minutes=minutes), sender_id=None,
        triage_result=None, bump_hardness=None, bump_fluid=None, bump_location=None, created_at=NOW,
        cancelled_at=None, cancelled_by=None, practitioner_code=practitioner,
    )


def where(grid, reference: str) -> Tuple[str, str, int]:
    """(row label, column code, rows) of the block holding a booking."""
    for row in grid.rows:
        for column, cell in zip(grid.columns, row.cells, strict=True):
            if isinstance(cell, Block) and any(b.reference == reference for b in cell.bookings):
                return row.label, column.code, cell.rows
    raise AssertionError(f"{reference} is not in the grid")


# --- the layout -------------------------------------------------------------------------------------

def test_a_day_has_a_column_per_practitioner_and_a_row_per_slot():
    schedule = clinic_schedule()
    bookings = [booking(at(TUESDAY, 10)), booking(at(TUESDAY, 10), practitioner="ben"),
                booking(at(TUESDAY, 11), minutes=60), booking(at(TUESDAY, 10, 15), status="cancelled",
                                                              reference="VW-CANCEL")]
    grid = day_grid(schedule, TUESDAY, bookings)
    assert [c.code for c in grid.columns] == ["ana", "ben"] and all(c.works for c in grid.columns)
    labels = [r.label for r in grid.rows]
    assert labels[0] == "09:00" and labels[-1] == "16:45" and len(labels) == 32  # 09:00-17:00, 15 minutes
    closed = [r.label for r in grid.rows if not r.open]
    assert closed == ["12:30", "12:45", "13:00", "13:15"]  # Tuesday's lunch break
    assert where(grid, "VW-AN041000") == ("10:00", "ana", 2)
    assert where(grid, "VW-BE041000") == ("10:00", "ben", 2)
    assert where(grid, "VW-AN041100") == ("11:00", "ana", 4)
    by_label = {r.label: r for r in grid.rows}
    assert by_label["10:15"].cells[0] is COVERED and by_label["10:15"].cells[1] is COVERED
    assert by_label["10:30"].cells == [None, None]
    assert [b.reference for b in grid.cancelled] == ["VW-CANCEL"]  # cancelled bookings hold no time
    assert "VW-CANCEL" not in [b.reference for b in grid.active]
    assert grid.closed is None


def test_who_is_not_working_and_closed_days_are_shown_as_such():
    schedule = clinic_schedule()
    monday = day_grid(schedule, MONDAY, [])
    assert [(c.code, c.works) for c in monday.columns] == [("ana", True), ("ben", False)]  # Ben: Tue, Thu
    assert monday.rows and all(cell is None for row in monday.rows for cell in row.cells)
    training = day_grid(schedule, WEDNESDAY_CLOSED, [])
    assert training.closed == "Training day" and training.rows == []
    assert day_grid(schedule, SUNDAY, []).closed == "closed"


def test_nothing_booked_is_left_out_of_the_grid():
    schedule = clinic_schedule()
    late = booking(at(MONDAY, 18), reference="VW-LATE")  # outside the hours (the schedule changed since)
    gone = booking(at(MONDAY, 9), practitioner="cleo", reference="VW-GONE")  # no longer listed
    on_closed_day = booking(at(WEDNESDAY_CLOSED, 10), reference="VW-CLOSED")
    grid = day_grid(schedule, MONDAY, [late, gone])
    assert grid.rows[-1].label == "18:15" and not grid.rows[-1].open
    assert where(grid, "VW-LATE") == ("18:00", "ana", 2)
    assert [(c.code, c.works) for c in grid.columns][-1] == ("cleo", False)
    assert where(grid, "VW-GONE") == ("09:00", "cleo", 2)
    closed = day_grid(schedule, WEDNESDAY_CLOSED, [on_closed_day])
    assert closed.closed == "Training day" and where(closed, "VW-CLOSED") == ("10:00", "ana", 2)
    assert [r.label for r in closed.rows] == ["10:00", "10:15"]


def test_bookings_that_share_a_coarser_slot_share_one_cell():
    """slot_minutes went from 15 to 30: two 15-minute bookings fall in one row, one block shows both."""
    coarse = Schedule.from_config(parse_schedule({**TEST_SCHEDULE, "booking": {"slot_minutes": 30}}))
    first, second = booking(at(MONDAY, 10), 15, reference="VW-A"), booking(at(MONDAY, 10, 15), 15,
                                                                            reference="VW-B")
    third = booking(at(MONDAY, 10, 30), 45, reference="VW-C")
    fourth = booking(at(MONDAY, 10, 45), 30, reference="VW-D")  # after a change of grid, overlapping cells
    grid = day_grid(coarse, MONDAY, [fourth, third, second, first])
    blocks = [c for r in grid.rows for c in r.cells if isinstance(c, Block)]
    assert [([b.reference for b in c.bookings], c.rows) for c in blocks] == [(["VW-A", "VW-B"], 1),
                                                                            (["VW-C", "VW-D"], 2)]
    assert where(grid, "VW-D") == ("10:30", "ana", 2)  # 10:30-11:30: one block over the rows of both


def test_a_week_is_practitioners_by_days():
    schedule = clinic_schedule()
    bookings = [booking(at(TUESDAY, 14)), booking(at(TUESDAY, 10)),
                booking(at(TUESDAY, 9), practitioner="ben"),
                booking(at(MONDAY, 9), status="cancelled", reference="VW-X"),
                booking(at(MONDAY + timedelta(days=7), 9), reference="VW-NEXT-WEEK")]
    grid = week_grid(schedule, week_start(TUESDAY), bookings)
    assert [d.day for d in grid.days][0] == MONDAY and len(grid.days) == 7
    assert [d.closed for d in grid.days] == [None, None, "Training day", None, None, None, "closed"]
    assert [b.starts_at.time() for b in grid.cell("ana", TUESDAY)] == [time(10), time(14)]  # earliest first
    assert [b.practitioner_code for b in grid.cell("ben", TUESDAY)] == ["ben"]
    assert grid.cell("ana", MONDAY) == [] and [b.reference for b in grid.cancelled] == ["VW-X"]
    assert all(b.reference != "VW-NEXT-WEEK" for cell in grid.cells.values() for b in cell)


# --- what a booking's card shows --------------------------------------------------------------------

def test_every_status_has_its_label():
    assert set(STATUS_LABELS) == set(BookingStatus) and STATUS_LABELS[BookingStatus.NO_SHOW] == "no-show"


@pytest.mark.parametrize("status", list(BookingStatus))
def test_a_card_offers_what_the_booking_layer_allows(status):
    start = at(TUESDAY, 10)
    before, after = start - timedelta(minutes=1), start
    b = booking(start, status=status)
    standing = status != BookingStatus.CANCELLED
    assert booking_card(b, before, is_admin=True).can_mark is False  # not before the appointment starts
    assert booking_card(b, after, is_admin=True).can_mark is standing
    assert handlers.clinic_may_mark(status, start, after) is standing
    booked = status == BookingStatus.BOOKED
    assert booking_card(b, before, is_admin=True).can_cancel is booked
    assert booking_card(b, before, is_admin=False).can_cancel is False  # admins only
    assert booking_card(b, before, is_admin=True).status_label == STATUS_LABELS[status]


def test_confirmed_by_the_patient_is_shown_only_while_booked():
    confirmed = replace(booking(at(TUESDAY, 10)), confirmed_at=NOW)
    assert booking_card(confirmed, NOW, is_admin=False).confirmed_by_patient is True
    cancelled = replace(confirmed, status=BookingStatus.CANCELLED)
    assert booking_card(cancelled, NOW, is_admin=False).confirmed_by_patient is False
    assert booking_card(booking(at(TUESDAY, 10)), NOW, is_admin=False).confirmed_by_patient is False


def test_a_card_lists_the_findings_the_conversation_and_the_messages():
    start = at(TUESDAY, 10)
    b = replace(booking(start), sender_id="web-1", bump_hardness="hard", bump_fluid="no", bump_location=None)
    sent = MessageView("1", b.reference, "reminder", "sms", "replied", NOW, 3, NOW, "timeout", "confirm")
    due = MessageView("2", b.reference, "confirmation", "email", "opted_out", NOW, 1, None, None)
    cards = booking_cards([b], NOW, True, {"web-1": "KEY"}, {b.reference: [sent, due]})
    card = cards[b.reference]
    assert card.findings == "hard fluid: no" and card.conversation_key == "KEY"
    assert [(m.summary, m.when, m.error) for m in card.messages] == [
        ("reminder (sms): replied (confirm)", f"{NOW:%d %b %H:%M}, 3 attempts", "timeout"),
        ("confirmation (email): opted out", f"due {NOW:%d %b %H:%M}", None),
    ]
    unknown = booking(start)  # its conversation is not in the console's index (or it has no sender)
    assert booking_cards([unknown], NOW, True, {}, {})[unknown.reference].conversation_key is None


# --- the pages, from real bookings in a real database -----------------------------------------------

class Grid(HTMLParser):
    """Reads a calendar table as a browser lays it out: rowspans taken into account."""

    def __init__(self, table_class: str) -> None:
        super().__init__()
        self.table_class, self.depth, self.inside = table_class, 0, False
        self.headers: List[str] = []  # data-practitioner or data-day of each column after the first
        self.rows: List[str] = []  # data-time or data-practitioner of each body row
        self.taken: Dict[Tuple[int, int], bool] = {}
        self.column = 0
        self.cell: Optional[Tuple[int, int]] = None
        self.found: Dict[str, Tuple[str, str]] = {}  # reference -> (row, column)
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and self.table_class in (a.get("class") or "").split():
            self.inside = True
        if not self.inside:
            return
        if tag == "thead":
            self.in_head = True
        elif tag == "tr" and not self.in_head:
            self.rows.append(a.get("data-time") or a.get("data-practitioner"))
            self.column = 0
        elif tag in ("th", "td"):
            if self.in_head:
                if a.get("data-practitioner") or a.get("data-day"):
                    self.headers.append(a.get("data-practitioner") or a.get("data-day"))
                return
            row = len(self.rows) - 1
            while self.taken.get((row, self.column)):
                self.column += 1
            for r in range(int(a.get("rowspan", 1))):
                self.taken[(row + r, self.column)] = True
            self.cell = (row, self.column)
            self.column += 1
        elif tag == "div" and "booking" in (a.get("class") or "").split() and self.cell and not self.in_head:
            row, column = self.cell
            self.found[a["data-reference"]] = (self.rows[row], self.headers[column - 1] if column else "")

    def handle_endtag(self, tag):
        if tag == "thead":
            self.in_head = False
        if tag == "table":
            self.inside = False


def read(page: str, table_class: str) -> Grid:
    grid = Grid(table_class)
    grid.feed(page)
    return grid


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """A migrated clinic database with the test schedule, real bookings (one cancelled), two staff."""
    tmp = tmp_path_factory.mktemp("calendar")
    db_url, tracker_url = f"sqlite:///{tmp / 'clinic.db'}", f"sqlite:///{tmp / 'tracker.db'}"
    prepare_database(db_url)
    uow = unit_of_work_factory(db_url)
    made = {}
    for name, service, start, phone in (
        ("ana-10", "extraction", at(TUESDAY, 10), "+447700900001"),
        ("ben-10", "extraction", at(TUESDAY, 10), "+447700900002"),
        ("ana-11", "facial", at(TUESDAY, 11), "+447700900003"),
        ("ben-14", "consultation", at(TUESDAY, 14), "+447700900004"),
        ("ana-14", "consultation", at(TUESDAY, 14), "+447700900005"),
        ("thu", "extraction", at(TUESDAY + timedelta(days=2), 9, 30), "+447700900006"),
        ("gone", "extraction", at(TUESDAY, 15), "+447700900007"),
    ):
        request = BookingRequest(service, start, f"Patient {name}", Contact("phone", phone),
                                 sender_id=f"web-{name}")
        made[name] = handlers.book(uow, request, NOW)
    handlers.cancel_by_clinic(uow, made["gone"].reference, NOW)
    with session_factory(db_url)() as db:
        create_user(db, "cal", PASSWORD, "reviewer")
        db.commit()
    settings = StaffSettings(secret_key="calendar-secret", session_minutes=60, cookie_secure=False,
                             database_url=db_url, tracker_store_url=tracker_url, rasa_url="http://127.0.0.1:9",
                             rasa_auth_token="token")
    client = TestClient(Starlette(routes=[Mount("/staff", app=staff_app(settings))]))
    page = client.get("/staff/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/staff/login", data={"username": "cal", "password": PASSWORD, "csrf_token": token})
    return client, made


def test_the_day_page_shows_each_booking_at_its_practitioner_and_time(clinic):
    client, made = clinic
    page = client.get(f"/staff/bookings?day={TUESDAY.isoformat()}").text
    grid = read(page, "day")
    assert grid.headers == ["ana", "ben"]
    expected = {made[n].reference: (f"{made[n].starts_at:%H:%M}", made[n].practitioner_code)
                for n in ("ana-10", "ben-10", "ana-11", "ben-14", "ana-14")}
    assert {ref: grid.found.get(ref) for ref in expected} == expected
    assert {made["ana-10"].practitioner_code, made["ben-10"].practitioner_code} == {"ana", "ben"}
    assert made["gone"].reference not in grid.found  # cancelled: listed apart, holds no time
    cancelled = page[page.index("Cancelled this day"):page.index("Coming up")]
    assert made["gone"].reference in cancelled
    assert made["thu"].reference not in grid.found  # another day
    assert "5 bookings this day" in page and "+447700900001" not in page and "+44•••01" in page  # reviewer
    assert "confirmation (sms): queued" in page
    assert "Previous day" in page and "Next day" in page and "view=week" in page
    for day in (TUESDAY - timedelta(days=1), TUESDAY + timedelta(days=1)):
        assert f"/staff/bookings?day={day.isoformat()}" in page


def test_the_week_page_lists_bookings_by_practitioner_and_day(clinic):
    client, made = clinic
    page = client.get(f"/staff/bookings?day={TUESDAY.isoformat()}&view=week").text
    grid = read(page, "week")
    assert grid.headers == [(week_start(TUESDAY) + timedelta(days=i)).isoformat() for i in range(7)]
    assert grid.rows == ["ana", "ben"]
    for name in ("ana-10", "ben-10", "ana-11", "ben-14", "ana-14", "thu"):
        b = made[name]
        assert grid.found[b.reference] == (b.practitioner_code, b.starts_at.date().isoformat()), name
    assert "Previous week" in page and "Next week" in page
    assert f"day={(MONDAY - timedelta(days=7)).isoformat()}&amp;view=week" in page
    assert "Training day" in page  # Wednesday 5 June
    assert read(client.get("/staff/bookings?day=2030-06-12&view=week").text, "week").found == {}


def test_today_and_the_next_bookings_come_first(clinic):
    client, made = clinic
    page = client.get("/staff/bookings").text  # today, on the clinic's clock
    today = datetime.now(Schedule.from_config(parse_schedule(TEST_SCHEDULE)).tz).date()
    assert today.strftime("%A %d %B %Y") in page
    upcoming = page[page.index("Coming up"):]
    order = [upcoming.index(made[n].reference) for n in ("ana-10", "ana-11", "ana-14", "thu")]
    assert order == sorted(order)  # earliest first
    assert made["gone"].reference not in upcoming  # cancelled
    assert client.get("/staff/bookings?day=not-a-date").status_code == 200
