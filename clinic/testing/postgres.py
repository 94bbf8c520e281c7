"""A real PostgreSQL server for tests: TEST_POSTGRES_URL if set (CI), else a private one we start.

When it is unset (`make test`, CI), the `postgres_server` fixture starts a throw-away server with
scripts/postgres.sh for the test session (Debian's `postgresql`, installed by scripts/system-packages.sh).
A set but unusable TEST_POSTGRES_URL fails the tests (never a silent skip).
"""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg2
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "postgres.sh"


def check_server(url: str) -> None:
    """Connect once; raise with a clear message if the server is unusable."""
    try:
        psycopg2.connect(make_url(url).render_as_string(hide_password=False), connect_timeout=10).close()
    except psycopg2.Error as error:
        raise RuntimeError(f"TEST_POSTGRES_URL={url} is set but unusable: {error}") from error


@dataclass
class PrivateServer:
    """A throw-away server we started: its URL, and a way to take it down and bring it back."""

    url: str
    directory: str

    def stop(self) -> None:
        """Shut the server down (fast): clients get "connection refused" until `resume`."""
        subprocess.run([str(SCRIPT), "stop", self.directory], capture_output=True, check=True, timeout=60)

    def resume(self) -> None:
        """Start the stopped server again on the same port, with its data."""
        subprocess.run([str(SCRIPT), "resume", self.directory], capture_output=True, check=True, timeout=120)

    @contextmanager
    def down(self) -> Iterator[None]:
        """The server stopped for the block (a "database down" test), resumed after it, also on failure."""
        self.stop()
        try:
            yield
        finally:
            self.resume()


@contextmanager
def stoppable_server() -> Iterator[PrivateServer]:
    """Start a throw-away server (scripts/postgres.sh) for the duration of the block."""
    directory = tempfile.mkdtemp(prefix="clinic-pg-", dir="/tmp")
    started = subprocess.run(
        [str(SCRIPT), "start", directory], capture_output=True, text=True, timeout=120
    )
    if started.returncode != 0:
        raise RuntimeError(f"could not start PostgreSQL: {started.stderr.strip()}")
    try:
        yield PrivateServer(started.stdout.strip(), directory)
    finally:
        subprocess.run([str(SCRIPT), "stop", directory], capture_output=True, timeout=60)
        subprocess.run(["rm", "-rf", directory], check=False)


@contextmanager
def private_server() -> Iterator[str]:
    """Start a throw-away server for the duration of the block; yields its URL."""
    with stoppable_server() as server:
        yield server.url


def _admin(server_url: str) -> psycopg2.extensions.connection:
    connection = psycopg2.connect(make_url(server_url).render_as_string(hide_password=False))
    connection.autocommit = True
    return connection


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server, dropped afterwards; yields its SQLAlchemy URL."""
    name = f"clinic_test_{uuid.uuid4().hex[:12]}"
    admin = _admin(server_url)
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    try:
        yield make_url(server_url).set(database=name, drivername="postgresql+psycopg2").render_as_string(
            hide_password=False
        )
    finally:
        from clinic.db.engine import engine_for

        engine_for.cache_clear()
        admin = _admin(server_url)
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
