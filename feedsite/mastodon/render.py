"""Pages of entities: statuses, accounts and comments rendered with a constant number of
queries per page (the page's rows come from the caller; the accounts they show and the
viewer's shares are one query each).

The accounts embedded in statuses come from a per-process copy at most
EMBEDDED_ACCOUNT_SECONDS old (their counts may lag by that much; why: docs/performance.md
#mastodon-api); the account endpoints always read them fresh."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from rest_framework.request import Request

from feedsite.mastodon.entities import account_entity, comment_entity, mention_entity, status_entity
from feedsite.mastodon.selectors import account_rows, reblogged_ids
from feedsite.notifications.selectors import mentions_of
from posts.models import Comment
from timelines.public import FeedPost


def site_base(request: Request) -> str:
    """The origin entities' ``url`` and ``uri`` point at: the request's scheme and host."""
    return request.build_absolute_uri("/").rstrip("/")


EMBEDDED_ACCOUNT_SECONDS = 10.0
EMBEDDED_ACCOUNT_MAX = 20_000
# (account id, base) -> (monotonic time read, Account entity)
_embedded: dict[tuple[int, str], tuple[float, dict]] = {}


def embedded_accounts(*, account_ids: Iterable[int], base: str) -> dict[int, dict]:
    """Account entities for embedding in statuses: this process's recent copy, the rest in
    one query."""
    now = time.monotonic()
    entities, missing = {}, []
    for account_id in set(account_ids):
        entry = _embedded.get((account_id, base))
        if entry is not None and now - entry[0] < EMBEDDED_ACCOUNT_SECONDS:
            entities[account_id] = entry[1]
        else:
            missing.append(account_id)
    if missing:
        fresh = accounts_by_id(account_ids=missing, base=base)
        if len(_embedded) + len(fresh) > EMBEDDED_ACCOUNT_MAX:
            _embedded.clear()
        _embedded.update(((account_id, base), (now, entity)) for account_id, entity in fresh.items())
        entities.update(fresh)
    return entities


def embedded_accounts_clear() -> None:
    _embedded.clear()


def accounts_by_id(*, account_ids: Iterable[int], base: str) -> dict[int, dict]:
    return {
        account_id: account_entity(row, base=base)
        for account_id, row in account_rows(account_ids=account_ids).items()
    }


def accounts_data(*, account_ids: Sequence[int], base: str) -> list[dict]:
    """Account entities in the order of ``account_ids`` (missing ids left out): one query."""
    by_id = accounts_by_id(account_ids=account_ids, base=base)
    return [by_id[account_id] for account_id in account_ids if account_id in by_id]


def statuses_data(*, posts: Sequence[FeedPost], viewer_id: int | None, base: str) -> list[dict]:
    """Status entities for FeedPost rows (shares as reblog wrappers): at most two queries.
    Only originals that someone shared (``share_count``, kept exact) can be the viewer's
    reblogs, so a page without them skips that query."""
    author_ids, shared_ids = set(), set()
    for post in posts:
        author_ids.add(post.author_id)
        original = post.repost_of or post
        author_ids.add(original.author_id)
        if original.share_count:
            shared_ids.add(original.id)
    accounts = embedded_accounts(account_ids=author_ids, base=base)
    reblogged = reblogged_ids(viewer_id=viewer_id, original_ids=shared_ids)
    entities = [status_entity(post, accounts=accounts, reblogged=reblogged, base=base) for post in posts]
    _fill_mentions(entities, posts=posts, base=base)
    return entities


def _fill_mentions(entities: list[dict], *, posts: Sequence[FeedPost], base: str) -> None:
    """Status ``mentions``: one query, only for a page where some body has an ``@``."""
    originals = [post.repost_of or post for post in posts]
    mentioning = [post.id for post in originals if "@" in post.body]
    if not mentioning:
        return
    found = mentions_of(post_ids=mentioning)
    for entity in entities:
        status = entity["reblog"] or entity
        status["mentions"] = [
            mention_entity(account_id=pk, username=name, base=base)
            for pk, name in found.get(int(status["id"]), [])
        ]


def comments_data(*, comments: Sequence[Comment], post_author_id: int, base: str) -> list[dict]:
    """A post's comments as reply Statuses: at most one query for their authors."""
    accounts = embedded_accounts(account_ids=[c.author_id for c in comments], base=base)
    return [
        comment_entity(comment, post_author_id=post_author_id, accounts=accounts, base=base)
        for comment in comments
    ]
