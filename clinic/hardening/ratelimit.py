"""Token-bucket rate limits per key (a conversation's sender id, a client's address). Pure Python."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional

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
