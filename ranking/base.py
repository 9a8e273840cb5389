"""The one interface between feeds and ranking. A ranker scores candidates from features that
were loaded in bulk beforehand (ranking.selectors), so it never touches the database: the
formula (ranking.formula) is one implementation; a learned model can be another."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Candidate:
    """One feed entry to rank. For a share, ``post_id``, ``author_id`` and the counts are the
    original's (what is being recommended) and ``created_at`` is when it was shared."""

    entry_id: int
    post_id: int
    author_id: int
    created_at: float  # epoch seconds
    has_media: bool
    like_count: int
    comment_count: int
    share_count: int


@dataclass(frozen=True, slots=True)
class Features:
    """Per-request features, loaded in a fixed number of queries."""

    now: float  # epoch seconds
    engagement: dict[int, float]  # post id -> recency-weighted likes, comments and shares
    affinity: dict[int, float]  # author id -> the viewer's weighted recent interactions
    interactions: int  # how many recent interactions ``affinity`` was built from


@dataclass(frozen=True, slots=True)
class ScoredPost:
    candidate: Candidate
    score: float
    components: dict[str, float]  # named parts of ``score``, for explain=1


class Ranker(Protocol):
    name: str

    def rank(self, *, candidates: Sequence[Candidate], features: Features) -> list[ScoredPost]:
        """Candidates with scores, best first; ties broken by newest entry first."""
        ...


def diversify(ranked: Sequence[ScoredPost], *, max_run: int) -> list[ScoredPost]:
    """Reorder so no more than ``max_run`` posts by one author come in a row: when the next
    post would extend a run past the limit, the best post by someone else goes first. Applied
    after any ranker. Only when nothing else is left does a run grow longer."""
    pending = list(ranked)
    out: list[ScoredPost] = []
    run_author, run_length = None, 0
    while pending:
        pick = 0
        if run_length >= max_run:
            pick = next((i for i, s in enumerate(pending) if s.candidate.author_id != run_author), 0)
        chosen = pending.pop(pick)
        author = chosen.candidate.author_id
        run_length = run_length + 1 if author == run_author else 1
        run_author = author
        out.append(chosen)
    return out
