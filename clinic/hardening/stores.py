"""Rasa's lock store as the clinic runs it: from one URL, atomic across processes.

**Lock store** from one URL (LOCK_STORE_URL), so the scale-out profile is configured by env only.

endpoints.yml names `clinic.hardening.stores.LockStoreFromUrl`; the URL is its `url`, else the
environment's LOCK_STORE_URL (read here, so that a missing variable can't break loading endpoints.yml).
An empty URL gives Rasa's in-memory lock
store (one Rasa process), `redis://[:password@]host[:port][/db][?key_prefix=...]` a Redis lock store,
which several Rasa processes sharing one tracker store need so that one conversation's messages are
handled one at a time, in order.

Rasa 3.6's RedisLockStore reads, changes and writes a conversation's ticket lock in separate steps, so
two servers receiving messages of one conversation at the same moment can both get the first ticket and
process at once (one turn's events are then lost; Rasa's maintainers call it "far from atomic" and
reverted their concurrent variant). AtomicRedisLockStore makes each of those steps one critical section
under a short Redis mutex; the tests/integration/test_scale_out.py burst caught the loss without it.

**Tracker store.** The wrapper `clinic-rasa` puts around the tracker store, `StrictTrackerStore`, is in
clinic/rasa_adapter/stores.py (it relies on a private attribute of Rasa's FailSafeTrackerStore).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional
from urllib.parse import parse_qs, unquote, urlsplit

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from clinic.config import get_settings


def redis_lock_store_arguments(url: str) -> Dict[str, Any]:
    """RedisLockStore's arguments from a redis:// or rediss:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"LOCK_STORE_URL must start with redis:// or rediss://, not {parts.scheme}://")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    arguments: Dict[str, Any] = {
        "host": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 1),
        "use_ssl": parts.scheme == "rediss",
    }
    if parts.username:
        arguments["username"] = unquote(parts.username)
    if parts.password:
        arguments["password"] = unquote(parts.password)
    if query.get("key_prefix"):
        arguments["key_prefix"] = query["key_prefix"]
    if query.get("socket_timeout"):
        arguments["socket_timeout"] = float(query["socket_timeout"])
    return arguments


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store whose ticket changes are atomic across processes."""

    MUTEX_SECONDS = 5.0

    @contextmanager
    def _mutex(self, conversation_id: str) -> Iterator[None]:
        mutex = self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex",
            timeout=self.MUTEX_SECONDS,
            blocking_timeout=self.MUTEX_SECONDS,
            sleep=0.002,
        )
        with mutex:
            yield

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issue the next ticket (read, add, write as one step)."""
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets (one step)."""
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket, and the lock if nobody waits (one step)."""
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)


class LockStoreFromUrl:
    """Builds Rasa's lock store from `url` in endpoints.yml (a factory: returns a Rasa LockStore)."""

    # Rasa builds the class endpoints.yml names; __new__ hands it a LockStore instead (mypy wants a subtype).
    def __new__(cls, endpoint_config: Optional[EndpointConfig] = None) -> LockStore:  # type: ignore[misc]  # noqa: D102
        url = ((endpoint_config.url if endpoint_config else None) or get_settings().lock_store_url).strip()
        if not url:
            return InMemoryLockStore()
        return AtomicRedisLockStore(**redis_lock_store_arguments(url))

