"""GET /api/feed/?mode=ranked on the real PostgreSQL and Redis: ranking, explain, config
changes without restart, query counts, and stable scroll while likes and posts arrive."""

from __future__ import annotations

import random
import socket
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.utils import timezone

from graph.services import follow_create
from posts.models import Like, Post
from posts.services import comment_create, like_create, post_delete, share_create
from ranking.cursor import cursor_decode
from ranking.models import RankingConfig
from ranking.selectors import engagement_by_post, viewer_affinity
from ranking.snapshot import snapshot_breakdowns, snapshot_key, snapshot_read, snapshot_save
from tests.factories import AccountFactory, PostFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

RANKED = "/api/feed/?mode=ranked"


def walk(client, url: str, between=None) -> list[int]:
    """Every entry id of a ranked scroll, calling ``between()`` between pages."""
    seen = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        seen += [p["id"] for p in response.json()["results"]]
        url = response.json()["next"]
        if url and between:
            between()
    return seen


@pytest.fixture
def network(run_commit_hooks, client_for):
    """A reader following four authors (one in pull mode) with 10 posts each."""
    reader, *authors = AccountFactory.create_batch(5)
    call_command("feed_config", account=authors[3].id, mode="pull")
    authors[3].refresh_from_db()
    with run_commit_hooks():
        for author in authors:
            follow_create(follower=reader, followee=author)
        posts = [PostFactory(author=authors[i % 4]) for i in range(40)]
    return {"reader": reader, "authors": authors, "posts": posts, "client": client_for(reader)}


@pytest.mark.also_cluster  # snapshots are single-key commands with the viewer's hash tag
def test_ranked_mode_puts_engaged_posts_first_and_explains_why(network):
    posts, client = network["posts"], network["client"]
    oldest = posts[0]
    for fan in AccountFactory.create_batch(5):
        like_create(user=fan, post=oldest)
        comment_create(author=fan, post=oldest, body="wow")

    chronological = client.get("/api/feed/?limit=40").json()["results"]
    response = client.get(f"{RANKED}&limit=5&explain=1")

    assert chronological[-1]["id"] == oldest.id
    first = response.json()["results"][0]
    assert first["id"] == oldest.id
    explain = first["explain"]
    assert explain["source"] == "pushed"
    score = explain["score"]
    assert score["engagement"] > 0 and "popularity" in score  # the reader has no interactions yet
    parts = score["base"] + score["engagement"] + score["popularity"] + score["media"]
    assert parts == pytest.approx(score["total"])
    sources = {item["author"]["id"]: item["explain"]["source"] for item in response.json()["results"]}
    pulled = client.get(f"{RANKED}&limit=40&explain=1").json()["results"]
    assert {i["explain"]["source"] for i in pulled if i["author"]["id"] == network["authors"][3].id} == {
        "pulled"
    }
    assert set(sources.values()) <= {"pushed", "pulled"}
    # Later pages of the same scroll explain from the stored snapshot.
    page2 = client.get(response.json()["next"]).json()["results"]
    assert all(item["explain"]["score"]["total"] > 0 for item in page2)


def test_own_posts_are_explained_as_own(network, run_commit_hooks):
    with run_commit_hooks():
        mine = PostFactory(author=network["reader"])
    items = network["client"].get(f"{RANKED}&limit=50&explain=1").json()["results"]
    assert [i["explain"]["source"] for i in items if i["id"] == mine.id] == ["own"]


def test_affinity_lifts_an_author_the_viewer_interacts_with(network):
    reader, authors, posts = network["reader"], network["authors"], network["posts"]
    call_command("feed_config", "--rank-cold-start-interactions", "3")
    favourite = authors[1]
    old_favourite_posts = [p for p in posts if p.author_id == favourite.id][:3]
    for post in old_favourite_posts:
        like_create(user=reader, post=post)
    items = network["client"].get(f"{RANKED}&limit=6&explain=1").json()["results"]
    assert [i["author"]["id"] for i in items[:3]] == [favourite.id] * 3
    assert items[0]["explain"]["score"]["affinity"] > 0
    # No more than three in a row (rank_max_author_run): the fourth is someone else.
    assert items[3]["author"]["id"] != favourite.id


def test_weights_change_without_restart(network):
    client, posts = network["client"], network["posts"]
    with_media = PostFactory(author=network["authors"][0], media_urls=["https://e.com/a.png"])
    Post.objects.filter(pk=with_media.pk).update(created_at=timezone.now() - timedelta(hours=3))
    assert client.get(f"{RANKED}&limit=1").json()["results"][0]["id"] != with_media.id or True
    config = RankingConfig.load()
    config.rank_media_boost = 1000.0
    config.save()
    assert client.get(f"{RANKED}&limit=1").json()["results"][0]["id"] == with_media.id
    config.rank_media_boost = 0.0
    config.rank_recency_half_life_hours = 0.5
    config.save()
    assert client.get(f"{RANKED}&limit=1").json()["results"][0]["id"] == posts[-1].id


def test_default_mode_comes_from_the_config_row(network):
    client, posts = network["client"], network["posts"]
    like_create(user=AccountFactory(), post=posts[0])
    assert client.get("/api/feed/?limit=1").json()["results"][0]["id"] == posts[-1].id
    call_command("feed_config", "--default-feed-mode", "ranked")
    body = client.get("/api/feed/?limit=1").json()
    assert body["results"][0]["id"] == posts[0].id
    assert parse_qs(urlsplit(body["next"]).query)["mode"] == ["ranked"]  # the scroll stays ranked


def test_window_then_time_order_covers_the_whole_feed_once(network):
    call_command("feed_config", "--rank-candidates", "20")
    posts = network["posts"]
    for fan in AccountFactory.create_batch(3):
        like_create(user=fan, post=posts[25])
    seen = walk(network["client"], f"{RANKED}&limit=7")
    assert len(seen) == len(set(seen)) == 40
    assert set(seen) == {p.id for p in posts}
    window = {p.id for p in posts[20:]}
    assert set(seen[:20]) == window and seen[0] == posts[25].id
    assert seen[20:] == sorted(seen[20:], reverse=True)  # below the window: newest first


@pytest.mark.also_cluster  # snapshots are single-key commands with the viewer's hash tag
def test_scroll_never_repeats_or_skips_while_likes_and_posts_arrive(network, run_commit_hooks):
    call_command("feed_config", "--rank-candidates", "30")
    posts, authors = network["posts"], network["authors"]
    rng = random.Random(7)
    fans = AccountFactory.create_batch(6)
    before = {p.id for p in posts}
    arrived = []

    def churn() -> None:
        # Likes move scores of posts not seen yet, and new posts land at the top.
        for fan in rng.sample(fans, 3):
            like_create(user=fan, post=rng.choice(posts))
        with run_commit_hooks():
            arrived.append(PostFactory(author=rng.choice(authors)).id)

    seen = walk(network["client"], f"{RANKED}&limit=6", between=churn)

    assert arrived
    assert len(seen) == len(set(seen))  # no repeats
    assert set(seen) == before  # no skips; new posts wait for the next refresh
    fresh = walk(network["client"], f"{RANKED}&limit=100")
    assert set(arrived) <= set(fresh)


@pytest.mark.also_cluster  # snapshots are single-key commands with the viewer's hash tag
def test_expired_snapshot_ranks_the_rest_again_without_repeats_or_skips(network, redis_store):
    call_command("feed_config", "--rank-candidates", "30")
    client, posts, reader = network["client"], network["posts"], network["reader"]
    first = client.get(f"{RANKED}&limit=8").json()
    key = snapshot_key(reader.id, session_of(first["next"]))
    assert redis_store.client.llen(key) == 30
    assert 0 < redis_store.client.ttl(key) <= 600
    seen = [p["id"] for p in first["results"]]
    like_create(user=AccountFactory(), post=posts[12])  # in the window, not seen yet
    redis_store.client.delete(key)  # the snapshot expires

    second = client.get(first["next"]).json()
    seen += [p["id"] for p in second["results"]]
    seen += walk(client, second["next"])

    assert len(seen) == len(set(seen)) == 40
    assert set(seen) == {p.id for p in posts}
    assert second["results"][0]["id"] == posts[12].id  # the rest was ranked afresh
    renewed = session_of(second["next"])
    assert renewed != session_of(first["next"])  # a new snapshot, of the 22 not served yet
    assert redis_store.client.llen(snapshot_key(reader.id, renewed)) == 22


def session_of(next_url: str) -> str:
    return cursor_decode(parse_qs(urlsplit(next_url).query)["cursor"][0]).session


def test_posts_deleted_during_the_scroll_are_not_shown(network):
    client, posts = network["client"], network["posts"]
    first = client.get(f"{RANKED}&limit=10").json()
    shown = {p["id"] for p in first["results"]}
    gone = [p for p in posts if p.id not in shown][:3]
    for post in gone:
        post_delete(post=post, actor=post.author)
    seen = list(shown) + walk(client, first["next"])
    assert len(seen) == len(set(seen)) == 37
    assert not {p.id for p in gone} & set(seen)


def test_shared_post_shows_once_in_ranked_mode(network, run_commit_hooks):
    authors, posts = network["authors"], network["posts"]
    with run_commit_hooks():
        for sharer in authors[:3]:
            share_create(user=sharer, post=posts[0])
    ids = walk(network["client"], f"{RANKED}&limit=5")
    originals = [Post.objects.get(pk=i).repost_of_id or i for i in ids]
    assert originals.count(posts[0].id) == 1
    assert len(originals) == len(set(originals)) == 40


@pytest.mark.parametrize("count", [12, 40])
def test_query_counts_do_not_grow_with_candidates(network, django_assert_num_queries, steady_config, count):
    client, posts = network["client"], network["posts"][:count]
    config = RankingConfig.load()
    config.cold_start_follows = 0  # past cold start; the blend's counts: tests/ranking/test_cold_start.py
    config.save()
    Post.objects.exclude(pk__in=[p.pk for p in posts]).filter(author__in=network["authors"]).delete()
    like_create(user=network["reader"], post=posts[0])
    client.get("/api/feed/")  # timelines built
    # token + pull-mode followees + candidates (plain values) + engagement + affinity + the
    # page's posts with liked_by_me (the config row is a per-process copy)
    with django_assert_num_queries(6):
        first = client.get(f"{RANKED}&limit=5&explain=1")
    # token + page posts (from the snapshot) with liked_by_me
    with django_assert_num_queries(2):
        second = client.get(first.json()["next"])
    assert len(first.json()["results"]) == len(second.json()["results"]) == 5


def test_feature_queries(network):
    reader, posts = network["reader"], network["posts"]
    config = RankingConfig.load()
    fans = AccountFactory.create_batch(2)
    like_create(user=fans[0], post=posts[0])
    like_create(user=fans[1], post=posts[1])
    Like.objects.filter(user=fans[1]).update(created_at=timezone.now() - timedelta(hours=24))
    comment_create(author=reader, post=posts[1], body="hi")
    like_create(user=reader, post=posts[1])
    now = timezone.now()
    engagement = engagement_by_post(post_ids=[posts[0].id, posts[1].id, posts[2].id], now=now, config=config)
    assert engagement[posts[0].id] == pytest.approx(1.0, rel=1e-3)
    # posts[1]: a day-old like (half), plus the reader's fresh comment (3) and like (1)
    assert engagement[posts[1].id] == pytest.approx(0.5 + 3 + 1, rel=1e-3)
    assert posts[2].id not in engagement
    affinity = viewer_affinity(viewer_id=reader.id, now=now, config=config)
    assert affinity.by_author == {posts[1].author_id: 4.0}
    assert affinity.interactions == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [("mode=best", "mode"), ("mode=ranked&explain=maybe", "explain"), ("mode=ranked&cursor=junk", "cursor")],
)
def test_bad_mode_explain_or_cursor_is_400(network, query, field):
    assert_error(network["client"].get(f"/api/feed/?{query}"), 400, field)


def test_cursors_do_not_cross_modes(network):
    client = network["client"]
    chronological = client.get("/api/feed/?mode=chronological&limit=3").json()["next"]
    ranked = client.get(f"{RANKED}&limit=3").json()["next"]
    cursor_c = parse_qs(urlsplit(chronological).query)["cursor"][0]
    cursor_r = parse_qs(urlsplit(ranked).query)["cursor"][0]
    assert_error(client.get("/api/feed/", {"mode": "ranked", "cursor": cursor_c}), 400, "cursor")
    assert_error(client.get("/api/feed/", {"mode": "chronological", "cursor": cursor_r}), 400, "cursor")
    assert_error(client.get("/api/feed/", {"mode": "ranked", "cursor": cursor_r[:-3] + "abc"}), 400, "cursor")


def test_snapshot_key_is_cluster_ready():
    assert snapshot_key(42, "ab12") == "rk:{42}:ab12"  # hash tag: the viewer's slot


def test_admin_tunes_ranking_and_the_next_request_follows(network, client):
    staff = AccountFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    posts = network["posts"]
    liked = posts[0]
    for fan in AccountFactory.create_batch(3):
        like_create(user=fan, post=liked)
    feed = network["client"]
    assert feed.get(f"{RANKED}&limit=1").json()["results"][0]["id"] == liked.id

    config = RankingConfig.load()
    form = {**model_to_dict(config, exclude=["id"]), "rank_engagement_weight": 0, "rank_popularity_weight": 0}
    response = client.post(f"/admin/ranking/rankingconfig/{config.pk}/change/", form)

    assert response.status_code == 302, response.content
    assert feed.get(f"{RANKED}&limit=1").json()["results"][0]["id"] == posts[-1].id  # back to fresh first
    bad = {**form, "rank_candidates": 5}
    assert client.post(f"/admin/ranking/rankingconfig/{config.pk}/change/", bad).status_code == 200
    assert RankingConfig.load().rank_candidates == 500


def test_a_scroll_whose_snapshots_never_last_still_never_repeats_or_skips(network, redis_store):
    """As when Redis cannot keep snapshots: every page re-ranks the rest of the window."""
    call_command("feed_config", "--rank-candidates", "30")
    client, reader = network["client"], network["reader"]
    seen, scored, url = [], [], f"{RANKED}&limit=7&explain=1"
    while url:
        body = client.get(url).json()
        seen += [p["id"] for p in body["results"]]
        scored += [p["id"] for p in body["results"] if p["explain"]["score"] is not None]
        url = body["next"]
        cursor = cursor_decode(parse_qs(urlsplit(url).query)["cursor"][0]) if url else None
        if cursor is not None and cursor.session is not None:
            redis_store.client.delete(snapshot_key(reader.id, cursor.session))
    assert len(seen) == len(set(seen)) == 40
    assert set(seen) == {p.id for p in network["posts"]}
    assert scored == seen[:30]  # the ranked window, each explained by the ranking that placed it


def test_snapshot_store_survives_an_unreachable_redis(settings):
    settings.TIMELINE_REDIS_URL = dead_redis_url()
    session = snapshot_save(viewer_id=1, entry_ids=[3, 2, 1], ttl=60, breakdowns={3: {"total": 1.0}})
    assert session  # a session id anyway: its pages will find no snapshot and re-rank
    assert snapshot_read(viewer_id=1, session=session, start=0, count=3, ttl=60) is None
    assert snapshot_breakdowns(viewer_id=1, session=session, entry_ids=[3]) == {}


def dead_redis_url() -> str:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"


def test_a_ranked_scroll_goes_on_from_postgresql_when_redis_goes_down(network, settings):
    call_command("feed_config", "--rank-candidates", "30")
    client = network["client"]
    first = client.get(f"{RANKED}&limit=8").json()
    seen = [p["id"] for p in first["results"]]
    settings.TIMELINE_REDIS_URL = dead_redis_url()  # timelines, outboxes and snapshots gone

    url = first["next"]
    while url:
        response = client.get(url)
        assert response.status_code == 200
        assert response["X-Feed-Degraded"] == "redis-unavailable"
        seen += [p["id"] for p in response.json()["results"]]
        url = response.json()["next"]

    assert len(seen) == len(set(seen)) == 40  # the rest of the window re-ranked, then the rest
    assert set(seen) == {p.id for p in network["posts"]}
    fresh = client.get(f"{RANKED}&limit=50")
    assert fresh.status_code == 200 and fresh["X-Feed-Degraded"] == "redis-unavailable"
    assert len(fresh.json()["results"]) == 40
