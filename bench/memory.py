"""Curve 5: Redis memory per timeline entry as the number of timelines grows."""

from __future__ import annotations

from timelines.keys import timeline_key
from timelines.store import get_store


def memory_curve(timelines_by_size: dict[int, list[int]], *, sample: int) -> list[dict]:
    """For each point, the users whose timelines are built (e.g. a probe author's followers):
    bytes per entry over all of them, and with ids past 2**32 over the first ``sample``."""
    out = []
    for users, user_ids in sorted(timelines_by_size.items()):
        row = memory_per_entry(user_ids, far_sample=sample)
        row["users"] = users
        out.append(row)
    return out


def memory_per_entry(user_ids: list[int], *, far_sample: int, far_offset: int = 2**33) -> dict:
    """Redis bytes per timeline entry: MEMORY USAGE over many full timelines divided by their
    entries. Also for the same lists with ids past 2**32, as a large service's ids are (8-byte
    integers in the listpack instead of this database's small ones), for the first
    ``far_sample`` of them, written to scratch keys and deleted."""
    client = get_store().client
    keys = [timeline_key(u) for u in user_ids]
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.llen(key)
            pipe.memory_usage(key, samples=0)
        replies = pipe.execute()
    entries, used = sum(replies[0::2]), sum(r or 0 for r in replies[1::2])
    sampled = keys[:far_sample]
    far_entries = sum(replies[0 : 2 * len(sampled) : 2])
    with client.pipeline(transaction=False) as pipe:
        for key in sampled:
            pipe.lrange(key, 0, -1)
        lists = pipe.execute()
    scratch = [f"bench:far:{{{i}}}" for i in range(len(lists))]
    with client.pipeline(transaction=False) as pipe:
        for key, raw in zip(scratch, lists, strict=True):
            pipe.rpush(key, *(int(x) + far_offset if int(x) > 0 else int(x) for x in raw))
            pipe.memory_usage(key, samples=0)
            pipe.delete(key)
        far = pipe.execute()
    far_used = sum(far[1::3])
    return {
        "timelines": len(keys),
        "entries": entries,
        "mean_length": entries / len(keys) if keys else 0,
        "bytes": used,
        "bytes_per_entry": used / entries if entries else float("nan"),
        "bytes_per_entry_large_ids": far_used / far_entries if far_entries else float("nan"),
        "large_ids_sample": len(sampled),
        "encoding": client.object("encoding", keys[0]).decode() if keys else None,
    }
