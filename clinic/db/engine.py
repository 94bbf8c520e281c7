"""Engines and session factories, made on demand (never at import time)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from clinic.config import get_settings


def make_engine(url: str, *, sqlite_pragmas: bool = True, connect_timeout: Optional[int] = 5) -> Engine:
    """The project's one engine factory (uncached; the clinic database's and the tracker store's).

    SQLite gets a busy timeout and its file's folder, and with `sqlite_pragmas` foreign keys and WAL;
    PostgreSQL fails fast after `connect_timeout` seconds (None: the driver's default).
    """
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    kwargs: Dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    elif url.startswith("postgresql") and connect_timeout is not None:
        # A database that is down or unreachable fails fast, so the patient hears "please call" in time.
        kwargs["connect_args"] = {"connect_timeout": connect_timeout}
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite") and sqlite_pragmas:

        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        event.listen(engine, "connect", _sqlite_pragmas)  # (listens_for without the untyped decorator)

    return engine


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per database URL; SQLite gets foreign keys, WAL and a busy timeout."""
    return make_engine(url)


def session_factory(url: str | None = None) -> sessionmaker:
    """A session factory bound to `url` (default: DATABASE_URL)."""
    return sessionmaker(bind=engine_for(url or get_settings().database_url), future=True)
