"""The hand-written scoring formula (see README, "Ranked feeds")."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ranking.base import Candidate, Features, ScoredPost
from ranking.models import RankingConfig

SECONDS_PER_HOUR = 3600.0


class FormulaRanker:
    """score = (1 + engagement + affinity-or-popularity + media) * 0.5 ** (age / half-life)

    * engagement = w_e * ln(1 + recency-weighted likes, comments and shares of the post)
    * affinity = w_a * ln(1 + the viewer's weighted recent interactions with the author), or,
      for a viewer with fewer interactions than the cold-start threshold,
      popularity = w_p * ln(1 + all-time weighted likes, comments and shares)
    * media = the media boost when the post has media
    * age = hours since the entry reached the feed (for a share: since it was shared)

    Logs keep a viral post from drowning everything; the decay keeps the feed fresh. Each
    component is reported already multiplied by the decay, so they add up to the score."""

    name = "formula"

    def __init__(self, config: RankingConfig) -> None:
        self.half_life_s = config.rank_recency_half_life_hours * SECONDS_PER_HOUR
        self.w_engagement = config.rank_engagement_weight
        self.w_affinity = config.rank_affinity_weight
        self.w_popularity = config.rank_popularity_weight
        self.media_boost = config.rank_media_boost
        self.w_like = config.rank_like_weight
        self.w_comment = config.rank_comment_weight
        self.w_share = config.rank_share_weight
        self.cold_start_below = config.rank_cold_start_interactions

    def rank(self, *, candidates: Sequence[Candidate], features: Features) -> list[ScoredPost]:
        cold = features.interactions < self.cold_start_below
        personal_name = "popularity" if cold else "affinity"
        log1p, now, half_life = math.log1p, features.now, self.half_life_s
        engagement, affinity = features.engagement, features.affinity
        scored = []
        for c in candidates:
            decay = 0.5 ** (max(now - c.created_at, 0.0) / half_life)
            eng = self.w_engagement * log1p(engagement.get(c.post_id, 0.0))
            if cold:
                total = self.w_like * c.like_count + self.w_comment * c.comment_count
                personal = self.w_popularity * log1p(total + self.w_share * c.share_count)
            else:
                personal = self.w_affinity * log1p(affinity.get(c.author_id, 0.0))
            media = self.media_boost if c.has_media else 0.0
            components = {
                "base": decay,
                "engagement": eng * decay,
                personal_name: personal * decay,
                "media": media * decay,
                "recency_decay": decay,
            }
            scored.append(
                ScoredPost(candidate=c, score=(1.0 + eng + personal + media) * decay, components=components)
            )
        scored.sort(key=lambda s: (s.score, s.candidate.entry_id), reverse=True)
        return scored
