"""Counts stay exact under real concurrency: parallel threads, each with its own PostgreSQL
connection, hit the API at once (transaction=True: every request really commits)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from posts.models import Comment, Like, Post
from tests.factories import AccountFactory, PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(calls: list[Callable[[], int]]) -> list[int]:
    """Run the calls in parallel threads released together; their results (status codes)."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = [0] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            results[index] = calls[index]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_parallel_likes_unlikes_comments_and_shares_keep_counts_exact(client_for):
    # 24 threads: the PostgreSQL server is shared, so stay well below its connection limit.
    post = PostFactory()
    fans = AccountFactory.create_batch(14)
    clients = [client_for(fan) for fan in fans]
    url = f"/api/posts/{post.id}"
    for client in clients[:4]:
        client.post(f"{url}/like/")  # these four unlike during the race

    def call(client, method: str, path: str) -> Callable[[], int]:
        return lambda: getattr(client, method)(f"{url}/{path}/", {"body": "hi"}).status_code

    unlikes = [call(c, "delete", "like") for c in clients[:4]]
    likes = [call(c, "post", "like") for c in clients[4:]] + [call(clients[4], "post", "like")]
    comments = [call(c, "post", "comments") for c in clients[:4]]
    shares = [call(c, "post", "share") for c in clients[10:]] + [call(clients[10], "post", "share")]
    codes = run_at_once(unlikes + likes + comments + shares)

    assert codes[:4] == [204] * 4
    assert sorted(codes[4:15]) == [200] + [201] * 10  # the double like is counted once
    assert codes[15:19] == [201] * 4
    assert sorted(codes[19:]) == [200] + [201] * 4  # sharing twice: one share
    post.refresh_from_db()
    assert post.like_count == Like.objects.filter(post=post).count() == 10
    assert post.comment_count == Comment.objects.filter(post=post).count() == 4
    assert post.share_count == Post.objects.filter(repost_of=post, deleted_at__isnull=True).count() == 4
