"""Real servers shared by the integration tests: one assistant, one web app, one browser."""

import pytest

from tests.integration.servers import API_TOKEN, RunningAssistant, RunningWebApp, free_port
from tests.twilio_support import FakeTwilioServer

# The staff console's secret in tests (signs cookies, derives conversation keys).
STAFF_SECRET_KEY = "integration-staff-secret"


@pytest.fixture(scope="session")
def web_port() -> int:
    """The web app's port, chosen first so that Rasa's CORS list can name its origin."""
    return free_port()


@pytest.fixture(scope="session")
def fake_twilio():
    """Twilio's Messages API, faked on localhost: what the assistant texts proactively lands here."""
    server = FakeTwilioServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, web_port, fake_twilio):
    running = RunningAssistant(
        workdir=tmp_path_factory.mktemp("assistant"), cors=[f"http://127.0.0.1:{web_port}"],
        extra_env={"TWILIO_API_BASE_URL": fake_twilio.url},
    ).start()
    yield running
    running.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def clinic_db(request, tmp_path):
    """A migrated clinic database with the test schedule, on SQLite and on a real PostgreSQL server."""
    from tests.booking import prepare_database

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'clinic.db'}"
        prepare_database(url)
        yield url
        return
    from tests.postgres import fresh_database

    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        prepare_database(url)
        yield url


@pytest.fixture(scope="session")
def web_app(tmp_path_factory, assistant, web_port):
    """The clinic's web app on 127.0.0.1:web_port, talking to the real assistant and reading its stores."""
    running = RunningWebApp(
        workdir=tmp_path_factory.mktemp("web"),
        port=web_port,
        extra_env={
            "RASA_URL": assistant.url,
            "RASA_PUBLIC_URL": "",  # the widget reaches Rasa on the page's host
            "RASA_AUTH_TOKEN": API_TOKEN,
            "DATABASE_URL": assistant.database_url,
            "TRACKER_STORE_URL": assistant.tracker_store_url,
            "STAFF_SECRET_KEY": STAFF_SECRET_KEY,
        },
    ).start()
    yield running
    running.stop()


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
