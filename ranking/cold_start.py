"""The cold-start blend: trending posts among a new account's ranked candidates
(docs/architecture.md#editorial-feed-and-suggestions).

Invariants: only in ranked mode, only for viewers following fewer than ``cold_start_follows``
accounts, never a post of the viewer's or their followees' (those come from the feed itself,
in the window or below it), so no post shows twice in a scroll. In a snapshot a
trending entry is stored as its post id negated (``trending_key``), so later pages load it with
the trends' filters (ranking.trends.trending_posts) rather than the home feed's follow
condition, and explain=1 marks it ``source: "trending"``.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.models import Account, Follow
from ranking.models import RankingConfig
from ranking.trends import trending_post_ids, trending_posts
from timelines.public import FeedEntry, FeedPost


def trending_key(post_id: int) -> int:
    """A trending entry's id in a snapshot."""
    return -post_id


def is_cold_start(*, viewer: Account, config: RankingConfig) -> bool:
    return viewer.following_count < config.cold_start_follows


def entry_of(post: FeedPost) -> FeedEntry:
    """A trending post (an original) as a ranking candidate's values."""
    return FeedEntry(
        id=post.id,
        author_id=post.author_id,
        created_at=post.created_at,
        delivery=post.delivery,
        repost_of_id=None,
        share_count=post.share_count,
        original_author_id=post.author_id,
        original_has_media=bool(post.media_urls),
        original_like_count=post.like_count,
        original_comment_count=post.comment_count,
        original_share_count=post.share_count,
    )


def cold_start_entries(
    *, viewer: Account, config: RankingConfig, window: Sequence[FeedEntry]
) -> list[FeedEntry]:
    """Up to ``cold_start_trending`` trending posts the viewer may see and the window does not
    hold, by accounts other than the viewer and their followees; none for a viewer past cold
    start. A Redis read and at most three queries."""
    if not config.cold_start_trending or not is_cold_start(viewer=viewer, config=config):
        return []
    held = {e.id for e in window} | {e.repost_of_id for e in window if e.repost_of_id}
    ids = [i for i in trending_post_ids() if i not in held]
    if not ids:
        return []
    # The viewer's own and followees' posts belong to the feed itself (below the window too).
    own = {viewer.id, *Follow.objects.filter(follower=viewer).values_list("followee_id", flat=True)}
    posts = trending_posts(viewer_id=viewer.id, post_ids=ids[: config.cold_start_trending * 2])
    kept = [p for p in posts if p.author_id not in own and p.repost_of_id is None]
    return [entry_of(p) for p in kept[: config.cold_start_trending]]
