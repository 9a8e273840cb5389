"""Hand-packed RESP and bulk reply reads, for fan-out's thousands of tiny commands.

Why by hand: for a batch of LPUSHX, redis-py's per-command packing and per-reply parsing cost
more than Redis itself (measured: see docs/performance.md). So a batch is packed into one
buffer here, sent on one pooled connection and its replies parsed by hiredis in bulk. The
invariant: every reply is read even after an error reply, so a connection goes back to its
pool in sync; any other failure discards the connection. ``tests/timelines/store`` checks the
bytes against plain RESP.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import hiredis
import redis
from redis.connection import Connection

RECV_BUFFER = 1 << 16


def lpushx_payload(keys: Sequence[str], post_id: int) -> bytes:
    """``LPUSHX key post_id`` for each (ASCII) key, in order, packed as RESP in one buffer.
    Consecutive keys of one length share every byte between them, so each such run is one
    ``str.join`` (in C) instead of a formatted string per key."""
    value = str(post_id)
    tail = f"${len(value)}\r\n{value}\r\n"
    parts = []
    for length, run in itertools.groupby(keys, len):
        head = f"*3\r\n$6\r\nLPUSHX\r\n${length}\r\n"
        parts.append(head + f"\r\n{tail}{head}".join(run) + f"\r\n{tail}")
    return "".join(parts).encode("ascii")


def evalsha_payload(sha: str, head: Sequence[str], tail: Sequence[str]) -> bytes:
    """``EVALSHA sha 0 *head *tail`` as RESP: ``head`` a few arguments, ``tail`` thousands of
    ASCII ones (a batch's stream markers), packed per run of one length like ``lpushx_payload``."""
    parts = [f"*{3 + len(head) + len(tail)}\r\n$7\r\nEVALSHA\r\n${len(sha)}\r\n{sha}\r\n$1\r\n0\r\n"]
    parts += [f"${len(arg.encode())}\r\n{arg}\r\n" for arg in head]
    for length, run in itertools.groupby(tail, len):
        prefix = f"${length}\r\n"
        parts.append(prefix + f"\r\n{prefix}".join(run) + "\r\n")
    return "".join(parts).encode()


def resp(*args: object) -> bytes:
    """One command as RESP bytes (ASCII words and integers, as every command here)."""
    return commands_payload([args])


def commands_payload(commands: Sequence[tuple]) -> bytes:
    """Commands whose arguments are ASCII words and integers (keys, counts), as RESP in one
    buffer: one string format per argument, a few times cheaper than ``resp`` per command."""
    parts = []
    for command in commands:
        parts.append(f"*{len(command)}\r\n")
        for arg in command:
            text = str(arg)
            parts.append(f"${len(text)}\r\n{text}\r\n")
    return "".join(parts).encode("ascii")


def send_packed(connection: Connection, payload: bytes) -> None:
    try:
        connection.send_packed_command([payload])
    except BaseException:
        connection.disconnect()
        raise


def read_replies(connection: Connection, count: int) -> list:
    """Read ``count`` replies with hiredis in bulk (error replies come back as
    ``hiredis.ReplyError`` values). Every reply is read even after an error reply, so the
    connection goes back to its pool in sync; any other failure discards the connection."""
    replies: list = []
    try:
        reader = hiredis.Reader()
        sock = connection._sock  # redis-py has no public bulk-read API
        while len(replies) < count:
            data = sock.recv(RECV_BUFFER)
            if not data:
                raise redis.exceptions.ConnectionError("Redis closed the connection mid-reply")
            reader.feed(data)
            while (reply := reader.gets()) is not False:
                replies.append(reply)
    except TimeoutError as exc:  # socket.timeout
        connection.disconnect()
        raise redis.exceptions.TimeoutError(f"timeout reading fan-out replies: {exc}") from exc
    except OSError as exc:
        connection.disconnect()
        raise redis.exceptions.ConnectionError(f"error reading fan-out replies: {exc}") from exc
    except BaseException:
        connection.disconnect()
        raise
    return replies


def round_trip_replies(client: redis.Redis, payload: bytes, count: int) -> list:
    """Send pre-packed commands on one of ``client``'s pooled connections and return their
    ``count`` replies, error replies as ``hiredis.ReplyError`` values."""
    pool = client.connection_pool
    connection = pool.get_connection()
    try:
        send_packed(connection, payload)
        return read_replies(connection, count)
    finally:
        pool.release(connection)


def round_trip(client: redis.Redis, payload: bytes, count: int) -> list:
    """``round_trip_replies`` whose replies are values (integers, bytes, lists of bytes,
    None): an error reply raises ``ResponseError`` once all are read."""
    replies = round_trip_replies(client, payload, count)
    for reply in replies:
        if isinstance(reply, hiredis.ReplyError):
            raise redis.exceptions.ResponseError(str(reply))
    return replies
