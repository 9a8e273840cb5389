"""Ranking's knobs live in their own row (ranking.models.RankingConfig) and are set with the
same ``feed_config`` flags as the feed's own."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ranking.models import RANKING_FIELDS, RankingConfig
from timelines.models import FeedConfig

pytestmark = pytest.mark.django_db


def test_feed_config_sets_ranking_and_feed_knobs_in_their_rows():
    out = StringIO()
    call_command("feed_config", "--rank-candidates", "40", "--celebrity-threshold", "9", stdout=out)
    assert "rank-candidates      40" in out.getvalue()
    assert RankingConfig.load().rank_candidates == 40 and FeedConfig.load().celebrity_threshold == 9
    assert RankingConfig.cached().rank_candidates == 40  # this process sees its own change at once
    for name in RANKING_FIELDS:
        assert name.replace("_", "-") in out.getvalue()


def test_one_bad_value_writes_neither_row():
    before = (FeedConfig.load().updated_at, RankingConfig.load().updated_at)
    with pytest.raises(CommandError, match="--rank-candidates"):
        call_command("feed_config", "--celebrity-threshold", "9", "--rank-candidates", "5")
    with pytest.raises(CommandError, match="--celebrity-threshold"):
        call_command("feed_config", "--celebrity-threshold", "0", "--rank-candidates", "40")
    assert (FeedConfig.load().updated_at, RankingConfig.load().updated_at) == before
    assert (FeedConfig.load().celebrity_threshold, RankingConfig.load().rank_candidates) == (10_000, 500)


def test_a_save_clears_only_its_own_rows_process_copy():
    feed, ranking = FeedConfig.cached(), RankingConfig.cached()
    assert FeedConfig.cached() is feed and RankingConfig.cached() is ranking
    ranking.save()
    assert FeedConfig.cached() is feed
    assert RankingConfig.cached() is not ranking
