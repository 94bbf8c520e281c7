"""The review loop in Chromium: a reviewer saves a label on the Review page; `clinic nlu export` has it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from tests.integration.browser import screenshot_path, watch
from tests.security.console_support import CLEAR_VALUES, PASSWORD, start_console

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """The real web app (uvicorn) over seeded stores: conversations whose messages carry contact details."""
    running = start_console(tmp_path_factory.mktemp("review"))
    yield running
    running.app.stop()


def sign_in(page, console, username):
    page.goto(f"{console.url}/staff/review")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/staff/review$"))


def test_a_label_saved_in_the_browser_comes_out_of_the_export(console, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = watch(page)
    try:
        sign_in(page, console, "kim")
        rows = page.locator("tr.review-item")
        assert rows.count() == 3
        assert all(value not in page.content() for value in CLEAR_VALUES)  # a reviewer sees them masked
        row = rows.filter(has_text="call me on")
        row.get_by_label("Right intent").select_option("inform")
        row.get_by_role("button", name="Save label").click()
        assert "Label saved" in page.get_by_role("status").inner_text()
        page.locator("tr.review-item").filter(has_text="here").get_by_role(
            "button", name="Not a real message").click()
        assert "not a real message" in page.get_by_role("status").inner_text()
        assert page.locator("tr.review-item").count() == 1  # what is left to review
        page.get_by_role("link", name="labelled").click()
        labelled = page.locator("tr.review-item")
        assert labelled.count() == 2
        assert "Labelled inform by kim" in labelled.filter(has_text="call me on").inner_text()
        page.screenshot(path=str(screenshot_path("staff-review.png")), full_page=True)
        assert seen.dialogs == [] and seen.errors == []
    finally:
        context.close()

    out = tmp_path / "data" / "nlu" / "reviewed.yml"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "clinic"), "nlu", "export", "--out", str(out)],
        env={"DATABASE_URL": console.database_url, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Wrote 1 example" in result.stdout
    written = out.read_text()
    assert all(value not in written for value in CLEAR_VALUES)
    examples = [(m.get("intent"), m.get("text")) for m in RasaYAMLReader().read(out).intent_examples]
    assert examples == [
        ("inform", "call me on 07700 900000 or mail patient@example.com, or whatsapp 07700 900000")]
