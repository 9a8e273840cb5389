"""The formula ranker and the diversity rule, on hand-made candidates and features: no I/O,
so every term of the formula is checked exactly."""

from __future__ import annotations

import math

import pytest

from ranking.base import Candidate, Features, ScoredPost, diversify
from ranking.formula import FormulaRanker
from ranking.models import RankingConfig

NOW = 1_800_000_000.0
HOUR = 3600.0


def candidate(entry_id: int, *, author: int = 1, age_hours: float = 0.0, media: bool = False, likes: int = 0):
    return Candidate(
        entry_id=entry_id,
        post_id=entry_id,
        author_id=author,
        created_at=NOW - age_hours * HOUR,
        has_media=media,
        like_count=likes,
        comment_count=0,
        share_count=0,
    )


def features(*, engagement=None, affinity=None, interactions: int = 100) -> Features:
    return Features(now=NOW, engagement=engagement or {}, affinity=affinity or {}, interactions=interactions)


def ranker(**overrides) -> FormulaRanker:
    return FormulaRanker(RankingConfig(**overrides))  # an unsaved row: the defaults plus overrides


def test_score_is_the_documented_formula_and_components_add_up():
    c = candidate(1, author=7, age_hours=12.0, media=True)
    [scored] = ranker().rank(candidates=[c], features=features(engagement={1: 4.0}, affinity={7: 9.0}))
    decay = 0.5 ** (12.0 / 6.0)
    expected = (1 + 1.0 * math.log1p(4.0) + 2.0 * math.log1p(9.0) + 0.5) * decay
    assert scored.score == pytest.approx(expected)
    parts = scored.components
    assert parts["recency_decay"] == pytest.approx(0.25)
    assert parts["base"] + parts["engagement"] + parts["affinity"] + parts["media"] == pytest.approx(expected)


def test_engagement_affinity_media_and_recency_each_raise_a_post():
    plain = candidate(1, author=1)
    engaged, liked_author, with_media = (
        candidate(2, author=2),
        candidate(3, author=3),
        candidate(4, author=4, media=True),
    )
    old = candidate(5, author=5, age_hours=48, media=True)
    f = features(engagement={2: 50.0}, affinity={3: 5.0})
    order = [
        s.candidate.entry_id
        for s in ranker().rank(candidates=[plain, engaged, liked_author, with_media, old], features=f)
    ]
    assert order.index(5) == 4  # two days old: decayed below everything
    assert order.index(1) == 3  # the fresh plain post is beaten by every boosted one
    assert set(order[:3]) == {2, 3, 4}


def test_cold_start_uses_popularity_instead_of_affinity():
    popular, loved_author = candidate(1, author=1, likes=500), candidate(2, author=2)
    f_cold = features(affinity={2: 100.0}, interactions=49)
    f_warm = features(affinity={2: 100.0}, interactions=50)
    cold = ranker().rank(candidates=[loved_author, popular], features=f_cold)
    warm = ranker().rank(candidates=[loved_author, popular], features=f_warm)
    assert [s.candidate.entry_id for s in cold] == [1, 2]
    assert "popularity" in cold[0].components and "affinity" not in cold[0].components
    assert [s.candidate.entry_id for s in warm] == [2, 1]
    assert (
        ranker(rank_cold_start_interactions=0)
        .rank(candidates=[popular], features=features(interactions=0))[0]
        .components.get("affinity")
        == 0.0
    )


def test_ties_break_newest_entry_first():
    ranked = ranker().rank(candidates=[candidate(1), candidate(3), candidate(2)], features=features())
    assert [s.candidate.entry_id for s in ranked] == [3, 2, 1]


def scored(author: int, entry_id: int) -> ScoredPost:
    return ScoredPost(candidate=candidate(entry_id, author=author), score=0.0, components={})


def runs(items: list[ScoredPost]) -> int:
    longest = current = 0
    previous = None
    for item in items:
        current = current + 1 if item.candidate.author_id == previous else 1
        previous = item.candidate.author_id
        longest = max(longest, current)
    return longest


@pytest.mark.parametrize("max_run", [1, 2, 3])
def test_diversify_caps_runs_and_keeps_the_best_order_otherwise(max_run):
    items = [scored(1, i) for i in range(10)] + [scored(2, 10 + i) for i in range(4)] + [scored(3, 20)]
    out = diversify(items, max_run=max_run)
    assert sorted(s.candidate.entry_id for s in out) == sorted(s.candidate.entry_id for s in items)
    assert runs(out[: 5 * (max_run + 1) - max_run]) <= max_run  # while others are left
    # Author 1's posts keep their relative order (best first).
    assert [s.candidate.entry_id for s in out if s.candidate.author_id == 1] == list(range(10))
    assert [s.candidate.entry_id for s in out[:max_run]] == list(range(max_run))


def test_diversify_lets_a_run_grow_only_when_nobody_else_is_left():
    out = diversify([scored(1, 1), scored(1, 2), scored(1, 3), scored(1, 4), scored(2, 5)], max_run=3)
    assert [s.candidate.entry_id for s in out] == [1, 2, 3, 5, 4]
