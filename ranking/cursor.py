"""The ranked feed's cursor: a payload in the one cursor codec (feedsite.pagination), with a
scope of its own, so a chronological cursor is refused in ranked mode and vice versa.

Inside a ranked window it names the snapshot session and position, the window's id range
(``top``..``floor``), and the ids already served, so that if the snapshot expires the rest of
the window can be ranked again without repeating or skipping anything. Below the window it is
a plain "older than this id" cursor."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from feedsite.pagination import cursor_invalid, cursor_payload_decode, cursor_payload_encode

SCOPE = "feed.ranked"
# Room for the served ids of a whole window (up to 1,000, delta-encoded) and then some.
MAX_LENGTH = 8_192


@dataclass
class RankedCursor:
    session: str | None = None  # None: below the ranked window, chronological
    offset: int = 0  # next position in the snapshot
    length: int = 0  # snapshot length
    top: int = 0  # newest entry id of the ranked window
    floor: int = 0  # oldest entry id of the ranked window
    more_below: bool = False  # whether the feed goes on below the window
    served: list[int] = field(default_factory=list)  # window entries already shown
    before: int = 0  # below the window: the next page is older than this id


def _pack_ids(ids: list[int]) -> str:
    """Sorted-descending ids as varint deltas, base64: ~2-3 bytes an id."""
    out, previous = bytearray(), None
    for value in sorted(ids, reverse=True):
        delta = value if previous is None else previous - value
        previous = value
        while True:
            byte, delta = delta & 0x7F, delta >> 7
            out.append(byte | (0x80 if delta else 0))
            if not delta:
                break
    return base64.urlsafe_b64encode(bytes(out)).decode()


def _unpack_ids(text: str) -> list[int]:
    data = base64.urlsafe_b64decode(text.encode())
    ids, value, shift, previous = [], 0, 0, None
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            previous = value if previous is None else previous - value
            ids.append(previous)
            value, shift = 0, 0
    return ids


def cursor_encode(cursor: RankedCursor) -> str:
    if cursor.session is None:
        return cursor_payload_encode(scope=SCOPE, payload={"b": cursor.before})
    payload = {
        "s": cursor.session,
        "o": cursor.offset,
        "n": cursor.length,
        "t": cursor.top,
        "f": cursor.floor,
        "m": int(cursor.more_below),
        "v": _pack_ids(cursor.served),
    }
    return cursor_payload_encode(scope=SCOPE, payload=payload, compress=True)


def cursor_decode(token: str | None) -> RankedCursor | None:
    if token is None or token == "":
        return None
    payload = cursor_payload_decode(scope=SCOPE, token=token, max_length=MAX_LENGTH)
    try:
        if "b" in payload:
            return RankedCursor(before=int(payload["b"]))
        return RankedCursor(
            session=str(payload["s"]),
            offset=int(payload["o"]),
            length=int(payload["n"]),
            top=int(payload["t"]),
            floor=int(payload["f"]),
            more_below=bool(payload["m"]),
            served=_unpack_ids(payload["v"]),
        )
    except (KeyError, TypeError, ValueError):
        # Only a payload this module signed gets past the signature; the rest is belt and braces.
        raise cursor_invalid() from None
