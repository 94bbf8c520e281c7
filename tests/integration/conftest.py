"""Real databases and one browser for the integration tests (the assistant and web app: tests/conftest.py)."""

import pytest

from clinic.testing.servers import STAFF_SECRET_KEY  # noqa: F401 - the console tests import it here


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic_db(request, tmp_path):
    """A migrated clinic database with the test schedule, on SQLite and on a real PostgreSQL server."""
    from clinic.testing.booking import prepare_database

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'clinic.db'}"
        prepare_database(url)
        yield url
        return
    from clinic.testing.postgres import fresh_database

    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        prepare_database(url)
        yield url


@pytest.fixture(scope="module")
def own_postgres():
    """A PostgreSQL server of the test module's own, so that it can be stopped without harming other tests.

    `with own_postgres.down():` stops it for the block and resumes it after (same port, same data).
    """
    from clinic.testing.postgres import stoppable_server

    with stoppable_server() as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright (see tests/integration/browser.py).

    Module-scoped on purpose: Playwright's sync API keeps an event loop running in the main thread
    while it is open, which breaks every later `asyncio.run` and async test (tests/unit runs after).
    """
    from playwright.sync_api import sync_playwright

    from tests.integration.browser import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
