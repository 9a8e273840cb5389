"""A short-lived, per-process copy of hot celebrity outboxes.

A celebrity's outbox is read by every follower's feed request; without this, all of them hit
one Redis key (one shard, in a cluster). Each web process keeps what it read for
``FeedConfig.outbox_cache_ms`` (jittered, so processes do not refresh in step) and drops its
copy when it writes to that outbox itself. Another process's new post therefore shows after
at most that long; the feed's PostgreSQL filter still applies deletes, blocks and mutes at
once, because the copy holds ids only (docs/architecture.md#read-path).
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict

from timelines.store import CachedList

MAX_ENTRIES = 10_000
JITTER = 0.2  # an entry lives between 80% and 100% of the configured time


class LocalListCache:
    """Entries remember when they were stored; their lifetime is the one in force when they
    are read, so lowering the knob applies at once."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        # key -> (stored at, this entry's jitter factor, value)
        self._entries: OrderedDict[str, tuple[float, float, CachedList]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, *, ttl_ms: int) -> CachedList | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored, factor, value = entry
            if time.monotonic() - stored >= ttl_ms / 1000 * factor:
                del self._entries[key]
                return None
            return value

    def put(self, key: str, value: CachedList) -> None:
        factor = 1 - JITTER * random.random()
        with self._lock:
            self._entries[key] = (time.monotonic(), factor, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


outboxes = LocalListCache()
