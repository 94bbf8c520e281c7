"""Token-bucket rate limits per key (a conversation's sender id, a client's address).

`RateLimiter` keeps its buckets in the process (one Rasa server). `SharedRateLimiter` keeps them in Redis,
updated atomically by a Lua script on Redis's own clock, so several Rasa servers behind one address share
one limit per conversation and per client. `rate_limiter` picks: RATE_LIMIT_STORE_URL, else a redis://
LOCK_STORE_URL (the scale-out profile), else in process (clinic.config's settings).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional, Union

from clinic.config import Settings

logger = logging.getLogger(__name__)

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True)
class Rate:
    """At most `count` events per `seconds`, in bursts of up to `count`."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, spec: str) -> Optional[Rate]:
        """Read "30/60" (30 per 60 s), "30/1m" or "10/1s"; "0" or "" switches the limit off (None)."""
        spec = (spec or "").strip()
        if spec in ("", "0", "off", "none"):
            return None
        match = _SPEC.match(spec)
        if not match:
            raise ValueError(f"rate limit {spec!r}: expected COUNT/SECONDS, e.g. 30/60 or 30/1m")
        count, amount, unit = int(match.group(1)), float(match.group(2)), match.group(3)
        seconds = amount * _UNIT_SECONDS[unit]
        if count <= 0 or seconds <= 0:
            return None
        return cls(count, seconds)


class RateLimiter:
    """Token buckets per key; the least recently seen keys are forgotten beyond `max_keys`."""

    def __init__(
        self, rate: Optional[Rate], max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Take one token for `key`; False when its bucket is empty."""
        if self.rate is None:
            return True
        now = self._clock()
        tokens, last = self._buckets.pop(key, (float(self.rate.count), now))
        tokens = min(float(self.rate.count), tokens + (now - last) * self.rate.count / self.rate.seconds)
        allowed = tokens >= 1.0 - 1e-9  # float refill may land a hair below a whole token
        if allowed:
            tokens = max(0.0, tokens - 1.0)
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed

    async def acquire(self, key: str) -> bool:
        """`allow`, with the same call shape as `SharedRateLimiter.acquire`."""
        return self.allow(key)


# KEYS[1] bucket; ARGV: capacity, tokens added per second, expiry (s). Returns 1 if a token was taken.
_TAKE_TOKEN = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local capacity = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * tonumber(ARGV[2]))
local taken = 0
if tokens >= 1 - 1e-9 then
  taken = 1
  tokens = math.max(0, tokens - 1)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return taken
"""


class SharedRateLimiter:
    """Token buckets in Redis, shared by every process that uses the same URL and `scope`.

    Keys are hashed (sender ids can be phone numbers). If Redis can't be reached the message is let
    through and a warning logged: the limit protects the service, it must not silence it.
    """

    def __init__(self, rate: Optional[Rate], url: str, scope: str, timeout: float = 1.0) -> None:
        from redis.asyncio import Redis  # redis-py's asyncio client: Rasa's event loop is never blocked
        from redis.exceptions import RedisError

        from clinic.hardening.stores import redis_lock_store_arguments

        arguments = redis_lock_store_arguments(url)
        prefix = arguments.pop("key_prefix", "")
        arguments.pop("socket_timeout", None)
        ssl = arguments.pop("use_ssl", False)
        self.rate = rate
        self.scope = scope
        self._prefix = f"{prefix}ratelimit:{scope}:"
        self._redis = Redis(**arguments, ssl=ssl, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._take = self._redis.register_script(_TAKE_TOKEN)
        self._unreachable = (RedisError, OSError)

    def bucket_key(self, key: str) -> str:
        """The Redis key of `key`'s bucket (a hash: no phone number or address stored in Redis)."""
        return self._prefix + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]

    async def acquire(self, key: str) -> bool:
        """Take one token for `key` from the shared bucket; False when it is empty."""
        if self.rate is None:
            return True
        try:
            taken = await self._take(
                keys=[self.bucket_key(key)],
                args=[self.rate.count, self.rate.count / self.rate.seconds, math.ceil(self.rate.seconds) + 1],
            )
        except self._unreachable as error:
            logger.warning("Rate limit store unreachable (%s); letting it through.", type(error).__name__)
            return True
        return bool(int(taken))


AnyRateLimiter = Union[RateLimiter, SharedRateLimiter]


def shared_store_url(settings: Settings) -> str:
    """Where shared buckets live: RATE_LIMIT_STORE_URL, else a Redis LOCK_STORE_URL, else "" (in process)."""
    explicit = settings.rate_limit_store_url
    if explicit:
        return "" if explicit.lower() in ("memory", "local", "off") else explicit
    lock_store = settings.lock_store_url
    return lock_store if lock_store.startswith(("redis://", "rediss://")) else ""


def rate_limiter(spec: str, scope: str, settings: Settings) -> AnyRateLimiter:
    """The limiter for `spec` (e.g. "30/60"); shared through Redis if the settings name a store."""
    rate = Rate.parse(spec)
    url = shared_store_url(settings)
    if rate is not None and url:
        return SharedRateLimiter(rate, url, scope)
    return RateLimiter(rate)

