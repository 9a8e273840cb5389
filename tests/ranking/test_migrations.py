"""Ranking's knobs left FeedConfig for a row of their own (ranking 0001-0002, timelines 0010):
values someone chose survive the move, both ways, on a database that had them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ranking.models import RANKING_FIELDS, RankingConfig

pytestmark = pytest.mark.django_db(transaction=True)  # migrations run their own DDL

BEFORE = [("timelines", "0009_fanout_chunk_10000"), ("ranking", None)]
AFTER = [("timelines", "0010_ranking_config_moved"), ("ranking", "0002_copy_from_feedconfig")]
# A value other than the default for every knob.
CHOSEN = {
    "default_feed_mode": "ranked",
    "rank_candidates": 123,
    "rank_max_author_run": 7,
    "rank_cold_start_interactions": 9,
    "rank_recency_half_life_hours": 2.5,
    "rank_engagement_half_life_hours": 12.0,
    "rank_affinity_days": 11,
    "rank_like_weight": 1.5,
    "rank_comment_weight": 4.0,
    "rank_share_weight": 6.5,
    "rank_engagement_weight": 0.25,
    "rank_affinity_weight": 3.0,
    "rank_popularity_weight": 0.75,
    "rank_media_boost": 2.0,
    "rank_snapshot_ttl_seconds": 90,
}


def migrate(targets):
    """Migrate the test database to ``targets``; the app registry as of there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # what was just applied
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def knobs(row) -> dict:
    return {name: getattr(row, name) for name in CHOSEN}


def test_chosen_values_move_to_the_ranking_row_and_back():
    assert set(CHOSEN) == set(RANKING_FIELDS)
    defaults = RankingConfig()
    assert all(getattr(defaults, name) != value for name, value in CHOSEN.items())
    try:
        old = migrate(BEFORE)
        old.get_model("timelines", "FeedConfig").objects.update_or_create(pk=1, defaults=CHOSEN)

        new = migrate(AFTER)
        assert knobs(new.get_model("ranking", "RankingConfig").objects.get(pk=1)) == CHOSEN
        feed_fields = {f.name for f in new.get_model("timelines", "FeedConfig")._meta.get_fields()}
        assert not feed_fields & set(CHOSEN)

        old = migrate(BEFORE)  # reversed: the values go back where they were
        assert knobs(old.get_model("timelines", "FeedConfig").objects.get(pk=1)) == CHOSEN
    finally:
        migrate(latest())
    assert knobs(RankingConfig.load()) == CHOSEN  # and the live model reads them


def test_a_database_without_a_feed_config_row_gets_the_defaults():
    try:
        old = migrate(BEFORE)
        old.get_model("timelines", "FeedConfig").objects.all().delete()
        new = migrate(AFTER)
        row = new.get_model("ranking", "RankingConfig").objects.get(pk=1)
        assert knobs(row) == knobs(RankingConfig())
    finally:
        migrate(latest())
