"""The project's one rate-limiting mechanism: fixed-window counters in a cache.

Every limit (public forms, uploads, the scoring API, refusals recorded in the
audit log) counts through `hit()`. The counters live in the "ratelimit" cache:
this process's memory by default, Redis when REDIS_URL is set (then every web
worker and server counts together). It is never the database cache, so a count
never takes a database write lock (a database cache's `incr` is a write
transaction, which on SQLite serializes with every clinical write).

A window starts at a key's first hit and lasts `window_seconds` (the counter's
expiry; `incr` keeps it), so the first hit of a window is the count of 1.
"""

import hashlib
from dataclasses import dataclass

from django.core.cache import caches

CACHE_ALIAS = "ratelimit"


@dataclass(frozen=True)
class Count:
    """How many hits this key has had in the current window, this one included."""

    count: int
    limit: int
    window_seconds: int

    @property
    def over(self) -> bool:
        return self.count > self.limit

    @property
    def first(self) -> bool:
        return self.count == 1


def hit(scope: str, key: str, *, limit: int, window_seconds: int) -> Count:
    """Count one hit of `key` (an address, a user id) under `scope` in this window."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # no address in cache keys
    cache_key = f"rl:{scope}:{window_seconds}:{digest}"
    cache = caches[CACHE_ALIAS]
    if cache.add(cache_key, 1, timeout=window_seconds):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr: a new window
            cache.add(cache_key, 1, timeout=window_seconds)
            count = 1
    return Count(count=count, limit=limit, window_seconds=window_seconds)


def milestone(count: int) -> bool:
    """1, 10, 100, 1000...: the counts at which an aggregate is worth a record."""
    while count >= 10 and count % 10 == 0:
        count //= 10
    return count == 1
