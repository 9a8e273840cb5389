"""Our SSE stream, /api/stream/, against a real uvicorn (docs/api.md#live-feed): auth, delivery
with the feed's visibility, deletions, graph changes, Last-Event-ID resume, and the bounds."""

from __future__ import annotations

import json
import urllib.request

import pytest
import redis

from feedsite.streaming import loading
from graph.services import block_create, follow_create, follow_delete, mute_create
from posts.models import MEDIA_URLS_MAX
from posts.services import post_create, post_delete
from tests.factories import AccountFactory, token_for
from tests.streaming.conftest import (
    READ_TIMEOUT,
    SseClient,
    oauth_token,
    publish,
    publish_delete,
    publish_graph,
    publish_post,
    publisher,
)
from tests.support.procs import suite_env, wait_for
from tests.support.uvicorn import uvicorn
from timelines.keys import author_channel, reader_channel, stream_marker_key, timeline_key

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reader_and_author():
    reader, author = AccountFactory(), AccountFactory()
    follow_create(follower=reader, followee=author)
    return reader, author


def test_health_answers_ok(stream_server):
    with urllib.request.urlopen(stream_server + "/api/v1/streaming/health", timeout=10) as response:
        assert response.status == 200
        assert response.read() == b"OK"


@pytest.mark.parametrize("path", ["/api/stream/", "/api/v1/streaming/user"])
@pytest.mark.parametrize("scheme", ["Token", "Bearer", None])
def test_a_bad_token_is_a_401_before_any_stream_byte(open_stream, path, scheme):
    if scheme is None:
        client = open_stream(path + "?access_token=nope")
    else:
        client = open_stream(path, token="nope", scheme=scheme)
    assert client.status == 401
    assert client.response.getheader("Content-Type") == "application/json"
    assert client.body_json() == {"error": "The access token is invalid"}


def test_no_credentials_is_a_401(open_stream):
    client = open_stream()
    assert client.status == 401


def test_a_token_without_read_scope_is_a_401(open_stream):
    reader = AccountFactory()
    client = open_stream("/api/v1/streaming/user", token=oauth_token(reader, scope="write"), scheme="Bearer")
    assert client.status == 401


def test_a_followed_authors_post_and_its_deletion_arrive(open_stream, reader_and_author):
    reader, author = reader_and_author
    client = open_stream(token=token_for(reader))
    assert client.status == 200
    assert client.response.getheader("Content-Type").startswith("text/event-stream")
    with publisher() as redis_client:
        assert redis_client.exists(stream_marker_key(reader.id))
    post = post_create(author=author, body="hello live")
    assert publish_post(post=post, reader=reader) == 1

    event = client.next_event()
    assert (event.event, event.id) == ("post", str(post.id))
    data = event.json()
    assert data["id"] == post.id and data["body"] == "hello live"
    assert data["author"] == {"id": author.id, "username": author.username}
    assert set(data) >= {"created_at", "like_count", "liked_by_me", "repost_of", "media_urls"}

    post_delete(post=post, actor=author)
    publish_delete(post=post)
    event = client.next_event()
    assert (event.event, event.json(), event.id) == ("delete", {"id": post.id}, str(post.id))


def test_the_access_token_query_parameter_authenticates(open_stream, reader_and_author):
    reader, author = reader_and_author
    client = open_stream(f"/api/stream/?access_token={token_for(reader)}")
    assert client.status == 200
    post = post_create(author=author, body="via query")
    publish_post(post=post, reader=reader)
    assert client.next_event().json()["body"] == "via query"


def test_deletions_of_unfollowed_authors_are_not_sent(open_stream, reader_and_author):
    reader, author = reader_and_author
    stranger_post = post_create(author=AccountFactory(), body="not for you")
    client = open_stream(token=token_for(reader))
    publish_delete(post=stranger_post)
    post = post_create(author=author, body="sentinel")
    publish_post(post=post, reader=reader)
    assert client.next_event().event == "post"  # the stranger's deletion never came first


@pytest.mark.parametrize("change", ["mute", "block", "blocked_by", "unfollow"])
def test_graph_changes_stop_delivery_on_an_open_stream(open_stream, change):
    reader, author, other = AccountFactory(), AccountFactory(), AccountFactory()
    follow_create(follower=reader, followee=author)
    follow_create(follower=reader, followee=other)
    client = open_stream(token=token_for(reader))
    if change == "mute":
        mute_create(muter=reader, muted=author)
    elif change == "block":
        block_create(blocker=reader, blocked=author)
    elif change == "blocked_by":
        block_create(blocker=author, blocked=reader)
    else:
        follow_delete(follower=reader, followee=author)
    publish_graph(reader=reader)
    hidden = post_create(author=author, body="hidden")
    publish_post(post=hidden, reader=reader)
    publish_delete(post=hidden)
    shown = post_create(author=other, body="shown")
    publish_post(post=shown, reader=reader)
    event = client.next_event()
    assert (event.event, event.json()["id"]) == ("post", shown.id)


def test_a_pull_mode_post_reaches_every_live_follower_with_one_publish(open_stream, settings):
    author = AccountFactory(fanout_override="pull")
    readers = [AccountFactory() for _ in range(3)]
    for reader in readers:
        follow_create(follower=reader, followee=author)
    clients = [open_stream(token=token_for(reader)) for reader in readers]
    post = post_create(author=author, body="to everyone")
    assert post.delivery == "pull"
    assert publish_post(post=post) == 1  # one subscription, in this one stream process
    for client in clients:
        assert client.next_event().json()["id"] == post.id


def test_a_follow_subscribes_the_open_stream_to_a_pull_author(open_stream):
    reader, author = AccountFactory(), AccountFactory(fanout_override="pull")
    client = open_stream(token=token_for(reader))
    follow_create(follower=reader, followee=author)
    publish_graph(reader=reader)
    post = post_create(author=author, body="after the follow")
    channel = author_channel(author.id)
    # The graph event is handled before this message is published: wait for the subscription.
    with publisher() as redis_client:
        wait_for(
            lambda: redis_client.pubsub_numsub(channel)[0][1], timeout=READ_TIMEOUT, what="the subscription"
        )
    publish_post(post=post)
    assert client.next_event().json()["id"] == post.id


def test_last_event_id_resumes_with_the_missed_posts_once_each(
    open_stream, reader_and_author, warm_timelines
):
    reader, author = reader_and_author
    warm_timelines([reader.id])
    token = token_for(reader)
    first = open_stream(token=token)
    seen = post_create(author=author, body="seen")
    publish_post(post=seen, reader=reader)
    assert first.next_event().id == str(seen.id)
    first.close()  # a forced disconnect

    missed = [post_create(author=author, body=f"missed {i}") for i in range(3)]
    second = open_stream(token=token, headers={"Last-Event-ID": str(seen.id)})
    assert second.status == 200
    replayed = [second.next_event() for _ in missed]
    assert [event.json()["id"] for event in replayed] == [post.id for post in missed]  # oldest first
    assert [event.id for event in replayed] == [str(post.id) for post in missed]
    # The live copies of replayed posts are not sent twice; the next new post is.
    for post in missed:
        publish_post(post=post, reader=reader)
    new = post_create(author=author, body="new")
    publish_post(post=new, reader=reader)
    assert second.next_event().json()["id"] == new.id


def test_last_event_id_query_parameter_and_a_bad_value(open_stream, reader_and_author):
    reader, author = reader_and_author
    before = post_create(author=author, body="before")
    client = open_stream(f"/api/stream/?last_event_id={before.id - 1}", token=token_for(reader))
    assert client.next_event().json()["id"] == before.id
    bad = open_stream(token=token_for(reader), headers={"Last-Event-ID": "yesterday"})
    assert bad.status == 400
    assert "error" in bad.body_json()


def test_past_the_per_account_limit_is_a_429(open_stream):
    reader = AccountFactory()
    token = token_for(reader)
    assert [open_stream(token=token).status for _ in range(2)] == [200, 200]  # STREAM_MAX_PER_ACCOUNT
    refused = open_stream(token=token)
    assert refused.status == 429
    assert "error" in refused.body_json()
    assert open_stream(token=token_for(AccountFactory())).status == 200  # per account


def test_a_slow_consumer_is_dropped_while_others_keep_receiving(open_stream):
    slow, fast, author = AccountFactory(), AccountFactory(), AccountFactory()
    for reader in (slow, fast):
        follow_create(follower=reader, followee=author)
    media = [f"https://m.example/{'y' * 1900}/{i}" for i in range(MEDIA_URLS_MAX)]
    big = post_create(author=author, body="x" * 2000, media_urls=media)
    lagging = open_stream("/api/v1/streaming/user", token=oauth_token(slow), scheme="Bearer", rcvbuf=4096)
    keeping_up = open_stream(token=token_for(fast))
    message = {"e": "post", "post": big.id, "author": author.id}
    with publisher() as redis_client:
        pipe = redis_client.pipeline(transaction=False)
        for _ in range(2000):  # far more than STREAM_QUEUE_MAX and the sockets' buffers hold
            pipe.publish(reader_channel(slow.id), json.dumps(message))
        pipe.execute()
    # The lagging stream was closed: reading it to the end terminates, with fewer events.
    received = 0
    while lagging.next_event() is not None:
        received += 1
    assert received < 2000
    post = post_create(author=author, body="still flowing")
    publish_post(post=post, reader=fast)
    assert keeping_up.next_event().json()["id"] == post.id


def test_unreadable_messages_are_ignored(open_stream, reader_and_author):
    reader, author = reader_and_author
    client = open_stream(token=token_for(reader))
    publish(reader_channel(reader.id), {"e": "post", "post": "x"})
    with publisher() as redis_client:
        redis_client.publish(reader_channel(reader.id), "not json")
    post = post_create(author=author, body="after garbage")
    publish_post(post=post, reader=reader)
    assert client.next_event().json()["id"] == post.id


def test_delivery_loads_one_post_with_one_query(reader_and_author, django_assert_num_queries):
    reader, author = reader_and_author
    post = post_create(author=author, body="one query")
    with django_assert_num_queries(1):
        assert loading.native_post(reader_id=reader.id, post_id=post.id)["id"] == post.id
    mute_create(muter=reader, muted=author)
    with django_assert_num_queries(1):
        assert loading.native_post(reader_id=reader.id, post_id=post.id) is None


def test_reader_graph_is_the_feeds_authors(reader_and_author):
    reader, author = reader_and_author
    celebrity, blocker = AccountFactory(fanout_override="pull"), AccountFactory()
    for followee in (celebrity, blocker):
        follow_create(follower=reader, followee=followee)
    block_create(blocker=blocker, blocked=reader)
    graph = loading.reader_graph(reader_id=reader.id)
    assert graph.authors == {reader.id, author.id, celebrity.id}
    assert graph.pull_authors == {celebrity.id}


def test_heartbeat_comments_keep_an_idle_stream_open(django_db_setup):
    reader = AccountFactory()
    with uvicorn(suite_env(STREAM_HEARTBEAT_SECONDS="1")) as base:
        client = SseClient(base, "/api/stream/", headers={"Authorization": f"Token {token_for(reader)}"})
        assert client.status == 200
        assert client.response.readline() == b": heartbeat\n"
        assert client.response.readline() == b"\n"
        client.close()


def test_on_a_redis_cluster_markers_live_in_the_timelines_slots(redis_cluster):
    """Timelines on a cluster: the marker is set where the fan-out looks for it (the reader's
    timeline slot), and a PUBLISH on any node reaches the stream."""
    reader, author = AccountFactory(), AccountFactory()
    follow_create(follower=reader, followee=author)
    nodes = ",".join(redis_cluster.nodes)
    with uvicorn(suite_env(TEST_TIMELINE_REDIS_CLUSTER_NODES=nodes)) as base:
        client = SseClient(base, "/api/stream/", headers={"Authorization": f"Token {token_for(reader)}"})
        assert client.status == 200
        host, _, port = redis_cluster.nodes[0].rpartition(":")
        with redis.RedisCluster(host=host, port=int(port)) as cluster:
            assert cluster.exists(stream_marker_key(reader.id))
            assert cluster.keyslot(stream_marker_key(reader.id)) == cluster.keyslot(timeline_key(reader.id))
        post = post_create(author=author, body="across the cluster")
        message = json.dumps({"e": "post", "post": post.id, "author": author.id})
        # Not the node the hub subscribed on (the first).
        redis_cluster.client(redis_cluster.ports[-1]).publish(reader_channel(reader.id), message)
        assert client.next_event().json()["id"] == post.id
        client.close()
