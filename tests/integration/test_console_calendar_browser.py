"""The bookings calendar in Chromium at 1280 and 768 px: each booking in its practitioner's column and its
time's row, the week's cells by practitioner and day, and nothing cut off (wide tables scroll sideways)."""

import re

import pytest

from clinic.booking import handlers
from clinic.booking.contact import Contact
from clinic.booking.handlers import BookingRequest
from clinic.booking.unit_of_work import unit_of_work_factory
from clinic.testing.booking import NOW, TUESDAY, at
from tests.integration.browser import screenshot_path, watch
from tests.security.console_support import PASSWORD, start_console

pytestmark = pytest.mark.integration

WIDTHS = (1280, 768)

# Every element on the page: inside the viewport, or inside a box that scrolls sideways and itself fits;
# nothing clipped by overflow: hidden; and the page as a whole never wider than the viewport.
OVERFLOW_CHECK = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  const scroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === 'auto' || x === 'scroll') return p;
    }
    return null;
  };
  const name = (el) => el.tagName.toLowerCase() + '.' + String(el.className).replace(/ +/g, '.');
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const style = getComputedStyle(el);
    if ((style.overflowX === 'hidden' || style.overflowX === 'clip') && el.scrollWidth > el.clientWidth + 1)
      problems.push('clipped: ' + name(el));
    if (box.left >= -0.5 && box.right <= width + 0.5) continue;
    const outer = scroller(el);
    if (outer === null) {
      problems.push('outside the viewport: ' + name(el) + ' ' + box.left + '..' + box.right);
      continue;
    }
    const frame = outer.getBoundingClientRect();
    if (frame.left < -0.5 || frame.right > width + 0.5) problems.push('scroll box too wide: ' + name(outer));
  }
  return {problems: problems.slice(0, 10), page_overflow: document.documentElement.scrollWidth - width};
}"""


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """The real web app over seeded stores, with bookings for both practitioners on Tuesday 4 June 2030."""
    running = start_console(tmp_path_factory.mktemp("calendar"))
    uow = unit_of_work_factory(running.database_url)
    extra = [
        BookingRequest("extraction", at(TUESDAY, 10), "Sam Second", Contact("phone", "+447700900111")),
        BookingRequest("facial", at(TUESDAY, 11), "Fay Facial", Contact("email", "fay@example.org")),
        BookingRequest("consultation", at(TUESDAY, 15, 30), "Con Sultation",
                       Contact("phone", "+447700900222")),
    ]
    for request in extra:
        handlers.book(uow, request, NOW)
    bookings = handlers.bookings_on(uow, TUESDAY)
    yield running, bookings
    running.app.stop()


def sign_in(page, console, path):
    page.goto(f"{console.url}{path}")
    page.get_by_label("Username").fill("adam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/staff/bookings.*"))


def centre(box):
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def inside(point, box):
    x, y = point
    return box["x"] <= x <= box["x"] + box["width"] and box["y"] <= y <= box["y"] + box["height"]


def assert_nothing_cut_off(page, width):
    found = page.evaluate(OVERFLOW_CHECK)
    assert found["problems"] == [], (width, found)
    assert found["page_overflow"] <= 0, (width, found)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_day_puts_each_booking_in_its_practitioners_column_and_its_times_row(console, browser, width):
    running, bookings = console
    assert {b.practitioner_code for b in bookings} == {"ana", "ben"}  # both columns are used
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    seen = watch(page)
    try:
        sign_in(page, running, f"/staff/bookings?day={TUESDAY.isoformat()}")
        day = page.locator("table.calendar.day")
        assert day.locator("thead th[data-practitioner]").count() == 2
        for b in bookings:
            card = day.locator(f'.booking[data-reference="{b.reference}"]')
            card.scroll_into_view_if_needed()
            header = day.locator(f'thead th[data-practitioner="{b.practitioner_code}"]').bounding_box()
            row = day.locator(f'tr[data-time="{b.starts_at:%H:%M}"] th.time').bounding_box()
            box = card.bounding_box()
            x, _ = centre(box)
            assert header["x"] <= x <= header["x"] + header["width"], (b.reference, b.practitioner_code)
            assert row["y"] - 1 <= box["y"] <= row["y"] + row["height"], (b.reference, f"{b.starts_at:%H:%M}")
            assert 0 <= x <= width  # scrolled into view: reachable even when the table is wider
            assert f"{b.starts_at:%H:%M}–{b.ends_at:%H:%M}" in card.inner_text()
        facial = next(b for b in bookings if b.service_code == "facial")
        cell = day.locator(f'td:has(.booking[data-reference="{facial.reference}"])')
        assert cell.get_attribute("rowspan") == "4"  # 60 minutes on the 15-minute grid
        first = next(b for b in bookings if b.patient_name == "Jane Doe")
        janes = day.locator(f'.booking[data-reference="{first.reference}"]')
        assert janes.get_by_role("link", name="Conversation").count() == 1  # Jane booked in a conversation
        assert "confirmation (sms): queued" in janes.inner_text()  # and her outbox messages
        assert day.locator('tr[data-time="12:45"]').get_attribute("class") == "closed"  # lunch break
        page.evaluate("window.scrollTo(0, 0)")
        assert_nothing_cut_off(page, width)
        page.screenshot(path=str(screenshot_path(f"staff-calendar-day-{width}.png")), full_page=True)
        assert seen.dialogs == [] and seen.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_week_lists_bookings_by_practitioner_and_day(console, browser, width):
    running, bookings = console
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    seen = watch(page)
    try:
        sign_in(page, running, f"/staff/bookings?day={TUESDAY.isoformat()}&view=week")
        week = page.locator("table.calendar.week")
        assert week.locator("thead th[data-day]").count() == 7
        for b in bookings:
            card = week.locator(f'.booking[data-reference="{b.reference}"]')
            card.scroll_into_view_if_needed()
            point = centre(card.bounding_box())
            column = week.locator(f'thead th[data-day="{TUESDAY.isoformat()}"]').bounding_box()
            row = week.locator(f'tbody tr[data-practitioner="{b.practitioner_code}"]').bounding_box()
            assert column["x"] <= point[0] <= column["x"] + column["width"], b.reference
            assert inside(point, row), (b.reference, b.practitioner_code)
        page.evaluate("window.scrollTo(0, 0)")
        assert_nothing_cut_off(page, width)
        page.get_by_role("link", name="Next week →").click()
        assert "week of Mon 10 Jun 2030" in page.locator("h1").inner_text()
        assert page.locator("table.calendar.week .booking").count() == 0
        page.get_by_role("link", name="← Previous week").click()
        week.locator("thead").get_by_role("link", name="Tue 04 Jun").click()
        assert "Tuesday 04 June 2030" in page.locator("h1").inner_text()
        page.goto(f"{running.url}/staff/bookings?day={TUESDAY.isoformat()}&view=week")
        page.screenshot(path=str(screenshot_path(f"staff-calendar-week-{width}.png")), full_page=True)
        assert seen.dialogs == [] and seen.errors == []
    finally:
        context.close()
