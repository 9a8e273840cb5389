"""Read-path probes for issue 14 (cold reads, outbox merges), in-process on a scratch database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_coldread_data REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python scripts/probe_reads.py load      # once: 200,000 authors, 2 M posts, readers
    ... scripts/probe_reads.py cold                       # rebuild plans and cold first pages
    ... scripts/probe_reads.py pulls                      # warm pages vs pull-mode followees
    ... scripts/probe_reads.py http                       # the same readers over HTTP (gunicorn)

The data is generated inside PostgreSQL (deterministic: ``setseed``), so loading takes about a
minute. Accounts 1..600 post in pull mode, 601..5,000 are the active core, 5,001..100,000 a
quiet tail (posts only in the oldest 40 % of ids), 100,000..200,000 an active tail. Readers
(usernames ``r_<kind><n>``) follow 50/500/5,000 typical (core and active tail) or quiet
accounts, or 200 typical accounts plus 0/10/100/500 pull-mode ones. Results print as JSON
lines; the numbers are in docs/performance.md ("Read-path changes (issue 14)"). Never run it
against a database you care about: ``load`` drops every row first.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feedsite.settings")

import django

django.setup()
logging.disable(logging.INFO)  # one line a rebuild otherwise

from django.db import connection  # noqa: E402

from bench.percentiles import percentile  # noqa: E402
from graph.models import Account  # noqa: E402
from timelines import local_cache, store  # noqa: E402
from timelines.feed import visibility  # noqa: E402
from timelines.feed.page import feed_page  # noqa: E402
from timelines.keys import timeline_key  # noqa: E402
from timelines.models import FeedConfig  # noqa: E402

AUTHORS = 200_000
POSTS = 2_000_000
READERS = {  # kind -> (followee count, followee id range), several readers of each kind
    **{f"typical{n}": (n, "typical") for n in (50, 500, 5000)},
    **{f"quiet{n}": (n, "quiet") for n in (50, 500, 5000)},
    **{f"pull{n}": (n, "pull") for n in (0, 10, 100, 500)},
}
READERS_PER_KIND = 3
CALLS = int(os.environ.get("PROBE_CALLS", "60"))

_LOAD_SQL = f"""
TRUNCATE graph_account, graph_follow, posts_post, authtoken_token RESTART IDENTITY CASCADE;
SELECT setseed(0.14);
INSERT INTO graph_account (id, password, is_superuser, username, first_name, last_name, email,
    is_staff, is_active, date_joined, followers_count, following_count, fanout_override,
    has_pull_posts, celebrity)
SELECT i, '!', false, 'a' || i, '', '', '', false, true, now(), 0, 0,
       CASE WHEN i <= 600 THEN 'pull' ELSE 'auto' END, i <= 600, i <= 600
FROM generate_series(1, {AUTHORS}) i;
INSERT INTO posts_post (id, body, media_urls, created_at, delivery, author_id, comment_count,
    like_count, share_count, fanout_state)
SELECT i, 'post ' || i, '{{}}', now() - interval '1 second' * ({POSTS} - i), 'push',
       CASE WHEN r < 0.6 THEN 1 + floor(random() * 5000)::int
            WHEN i < {POSTS} * 0.4 THEN 5001 + floor(random() * 195000)::int
            ELSE 100001 + floor(random() * 100000)::int END,
       0, 0, 0, 'done'
FROM (SELECT i, random() AS r FROM generate_series(1, {POSTS}) i) s;
UPDATE posts_post SET delivery = 'pull' WHERE author_id <= 600;
"""


def _followees(kind: str, count: int, seed: int) -> str:
    """SQL for ``count`` distinct followee ids of one kind."""
    if kind == "quiet":
        pool = "SELECT 5001 + floor(random() * 95000)::int AS id FROM generate_series(1, 40000)"
    elif kind == "typical":
        pool = """SELECT CASE WHEN random() < 0.5 THEN 601 + floor(random() * 4400)::int
                  ELSE 100001 + floor(random() * 100000)::int END AS id FROM generate_series(1, 40000)"""
    else:  # pull: 200 typical push followees, plus ``count`` pull-mode ones below
        pool = "SELECT 601 + floor(random() * 4400)::int AS id FROM generate_series(1, 2000)"
        count_push = 200
        return f"""(SELECT setseed({seed / 1000}));
            INSERT INTO graph_follow (follower_id, followee_id, created_at)
            SELECT %(reader)s, id, now() FROM (SELECT DISTINCT id FROM ({pool}) p LIMIT {count_push}) q;
            INSERT INTO graph_follow (follower_id, followee_id, created_at)
            SELECT %(reader)s, i, now() FROM generate_series(1, {count}) i;"""
    return f"""(SELECT setseed({seed / 1000}));
        INSERT INTO graph_follow (follower_id, followee_id, created_at)
        SELECT %(reader)s, id, now() FROM (SELECT DISTINCT id FROM ({pool}) p LIMIT {count}) q;"""


def load() -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(_LOAD_SQL)
        reader_id = AUTHORS
        for number, (name, (count, kind)) in enumerate(READERS.items()):
            for copy in range(READERS_PER_KIND):
                reader_id += 1
                cursor.execute(
                    """INSERT INTO graph_account (id, password, is_superuser, username, first_name,
                        last_name, email, is_staff, is_active, date_joined, followers_count,
                        following_count, fanout_override, has_pull_posts, celebrity, last_feed_read_at)
                    VALUES (%(reader)s, '!', false, %(name)s, '', '', '', false, true, now(), 0, 0,
                        'auto', false, false, now())""",
                    {"reader": reader_id, "name": f"r_{name}_{copy}"},
                )
                for statement in _followees(kind, count, number * 10 + copy + 1).split(";"):
                    if statement.strip():
                        cursor.execute(statement, {"reader": reader_id})
        cursor.execute(
            """UPDATE graph_account a SET following_count = c.n
            FROM (SELECT follower_id, count(*) n FROM graph_follow GROUP BY follower_id) c
            WHERE a.id = c.follower_id"""
        )
        cursor.execute(
            """UPDATE graph_account a SET followers_count = c.n
            FROM (SELECT followee_id, count(*) n FROM graph_follow GROUP BY followee_id) c
            WHERE a.id = c.followee_id"""
        )
        for table in ("graph_account", "posts_post"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(json.dumps({"loaded_s": round(time.perf_counter() - started, 1)}))


def readers(name: str) -> list[Account]:
    return list(Account.objects.filter(username__startswith=f"r_{name}_").order_by("id"))


def timed(func, calls: int = CALLS) -> dict:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return {"p50": round(percentile(samples, 50), 1), "p99": round(percentile(samples, 99), 1)}


def cold() -> None:
    lists = store.get_store()
    cap = FeedConfig.load().timeline_length
    for name in READERS:
        if name.startswith("pull"):
            continue
        viewer = itertools.cycle(readers(name)).__next__

        def page(viewer=viewer) -> None:
            reader = viewer()
            lists.discard(key=timeline_key(reader.id))
            feed_page(viewer=reader, before_id=None, limit=20)

        row = {"reader": name, "cold_first_page": timed(page)}
        for plan, forced in (("walk", False), ("per_author", True), ("chosen", None)):

            def rebuild_ids(forced=forced, viewer=viewer) -> None:
                visibility.feed_post_ids_from_db(
                    viewer_id=viewer().id, limit=cap + 1, delivery="push", per_author=forced
                )

            row[f"rebuild_{plan}"] = timed(rebuild_ids, calls=min(CALLS, 20) if forced is False else CALLS)
        print(json.dumps(row), flush=True)


def _outbox_cache_ms(value: int) -> None:
    FeedConfig.objects.update(outbox_cache_ms=value)
    FeedConfig.cache_clear()


def pulls() -> None:
    for name in READERS:
        if not name.startswith("pull"):
            continue
        group = readers(name)
        for reader in group:  # warm: build their timelines and the outboxes once
            feed_page(viewer=reader, before_id=None, limit=20)
        viewer = itertools.cycle(group).__next__

        def page(viewer=viewer) -> None:
            feed_page(viewer=viewer(), before_id=None, limit=20)

        row = {"reader": name, "warm_page": timed(page)}
        local_cache.outboxes.clear()
        saved = FeedConfig.load().outbox_cache_ms
        _outbox_cache_ms(0)
        try:
            row["warm_page_no_local_copy"] = timed(page)
        finally:
            _outbox_cache_ms(saved)
        print(json.dumps(row), flush=True)


def http() -> None:
    """GET /api/feed/ for each pull-mode reader kind over HTTP: gunicorn (2 sync workers) and
    the benchmarks' load generator, as in make bench; outbox copies on (the default) and off."""
    from bench.http import token_for
    from bench.reads import load
    from tests.support.http import gunicorn
    from tests.support.procs import child_env

    seconds = float(os.environ.get("PROBE_SECONDS", "8"))
    for cache_ms in (1000, 0):
        _outbox_cache_ms(cache_ms)
        with gunicorn(child_env()) as base_url:
            for name in READERS:
                if name.startswith("pull"):
                    tokens = [token_for(reader) for reader in readers(name)]
                    load(base_url, "/api/feed/?limit=20", tokens, seconds=1)  # warm
                    summary = load(base_url, "/api/feed/?limit=20", tokens, seconds=seconds)
                    row = {key: summary.get(key) for key in ("p50_ms", "p99_ms", "rps", "errors")}
                    print(json.dumps({"reader": name, "outbox_cache_ms": cache_ms, **row}), flush=True)
    _outbox_cache_ms(1000)


def check() -> None:
    """The chosen plan against the unbounded per-author plan, for every reader."""
    for reader in Account.objects.filter(username__startswith="r_"):
        for delivery in (None, "push"):
            for before in (None, 1_990_000, 1_000_000):
                for limit in (1, 21, 801):
                    args = {"viewer_id": reader.id, "limit": limit, "before_id": before, "delivery": delivery}
                    got = visibility.feed_post_ids_from_db(**args)
                    assert got == visibility.feed_post_ids_from_db(**args, per_author=True), (reader, args)
    print(json.dumps({"check": "ok"}))


if __name__ == "__main__":
    {"load": load, "cold": cold, "pulls": pulls, "http": http, "check": check}[sys.argv[1]]()
