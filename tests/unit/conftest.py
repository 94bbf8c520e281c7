"""Unit-test fixtures: a real, migrated clinic database in a temporary SQLite file."""

import shutil

import pytest

from clinic.channels.repository import MessagingRepository
from clinic.db.engine import engine_for, session_factory
from clinic.db.migrate import upgrade


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """A clinic database at the latest revision, migrated once and copied by each test."""
    path = tmp_path_factory.mktemp("migrated") / "clinic.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine_for(url).dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def database_url(tmp_path, migrated_database):
    path = tmp_path / "clinic.db"
    shutil.copy(migrated_database, path)
    return f"sqlite:///{path}"


@pytest.fixture
def messaging(database_url) -> MessagingRepository:
    return MessagingRepository(session_factory(database_url))
