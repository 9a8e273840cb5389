"""Mastodon.py 2.3.3's ``stream_user``, unmodified, against the stream server it finds in the
instance document (a real gunicorn advertising the real uvicorn): a followed author's post
arrives as a Status (``update``) and its deletion as ``delete``."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest
from mastodon import Mastodon, StreamListener

from graph.services import follow_create
from posts.services import post_create, post_delete
from tests.factories import AccountFactory
from tests.streaming.conftest import READ_TIMEOUT, oauth_token, publish_delete, publish_post, publisher
from tests.support.http import gunicorn
from tests.support.procs import suite_env, wait_for
from timelines.keys import reader_channel

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def api_server(stream_server) -> Iterator[str]:
    """gunicorn whose instance document's urls.streaming_api points at the stream server."""
    env = suite_env(FEED_THROTTLES="off", STREAMING_API_URL=stream_server.replace("http://", "ws://"))
    env["CELERY_TASK_ALWAYS_EAGER"] = "1"
    with gunicorn(env) as base:
        yield base


class Collect(StreamListener):
    def __init__(self) -> None:
        self.events: queue.Queue = queue.Queue()

    def on_update(self, status) -> None:
        self.events.put(("update", status))

    def on_delete(self, status_id) -> None:
        self.events.put(("delete", status_id))

    def next(self):
        return self.events.get(timeout=READ_TIMEOUT)


def test_stream_user_receives_a_followed_authors_post_and_its_deletion(api_server):
    reader, author = AccountFactory(), AccountFactory()
    follow_create(follower=reader, followee=author)
    client = Mastodon(access_token=oauth_token(reader), api_base_url=api_server)
    listener = Collect()
    handle = client.stream_user(listener, run_async=True)
    try:
        with publisher() as redis_client:
            channel = reader_channel(reader.id)
            wait_for(
                lambda: redis_client.pubsub_numsub(channel)[0][1], timeout=READ_TIMEOUT, what="the stream"
            )
        post = post_create(author=author, body="hello <Mastodon>")
        publish_post(post=post, reader=reader)
        kind, status = listener.next()
        assert kind == "update"
        assert str(status.id) == str(post.id)
        assert status.account.acct == author.username
        assert "hello &lt;Mastodon&gt;" in status.content

        post_delete(post=post, actor=author)
        publish_delete(post=post)
        assert listener.next() == ("delete", str(post.id))  # Mastodon ids are strings
    finally:
        handle.close()
