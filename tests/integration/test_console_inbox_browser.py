"""The inbox in Chromium reloads itself under the console's script-free CSP: a patient who asks for a person
while the page is open appears on it without anyone touching the browser."""

import concurrent.futures
import re

import pytest
from playwright.sync_api import expect

from clinic.privacy import conversation_key
from tests.integration.browser import watch
from tests.security.console_support import PASSWORD, SECRET, start_console
from tests.unit.test_staff_inbox import waiting

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """The real web app over seeded stores (two patients already waiting), reloading the inbox every 1 s."""
    running = start_console(tmp_path_factory.mktemp("inbox"), STAFF_INBOX_REFRESH_SECONDS="1")
    yield running
    running.app.stop()


def test_a_new_patient_waiting_appears_in_the_open_inbox(console, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    seen = watch(page)
    try:
        page.goto(f"{console.url}/staff/inbox")
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/staff/inbox$"))
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(2)
        expect(page).to_have_title(re.compile(r"^\(2\) Needs a person"))
        sender = "web-inbox-new-patient"
        # another thread: Playwright's sync API holds this thread's event loop
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(waiting, console.tracker_url, sender, "is there a nurse I can ask?").result(60)
        link = f"/staff/conversations/{conversation_key(SECRET, sender)}"
        new_row = page.locator(f'tbody tr:has(a[href$="{link}"])')
        # the page reloads itself: no click, no navigation by the test (it reloads every second, so the
        # checks retry across reloads rather than read a page mid-navigation)
        expect(new_row).to_contain_text("is there a nurse I can ask?", timeout=30_000)
        expect(rows).to_have_count(3)
        expect(page).to_have_title(re.compile(r"^\(3\) Needs a person"))
        expect(page).to_have_url(re.compile(r".*/staff/inbox\?seen=[0-9a-f]{32}$"))
        assert seen.dialogs == [] and seen.errors == []
    finally:
        context.close()
