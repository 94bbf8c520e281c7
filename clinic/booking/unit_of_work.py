"""Unit of work: one session, committed or rolled back as a whole (cosmicpython style).

    with SqlAlchemyUnitOfWork(factory) as uow:
        uow.bookings.add(...)
        uow.commit()            # nothing is written unless committed

The session factory is injected; the default one is built when the unit of work is created, from
DATABASE_URL at that moment (never at import time).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from sqlalchemy.orm import Session

from clinic.booking.repository import BookingRepository
from clinic.config import Settings
from clinic.db.engine import session_factory as make_session_factory

SessionFactory = Callable[[], Session]


class SqlAlchemyUnitOfWork:
    """A session and the booking repository on it, for the length of a `with` block."""

    bookings: BookingRepository

    def __init__(self, session_factory: Optional[SessionFactory] = None) -> None:
        self.session_factory = session_factory or make_session_factory(Settings.from_env().database_url)

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        """Open the session."""
        self.session = self.session_factory()
        self.bookings = BookingRepository(self.session)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Roll back anything not committed and close the session."""
        try:
            self.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        """Make the work permanent."""
        self.session.commit()

    def rollback(self) -> None:
        """Forget the work."""
        self.session.rollback()


UnitOfWorkFactory = Callable[[], SqlAlchemyUnitOfWork]


def unit_of_work_factory(database_url: Optional[str] = None) -> UnitOfWorkFactory:
    """Units of work on `database_url` (default: DATABASE_URL, read now)."""
    factory = make_session_factory(database_url or Settings.from_env().database_url)
    return lambda: SqlAlchemyUnitOfWork(factory)
