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
from clinic.config import get_settings
from clinic.db.engine import session_factory as make_session_factory
from clinic.outbox.compose import MessagePolicy
from clinic.outbox.repository import OutboxRepository

SessionFactory = Callable[[], Session]


class SqlAlchemyUnitOfWork:
    """A session and the booking and outbox repositories on it, for the length of a `with` block.

    The outbox shares the session, so a booking change and the messages it causes commit together.
    """

    bookings: BookingRepository
    outbox: OutboxRepository

    def __init__(
        self, session_factory: Optional[SessionFactory] = None, policy: Optional[MessagePolicy] = None
    ) -> None:
        if session_factory is None or policy is None:
            settings = get_settings()
            session_factory = session_factory or make_session_factory(settings.database_url)
            policy = policy or MessagePolicy.from_settings(settings)
        self.session_factory = session_factory
        self.policy = policy

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        """Open the session."""
        self.session = self.session_factory()
        self.bookings = BookingRepository(self.session)
        self.outbox = OutboxRepository(self.session, self.policy)
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


class SessionUnitOfWork(SqlAlchemyUnitOfWork):
    """The repositories on a session someone else opened and commits (an eraser's, clinic.privacy).

    The service layer's operations run on it unchanged: their `commit` only flushes into the owner's
    transaction, and leaving the `with` block neither rolls back nor closes the session.
    """

    def __init__(self, session: Session, policy: Optional[MessagePolicy] = None) -> None:
        super().__init__(lambda: session, policy)

    def __exit__(self, *exc_info: Any) -> None:
        """The owner commits or rolls back, and closes the session."""

    def commit(self) -> None:
        """Write the work into the owner's transaction (the owner commits it)."""
        self.session.flush()


UnitOfWorkFactory = Callable[[], SqlAlchemyUnitOfWork]


def unit_of_work_factory(database_url: Optional[str] = None) -> UnitOfWorkFactory:
    """Units of work on `database_url` (default: DATABASE_URL, read now)."""
    settings = get_settings()
    factory = make_session_factory(database_url or settings.database_url)
    policy = MessagePolicy.from_settings(settings)
    return lambda: SqlAlchemyUnitOfWork(factory, policy)
