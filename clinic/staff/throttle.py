"""The sign-in throttle: exponential backoff per key, reserved atomically before the password is checked.

Nothing here ever locks a member of staff out. Each attempt counts against several keys, each with its
own backoff (a number of free attempts, then 1 s, 2 s, 4 s ... up to a cap):

- **this username from this address** (or, from a browser that signed in as this user before, **this
  username on this device**): the strictest key, so a guesser is slowed down at once;
- **this address, any username**: slows down one address trying many accounts;
- **this username, from anywhere** (not counted for a known device): lenient and capped low, so a
  distributed guesser is slowed down without stopping the real user, who signs in from their own
  address or device on keys the attacker does not touch.

An attempt first *reserves* its place on every key in one transaction: one conditional UPDATE per key
that only succeeds when the key is not waiting, and that counts the attempt as a failure straight
away. So 50 parallel guesses get as many password checks as the free attempts allow, not 50. A
sign-in that succeeds gives the reservation back (the username + address or device key is cleared);
one that could not be checked at all (server busy) is given back too. A throttled attempt is refused
before anything is counted, so hammering a key does not push its wait further.

Counters live in the clinic database (`staff_login_throttle`, times in epoch milliseconds so the
backoff is plain SQL on SQLite and PostgreSQL), shared by every web worker.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Callable, List, Sequence, Tuple

from sqlalchemy import case, delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from clinic.staff.models import LoginThrottle

TABLE = LoginThrottle.__table__


@dataclass(frozen=True)
class Backoff:
    """`free` failures without waiting; after that each failure doubles the wait, up to `cap_seconds`."""

    free: int
    cap_seconds: float
    base_seconds: float = 1.0

    def wait_after(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure."""
        if failures < self.free:
            return 0.0
        doubling: int = 2 ** (failures - self.free)  # (failures >= free: a whole number)
        return min(self.base_seconds * doubling, self.cap_seconds)

    def steps(self) -> List[Tuple[int, int]]:
        """(failures, wait in ms) for every count below the cap; higher counts wait the cap."""
        doublings = max(0, math.ceil(math.log2(max(self.cap_seconds / self.base_seconds, 1.0))))
        return [(n, int(self.wait_after(n) * 1000)) for n in range(self.free, self.free + doublings + 1)]


@dataclass(frozen=True)
class SignInPolicy:
    """The backoff of each kind of key, and how long a quiet key keeps its count."""

    pair: Backoff = Backoff(free=3, cap_seconds=900)
    address: Backoff = Backoff(free=20, cap_seconds=900)
    username: Backoff = Backoff(free=10, cap_seconds=300)
    forget_after_seconds: float = 24 * 3600


@dataclass(frozen=True)
class ThrottleKey:
    """One counter an attempt is charged to."""

    kind: str  # pair | device | address | username
    digest: str
    backoff: Backoff = field(compare=False)

    @property
    def cleared_on_success(self) -> bool:
        """Whether the real user signing in clears this key (it is theirs alone)."""
        return self.kind in ("pair", "device")


class Throttled(Exception):
    """Refused before the password check: this attempt must wait `retry_after` seconds."""

    def __init__(self, retry_after: int, kind: str) -> None:
        super().__init__(f"sign-in throttled ({kind}) for {retry_after} s")
        self.retry_after = retry_after
        self.kind = kind


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class SignInThrottle:
    """Reserve, settle and give back sign-in attempts on the shared counters."""

    def __init__(self, engine: Engine, policy: SignInPolicy = SignInPolicy(),
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.policy = policy
        self.clock = clock

    def keys(self, username: str, address: str, device: str = "") -> List[ThrottleKey]:
        """The keys an attempt is charged to (a known device for this username: that device alone)."""
        if device:
            return [ThrottleKey("device", _digest("device", username, device), self.policy.pair)]
        return [
            ThrottleKey("pair", _digest("pair", username, address), self.policy.pair),
            ThrottleKey("address", _digest("address", address), self.policy.address),
            ThrottleKey("username", _digest("username", username), self.policy.username),
        ]

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def reserve(self, keys: Sequence[ThrottleKey]) -> None:
        """Count this attempt as a failure on every key, or raise Throttled and count nothing."""
        now = self._now_ms()
        forget_before = now - int(self.policy.forget_after_seconds * 1000)
        ordered = sorted(keys, key=lambda k: k.digest)  # one lock order: no deadlock on PostgreSQL
        with self.engine.begin() as conn:
            for key in ordered:
                if not self._count(conn, key, now, forget_before):
                    until = conn.scalar(
                        select(TABLE.c.blocked_until_ms)
                        .where(TABLE.c.key.in_([k.digest for k in ordered]))
                        .order_by(TABLE.c.blocked_until_ms.desc())
                    )
                    # Raising rolls the transaction back: keys counted before this one get it back.
                    raise Throttled(max(1, math.ceil(((until or now) - now) / 1000)), key.kind)
            conn.execute(delete(TABLE).where(TABLE.c.last_failure_ms < forget_before))

    def _count(self, conn: Connection, key: ThrottleKey, now: int, forget_before: int) -> bool:
        """One atomic UPDATE: +1 failure and the next wait, only if the key is not waiting now."""
        failures = case((TABLE.c.last_failure_ms < forget_before, 0), else_=TABLE.c.failures) + 1
        waits = [(failures < key.backoff.free, 0)] + [(failures == n, ms) for n, ms in key.backoff.steps()]
        blocked_until = now + case(*waits, else_=int(key.backoff.cap_seconds * 1000))
        statement = (
            update(TABLE)
            .where(TABLE.c.key == key.digest, TABLE.c.blocked_until_ms <= now)
            .values(failures=failures, blocked_until_ms=blocked_until, last_failure_ms=now)
        )
        for _ in range(2):  # a second time if another attempt's clean-up deleted an idle row meanwhile
            self._ensure_row(conn, key.digest)
            if conn.execute(statement).rowcount:
                return True
            if conn.scalar(select(TABLE.c.key).where(TABLE.c.key == key.digest)) is not None:
                return False
        return False

    def succeeded(self, keys: Sequence[ThrottleKey]) -> None:
        """The real user signed in: their own key is cleared; the shared ones get this attempt back."""
        self._give_back([k for k in keys if not k.cleared_on_success])
        own = [k.digest for k in keys if k.cleared_on_success]
        with self.engine.begin() as conn:
            conn.execute(delete(TABLE).where(TABLE.c.key.in_(own)))

    def release(self, keys: Sequence[ThrottleKey]) -> None:
        """The attempt was reserved but never checked (server busy): it doesn't count."""
        self._give_back(keys)

    def _give_back(self, keys: Sequence[ThrottleKey]) -> None:
        with self.engine.begin() as conn:
            for key in sorted(keys, key=lambda k: k.digest):
                remaining = case((TABLE.c.failures > 0, TABLE.c.failures - 1), else_=0)
                conn.execute(
                    update(TABLE).where(TABLE.c.key == key.digest).values(
                        failures=remaining,
                        blocked_until_ms=case((remaining < key.backoff.free, 0),
                                              else_=TABLE.c.blocked_until_ms),
                    )
                )

    def failures(self, key: ThrottleKey) -> int:
        """How many failures `key` holds now (for tests and the console's figures)."""
        with self.engine.connect() as conn:
            return int(conn.scalar(select(TABLE.c.failures).where(TABLE.c.key == key.digest)) or 0)

    def _ensure_row(self, conn: Connection, digest: str) -> None:
        values = {"key": digest, "failures": 0, "blocked_until_ms": 0, "last_failure_ms": 0}
        dialect = conn.dialect.name
        if dialect in ("sqlite", "postgresql"):
            module = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
            conn.execute(module.insert(TABLE).values(**values).on_conflict_do_nothing(index_elements=["key"]))
            return
        if conn.scalar(select(TABLE.c.key).where(TABLE.c.key == digest)) is None:
            try:
                with conn.begin_nested():
                    conn.execute(TABLE.insert().values(**values))
            except IntegrityError:
                pass  # another attempt created it first
