"""What a stream reads from PostgreSQL (synchronous Django code; ``stream`` calls it through
``sync_to_async``): the reader behind a token, the reader's graph (whom they follow, and which of
those publish in pull mode), and the events' payloads, loaded through the feed's own row loader
with the reader as viewer so visibility at delivery is the feed's (docs/architecture.md#visibility).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from feedsite.oauth.scopes import scope_covers
from graph.models import Account, Block, Mute
from posts.serializers import feed_posts_data
from timelines.models import FeedConfig
from timelines.public import account_fanout_mode, feed_page, feed_page_newer, feed_posts_by_ids

# Mastodon's user stream needs ``read`` or ``read:statuses``.
STREAM_SCOPE = "read:statuses"
REPLAY_PAGE = 100
REPLAY_MAX = 1000  # the timeline window is smaller: a resume never replays more


@dataclass(frozen=True)
class ReaderGraph:
    authors: frozenset[int]  # followees not muted or blocked either way, and the reader themselves
    pull_authors: frozenset[int]  # of those, the accounts publishing in pull mode


def reader_for_token(*, scheme: str, token: str) -> int | None:
    """The active account a native (``token``) or OAuth (``bearer``) token belongs to, or None.
    An OAuth token needs the user stream's scope; an app-only token has no reader."""
    close_old_connections()
    if not token:
        return None
    if scheme == "token":
        row = Token.objects.select_related("user").filter(key=token).first()
        return row.user_id if row is not None and row.user.is_active else None
    from oauth2_provider.models import AccessToken

    checksum = hashlib.sha256(token.encode()).hexdigest()
    row = AccessToken.objects.select_related("user").filter(token_checksum=checksum).first()
    if row is None or row.is_expired() or row.user is None or not row.user.is_active:
        return None
    return row.user_id if scope_covers(row.scope.split(), STREAM_SCOPE) else None


def reader_graph(*, reader_id: int) -> ReaderGraph:
    """The authors whose posts the reader's feed shows (the feed's rule, as sets: one query
    each for follows, mutes and blocks), and which of them publish in pull mode."""
    close_old_connections()
    config = FeedConfig.cached()
    accounts = list(
        Account.objects.filter(follower_edges__follower_id=reader_id).only(
            "id", "followers_count", "celebrity", "fanout_override", "has_pull_posts"
        )
    )
    accounts += list(Account.objects.filter(id=reader_id))
    pull = {
        a.id for a in accounts if a.has_pull_posts or account_fanout_mode(account=a, config=config) == "pull"
    }
    hidden = {
        *Mute.objects.filter(muter_id=reader_id).values_list("muted_id", flat=True),
        *Block.objects.filter(blocker_id=reader_id).values_list("blocked_id", flat=True),
        *Block.objects.filter(blocked_id=reader_id).values_list("blocker_id", flat=True),
    }
    authors = frozenset(a.id for a in accounts) - hidden
    return ReaderGraph(authors=authors, pull_authors=frozenset(pull) & authors)


def newest_feed_post_id(*, reader_id: int) -> int:
    """Where a fresh native stream's cursor starts: the newest post of the reader's feed."""
    close_old_connections()
    page = feed_page(viewer=Account.objects.get(id=reader_id), before_id=None, limit=1)
    return page.posts[0].id if page.posts else 0


def missed_posts(*, reader_id: int, after_id: int) -> list[dict]:
    """The feed's posts newer than ``after_id`` still in the reader's feed window, oldest
    first, rendered as /api/feed/ renders them (a resume with Last-Event-ID)."""
    close_old_connections()
    viewer = Account.objects.get(id=reader_id)
    rendered: list[dict] = []
    while len(rendered) < REPLAY_MAX:
        page = feed_page_newer(viewer=viewer, after_id=after_id, limit=REPLAY_PAGE, oldest_first=True)
        if not page.posts:
            break
        rendered.extend(reversed(feed_posts_data(page.posts)))
        after_id = page.posts[0].id
        if page.next_before is None:
            break
    return rendered


def native_post(*, reader_id: int, post_id: int) -> dict | None:
    """The post as /api/feed/ renders it for this reader, or None if the feed would not show it."""
    close_old_connections()
    posts = feed_posts_by_ids(viewer_id=reader_id, post_ids=[post_id])
    return feed_posts_data(posts)[0] if posts else None


def mastodon_status(*, reader_id: int, post_id: int, base: str) -> dict | None:
    """The post as a Mastodon Status for this reader, or None if the feed would not show it."""
    from feedsite.mastodon.render import statuses_data

    close_old_connections()
    posts = feed_posts_by_ids(viewer_id=reader_id, post_ids=[post_id])
    return statuses_data(posts=posts, viewer_id=reader_id, base=base)[0] if posts else None
