"""The stream server survives a Redis restart (docs/architecture.md#live-feed): open streams
are closed with a ``retry:`` hint, new ones are refused with a 503 while Redis is down, and
once it is back the server resubscribes and streams deliver again."""

from __future__ import annotations

import pytest

from graph.services import follow_create
from posts.services import post_create
from tests.factories import AccountFactory, token_for
from tests.streaming.conftest import SseClient
from tests.support.procs import suite_env, wait_for
from tests.support.uvicorn import uvicorn
from timelines.keys import reader_channel

pytestmark = [pytest.mark.faults, pytest.mark.server, pytest.mark.django_db(transaction=True)]


def test_streams_close_with_a_retry_hint_and_resume_after_a_redis_restart(stack):
    redis_server = stack.redis()
    reader, author = AccountFactory(), AccountFactory()
    follow_create(follower=reader, followee=author)
    headers = {"Authorization": f"Token {token_for(reader)}"}
    with uvicorn(suite_env(STREAM_REDIS_URL=redis_server.url(), STREAM_RETRY_MS="1500")) as base:
        before = SseClient(base, "/api/stream/", headers=headers)
        assert before.status == 200

        redis_server.stop()
        assert before.next_event() is None  # the server ended the stream…
        assert before.retry == "1500"  # …telling the client when to come back
        refused = SseClient(base, "/api/stream/", headers=headers)
        assert refused.status == 503
        refused.close()

        redis_server.start()

        def reconnects() -> SseClient | None:
            client = SseClient(base, "/api/stream/", headers=headers)
            if client.status == 200:
                return client
            client.close()
            return None

        after = wait_for(reconnects, timeout=30, what="the stream server to resubscribe", interval=0.2)
        post = post_create(author=author, body="after the restart")
        message = f'{{"e": "post", "post": {post.id}, "author": {author.id}}}'
        assert redis_server.client().publish(reader_channel(reader.id), message) == 1
        assert after.next_event().json()["id"] == post.id
        after.close()
