"""The list format shared by both stores: markers, ``CachedList`` and parsing a raw list.

A timeline or outbox is a Redis list of post ids, newest first, *nearly* sorted (concurrent
pushes land out of order, always at the head), so readers sort and drop duplicates. The tail
is a marker (``COMPLETE``, ``BUILDING``) or, for a list trimmed to its cap, its horizon: the
list is exact for ids at or above it. See docs/architecture.md#timeline-store.
"""

from __future__ import annotations

import enum
import itertools
import operator
from dataclasses import dataclass

COMPLETE = 0  # the list holds every relevant post; there is nothing older
BUILDING = -1  # a rebuild from PostgreSQL is under way; readers treat the list as missing
# A BUILDING placeholder whose rebuilder died disappears on its own after this long.
BUILDING_TTL_MS = 60_000
# Claims on fan-out chunks outlive any redelivery (the broker's visibility timeout) and retry
# schedule by a wide margin.
CLAIM_TTL_MS = 6 * 3600 * 1000


def trim_slack(cap: int) -> int:
    """How far past its cap fan-out lets a list grow before one trim script cuts it back:
    lists are trimmed once per this many posts instead of on every push."""
    return max(8, cap // 10)


class ListState(enum.Enum):
    MISSING = "missing"
    BUILDING = "building"
    BUILT = "built"


@dataclass(frozen=True)
class CachedList:
    """A built timeline or outbox as read from Redis (markers stripped)."""

    ids: list[int]
    complete: bool
    # Only the list's head was read (read_many's ``depths``): exact down to its last id.
    truncated: bool = False

    @property
    def horizon(self) -> int:
        """Lowest id this list is exact for; 0 when it holds everything."""
        return 0 if self.complete or not self.ids else self.ids[-1]


def parse_list(raw: list[bytes]) -> CachedList | None:
    """A raw ``LRANGE 0 -1`` reply as a ``CachedList``; None for a missing or building list."""
    if not raw:
        return None
    tail = int(raw[-1])
    if tail == BUILDING:
        return None
    # Fan-out pushes at the head in any order: sort, drop duplicates, and ignore late ids
    # below a trimmed list's horizon, which is its tail.
    values = list(map(int, raw))
    if all(map(operator.gt, values, itertools.islice(values, 1, None))):
        # Strictly descending, as nearly every list is: no sort, no duplicate to drop. Only a
        # COMPLETE marker can be below the horizon (a trimmed list ends at its horizon).
        return CachedList(ids=values[:-1] if tail == COMPLETE else values, complete=tail == COMPLETE)
    floor = 1 if tail == COMPLETE else tail
    ids = sorted({post_id for post_id in values if post_id >= floor}, reverse=True)
    return CachedList(ids=ids, complete=tail == COMPLETE)


def parse_head(raw: list[bytes], *, length: int, tail: bytes | None) -> CachedList | None:
    """The head of a list (``LRANGE 0 depth-1``, with its ``LLEN`` and tail) as a
    ``CachedList`` exact down to its last id, or the whole list when the head is all of it.
    Only a list that scripts alone write (an outbox) is sorted, so only its head can be read
    alone: a head out of order, or holding no id above a trimmed list's horizon, is None
    (the caller reads the whole list)."""
    if length <= len(raw):
        return parse_list(raw)
    if tail is None or int(tail) == BUILDING:
        return None
    floor = max(int(tail), 1)
    ids = [post_id for post_id in map(int, raw) if post_id >= floor]
    if not ids or not all(map(operator.gt, ids, itertools.islice(ids, 1, None))):
        return None
    return CachedList(ids=ids, complete=False, truncated=True)
