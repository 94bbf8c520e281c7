"""One real assistant (action server + Rasa server) shared by the integration tests."""

import pytest

from tests.integration.servers import RunningAssistant


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    running = RunningAssistant(workdir=tmp_path_factory.mktemp("assistant")).start()
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
