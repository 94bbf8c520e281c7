"""20 patients confirm the same time at the same instant: exactly one booking, 19 "just taken".

Run on SQLite and on a real PostgreSQL server. Each attempt runs the real service layer in its own
thread with its own unit of work (session and connection), released together by a barrier.
"""

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from clinic.booking import handlers
from clinic.booking.unit_of_work import SqlAlchemyUnitOfWork
from clinic.db.booking import BookedSlot, Booking, Patient
from clinic.db.engine import engine_for
from clinic.testing.booking import MONDAY, NOW, at, request

pytestmark = pytest.mark.integration

ATTEMPTS = 20


def engine(url):
    """Enough connections for every attempt to hold its own at the same time."""
    if url.startswith("sqlite"):
        return engine_for(url)  # WAL + busy timeout; a new connection per session
    return create_engine(url, future=True, pool_size=ATTEMPTS, max_overflow=0)


def test_twenty_parallel_attempts_at_one_slot(clinic_db, monkeypatch):
    # Count the losers stopped by the database's constraint (the rest saw the slot held when checking).
    collisions = []
    cells_taken = handlers._cells_taken
    monkeypatch.setattr(handlers, "_cells_taken", lambda *a: collisions.append(1) or cells_taken(*a))
    sessions = sessionmaker(bind=engine(clinic_db), future=True)
    uow = lambda: SqlAlchemyUnitOfWork(sessions)  # noqa: E731
    start = at(MONDAY, 10)  # only Ana works on Mondays: one practitioner, one slot
    barrier = threading.Barrier(ATTEMPTS)
    outcomes, timings = [None] * ATTEMPTS, [0.0] * ATTEMPTS

    def attempt(i):
        patient = request(start, name=f"Patient {chr(65 + i)}", phone=f"+4479111234{i:02d}")
        barrier.wait()
        began = time.perf_counter()
        try:
            outcomes[i] = ("booked", handlers.book(uow, patient, NOW).reference)
        except handlers.SlotTaken:
            outcomes[i] = ("taken", None)
        except Exception as error:  # noqa: BLE001  (any other outcome fails the test below)
            outcomes[i] = ("error", repr(error))
        timings[i] = time.perf_counter() - began

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    kinds = Counter(kind for kind, _ in outcomes)
    print(f"\n{clinic_db.split(':')[0]}: {dict(kinds)} in {max(timings) * 1000:.0f} ms "
          f"(slowest attempt), median {sorted(timings)[ATTEMPTS // 2] * 1000:.0f} ms; "
          f"{len(collisions)} losers stopped by the database constraint at insert")
    assert kinds == {"booked": 1, "taken": ATTEMPTS - 1}, outcomes
    with engine_for(clinic_db).connect() as connection:
        assert connection.execute(select(func.count()).select_from(Booking)).scalar_one() == 1
        assert connection.execute(select(func.count()).select_from(BookedSlot)).scalar_one() == 2
        assert connection.execute(select(func.count()).select_from(Patient)).scalar_one() == 1  # no trace
    winner = next(reference for kind, reference in outcomes if kind == "booked")
    assert [b.reference for b in handlers.bookings_on(uow, MONDAY)] == [winner]
