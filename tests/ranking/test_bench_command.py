"""bench_ranking runs end to end on a tiny network and leaves nothing behind. It asserts what
the command reports, never how fast anything is: speed is for the benchmark's own numbers."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from graph.models import Account
from posts.models import Post
from ranking.models import RankingConfig

pytestmark = pytest.mark.django_db(transaction=True)  # the command VACUUMs: no test transaction


def test_bench_ranking_reports_numbers_and_cleans_up(tmp_path, redis_store):
    output = tmp_path / "bench.json"
    out = StringIO()
    call_command(
        "bench_ranking",
        "--candidates=60",  # pages 1 and 2 (20 each) stay in the ranked window
        "--requests=3",
        "--authors=10",  # past cold start (cold_start_follows): the blend is not measured here
        "--likes=100",
        f"--output={output}",
        stdout=out,
    )
    results = json.loads(output.read_text())
    assert results["candidates"] == 60
    for label, queries in [
        ("ranking step (score + diversity)", 0),
        ("features (2 queries)", 2),
        ("ranked first page (all of it)", 5),
        ("ranked later page (snapshot)", 1),
    ]:
        assert results[label]["runs"] == 3
        assert 0 < results[label]["median_ms"] <= results[label]["p99_ms"]
        assert results[label]["queries"] == queries, label
    assert set(results["ratios_vs_chronological_median"]) == {
        "ranking_step",
        "ranked_first_page",
        "ranked_later_page",
    }
    assert "target: ranking step < 10 ms" in out.getvalue()
    assert results["ranking step (score + diversity)"]["cpu_median_ms"] > 0
    assert not Account.objects.filter(username__startswith="benchrank").exists()
    assert not Post.objects.exists()
    assert RankingConfig.load().rank_candidates == 500
    assert redis_store.client.dbsize() == 0
