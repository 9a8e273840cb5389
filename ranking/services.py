"""Ranked feeds with stable infinite scroll.

A request without a cursor ranks afresh (pull to refresh):

1. Candidates: the newest ``rank_candidates`` entries of the viewer's merged feed (pushed
   timeline + pulled outboxes), filtered and de-duplicated exactly as in chronological mode
   (``timelines.public.feed_page``). They span the *ranked window* ``floor``..``top``.
2. Features in bulk (ranking.selectors: two queries), scores from the ranker (ranking.base),
   then no more than ``rank_max_author_run`` posts by one author in a row.
3. The ranked order is stored as a snapshot in Redis (ranking.snapshot) and the first page is
   cut from it; the cursor names the snapshot and the position.

Later pages read the snapshot, so likes and new posts arriving meanwhile change nothing in
this scroll: no repeats, no skips (new posts show at the next refresh). Posts deleted or
blocked since are still filtered out. After the window, the feed goes on in time order below
``floor``, with the chronological feed's own cursor semantics.

If the snapshot expired (or Redis lost it), the window's entries not yet served (the cursor
carries their ids) are ranked afresh into a new snapshot, and the scroll goes on from there.
We rank the rest again rather than fall back to time order because the rest is exactly
what the viewer has not seen of the window: ranking it keeps the session "best first"
without repeating or skipping anything, at the cost of one ranking (a few ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from graph.models import Account
from posts.models import Delivery
from ranking.base import Candidate, Features, Ranker, ScoredPost, diversify
from ranking.cold_start import cold_start_entries, trending_key
from ranking.cursor import RankedCursor
from ranking.formula import FormulaRanker
from ranking.models import RankingConfig
from ranking.selectors import engagement_by_post, viewer_affinity
from ranking.snapshot import snapshot_breakdowns, snapshot_read, snapshot_save
from ranking.trends import trending_posts
from timelines.public import FeedEntry, FeedPage, FeedPost, feed_entries_by_ids, feed_page, feed_posts_by_ids


def get_ranker(config: RankingConfig) -> Ranker:
    """The ranker in force: the formula. A learned model would be chosen here."""
    return FormulaRanker(config)


@dataclass
class RankedPage:
    posts: list[FeedPost]
    next_cursor: RankedCursor | None
    # entry id -> score breakdown, for explain=1 (ranked entries only)
    scores: dict[int, dict] = field(default_factory=dict)
    degraded: bool = False  # Redis was unavailable: entries came from PostgreSQL alone
    trending: set[int] = field(default_factory=set)  # ids of posts blended in from trends


def entry_source(*, post: FeedPost, viewer_id: int) -> str:
    """Where a feed entry came from: the viewer's own, pushed into their timeline, or pulled
    from a celebrity outbox (the entry's delivery, fixed when it was created)."""
    if post.author_id == viewer_id:
        return "own"
    return "pulled" if post.delivery == Delivery.PULL else "pushed"


def candidate_of(entry: FeedEntry) -> Candidate:
    return Candidate(
        entry_id=entry.id,
        post_id=entry.repost_of_id or entry.id,
        author_id=entry.original_author_id,
        created_at=entry.created_at.timestamp(),
        has_media=entry.original_has_media,
        like_count=entry.original_like_count,
        comment_count=entry.original_comment_count,
        share_count=entry.original_share_count,
    )


def rank_entries(*, viewer_id: int, entries: Sequence[FeedEntry], config: RankingConfig) -> list[ScoredPost]:
    """Load features in bulk (two queries), score, and spread authors out."""
    candidates = [candidate_of(e) for e in entries]
    now = timezone.now()
    affinity = viewer_affinity(viewer_id=viewer_id, now=now, config=config)
    features = Features(
        now=now.timestamp(),
        engagement=engagement_by_post(post_ids=list({c.post_id for c in candidates}), now=now, config=config),
        affinity=affinity.by_author,
        interactions=affinity.interactions,
    )
    ranked = get_ranker(config).rank(candidates=candidates, features=features)
    return diversify(ranked, max_run=config.rank_max_author_run)


def ranked_feed_page(
    *, viewer: Account, cursor: RankedCursor | None, limit: int, explain: bool
) -> RankedPage:
    config = RankingConfig.cached()  # knobs apply within seconds, without a query per request
    if cursor is None:
        return _first_page(viewer=viewer, config=config, limit=limit, explain=explain)
    if cursor.session is None:
        return _below_window(viewer=viewer, before=cursor.before, limit=limit, posts=[], scores={})
    return _window_page(viewer=viewer, config=config, cursor=cursor, limit=limit, explain=explain)


def _window_entries(*, viewer: Account, config: RankingConfig, before_id: int | None) -> FeedPage:
    return feed_page(
        viewer=viewer, before_id=before_id, limit=config.rank_candidates, load=feed_entries_by_ids
    )


def _first_page(*, viewer: Account, config: RankingConfig, limit: int, explain: bool) -> RankedPage:
    window = _window_entries(viewer=viewer, config=config, before_id=None)
    trending = cold_start_entries(viewer=viewer, config=config, window=window.posts)
    if not window.posts and not trending:
        return RankedPage(posts=[], next_cursor=None)
    cursor = RankedCursor(
        top=window.posts[0].id if window.posts else 0,
        floor=window.posts[-1].id if window.posts else 0,
        more_below=window.next_before is not None,
    )
    ranking = _snapshot(
        viewer=viewer,
        config=config,
        entries=[*window.posts, *trending],
        cursor=cursor,
        explain=explain,
        degraded=window.degraded,
        trending={e.id for e in trending},
    )
    return _window_page(
        viewer=viewer, config=config, cursor=cursor, limit=limit, explain=explain, ranking=ranking
    )


@dataclass(frozen=True)
class _Ranking:
    """A ranked order this request computed, served from memory rather than from Redis."""

    order: list[int]
    scores: dict[int, dict]
    degraded: bool = False  # its candidates came from PostgreSQL alone (Redis unavailable)


def _snapshot(
    *,
    viewer: Account,
    config: RankingConfig,
    entries: Sequence[FeedEntry],
    cursor: RankedCursor,
    explain: bool,
    degraded: bool = False,
    trending: set[int] | frozenset[int] = frozenset(),
) -> _Ranking:
    """Rank the entries and store their order as a new snapshot session in ``cursor``;
    ``trending`` entries under their ``trending_key``."""
    ranked = rank_entries(viewer_id=viewer.id, entries=entries, config=config)
    order = [
        trending_key(s.candidate.entry_id) if s.candidate.entry_id in trending else s.candidate.entry_id
        for s in ranked
    ]
    scores = {key: {"total": s.score, **s.components} for key, s in zip(order, ranked, strict=True)}
    cursor.session = snapshot_save(
        viewer_id=viewer.id,
        entry_ids=order,
        ttl=config.rank_snapshot_ttl_seconds,
        breakdowns=scores if explain else None,
    )
    cursor.offset, cursor.length = 0, len(order)
    return _Ranking(order=order, scores=scores, degraded=degraded)


def _window_page(
    *,
    viewer: Account,
    config: RankingConfig,
    cursor: RankedCursor,
    limit: int,
    explain: bool,
    ranking: _Ranking | None = None,
) -> RankedPage:
    posts: list[FeedPost] = []
    keys: list[int] = []  # the snapshot ids of ``posts``
    served = set(cursor.served)
    while len(posts) < limit and cursor.offset < cursor.length:
        want = limit - len(posts)
        count = want + max(4, want // 4)  # spare ids absorb posts deleted or blocked since
        if ranking is not None:
            ids = ranking.order[cursor.offset : cursor.offset + count]
        else:
            ids = snapshot_read(
                viewer_id=viewer.id,
                session=cursor.session,
                start=cursor.offset,
                count=count,
                ttl=config.rank_snapshot_ttl_seconds,
            )
        if ids is None:  # expired: rank what is left of the window into a new snapshot
            ranking = _rerank_rest(viewer=viewer, config=config, cursor=cursor, explain=explain)
            continue
        if not ids:
            break
        fresh = [i for i in ids if abs(i) not in served]  # belt and braces: never show one twice
        visible = _visible(viewer=viewer, keys=fresh)
        for key in ids:
            if len(posts) == limit:
                break
            cursor.offset += 1
            if key in visible and abs(key) not in served:
                posts.append(visible[key])
                keys.append(key)
    scores: dict[int, dict] = {}
    if explain and posts:
        if ranking is not None:  # ranked by this request: the breakdowns are at hand
            scores = {i: ranking.scores[i] for i in keys if i in ranking.scores}
        missing = [i for i in keys if i not in scores]
        scores |= snapshot_breakdowns(viewer_id=viewer.id, session=cursor.session, entry_ids=missing)
        scores = {abs(key): breakdown for key, breakdown in scores.items()}
    cursor.served += [p.id for p in posts]
    page = _finish(viewer=viewer, cursor=cursor, posts=posts, scores=scores, limit=limit)
    page.degraded = page.degraded or (ranking is not None and ranking.degraded)
    page.trending = {-key for key in keys if key < 0}
    return page


def _visible(*, viewer: Account, keys: Sequence[int]) -> dict[int, FeedPost]:
    """Snapshot id -> the post, for those the viewer may still see: feed entries with the home
    feed's filters, trending ones with the trends' (ranking.cold_start)."""
    feed_ids = [k for k in keys if k > 0]
    trend_ids = [-k for k in keys if k < 0]
    visible = {p.id: p for p in feed_posts_by_ids(viewer_id=viewer.id, post_ids=feed_ids, dedup=False)}
    if trend_ids:
        visible |= {trending_key(p.id): p for p in trending_posts(viewer_id=viewer.id, post_ids=trend_ids)}
    return visible


def _rerank_rest(*, viewer: Account, config: RankingConfig, cursor: RankedCursor, explain: bool) -> _Ranking:
    """The snapshot is gone: rank the window's entries not served yet into a new one."""
    served = set(cursor.served)
    rest: list[FeedEntry] = []
    before = cursor.top + 1
    degraded = False
    while True:
        chunk = _window_entries(viewer=viewer, config=config, before_id=before)
        degraded = degraded or chunk.degraded
        rest += [e for e in chunk.posts if e.id >= cursor.floor and e.id not in served]
        if chunk.next_before is None or chunk.next_before <= cursor.floor:
            break
        before = chunk.next_before
    if not rest:
        cursor.offset = cursor.length  # nothing left in the window
        return _Ranking(order=[], scores={}, degraded=degraded)
    return _snapshot(
        viewer=viewer, config=config, entries=rest, cursor=cursor, explain=explain, degraded=degraded
    )


def _finish(
    *, viewer: Account, cursor: RankedCursor, posts: list[FeedPost], scores: dict[int, dict], limit: int
) -> RankedPage:
    if len(posts) < limit or cursor.offset >= cursor.length:
        # The window is done: the rest of this page, and what follows, in time order below it.
        if not cursor.more_below:
            return RankedPage(posts=posts, next_cursor=None, scores=scores)
        if len(posts) == limit:
            return RankedPage(posts=posts, next_cursor=RankedCursor(before=cursor.floor), scores=scores)
        return _below_window(viewer=viewer, before=cursor.floor, limit=limit, posts=posts, scores=scores)
    return RankedPage(posts=posts, next_cursor=cursor, scores=scores)


def _below_window(
    *, viewer: Account, before: int, limit: int, posts: list[FeedPost], scores: dict[int, dict]
) -> RankedPage:
    page = feed_page(viewer=viewer, before_id=before, limit=limit - len(posts))
    next_cursor = RankedCursor(before=page.next_before) if page.next_before is not None else None
    return RankedPage(
        posts=posts + page.posts, next_cursor=next_cursor, scores=scores, degraded=page.degraded
    )
