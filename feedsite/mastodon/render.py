"""Pages of entities: statuses, accounts and comments rendered with a constant number of
queries per page (the page's rows come from the caller; the accounts they show and the
viewer's shares are one query each)."""

from __future__ import annotations

from collections.abc import Sequence

from rest_framework.request import Request

from feedsite.mastodon.entities import account_entity, comment_entity, status_entity
from feedsite.mastodon.selectors import account_rows, reblogged_ids
from posts.models import Comment
from timelines.public import FeedPost


def site_base(request: Request) -> str:
    """The origin entities' ``url`` and ``uri`` point at: the request's scheme and host."""
    return request.build_absolute_uri("/").rstrip("/")


def accounts_by_id(*, account_ids: Sequence[int], base: str) -> dict[int, dict]:
    return {
        account_id: account_entity(row, base=base)
        for account_id, row in account_rows(account_ids=account_ids).items()
    }


def accounts_data(*, account_ids: Sequence[int], base: str) -> list[dict]:
    """Account entities in the order of ``account_ids`` (missing ids left out): one query."""
    by_id = accounts_by_id(account_ids=account_ids, base=base)
    return [by_id[account_id] for account_id in account_ids if account_id in by_id]


def statuses_data(*, posts: Sequence[FeedPost], viewer_id: int | None, base: str) -> list[dict]:
    """Status entities for FeedPost rows (shares as reblog wrappers): two queries."""
    author_ids, original_ids = set(), set()
    for post in posts:
        author_ids.add(post.author_id)
        original = post.repost_of or post
        author_ids.add(original.author_id)
        original_ids.add(original.id)
    accounts = accounts_by_id(account_ids=list(author_ids), base=base)
    reblogged = reblogged_ids(viewer_id=viewer_id, original_ids=original_ids)
    return [status_entity(post, accounts=accounts, reblogged=reblogged, base=base) for post in posts]


def comments_data(*, comments: Sequence[Comment], post_author_id: int, base: str) -> list[dict]:
    """A post's comments as reply Statuses: one query for their authors."""
    accounts = accounts_by_id(account_ids=[c.author_id for c in comments], base=base)
    return [
        comment_entity(comment, post_author_id=post_author_id, accounts=accounts, base=base)
        for comment in comments
    ]
