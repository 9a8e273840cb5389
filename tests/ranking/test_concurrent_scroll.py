"""A ranked scroll while another thread keeps liking and posting, with real commits."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from graph.services import follow_create
from posts.models import Post
from posts.services import like_create, post_create
from tests.factories import AccountFactory
from tests.helpers import feed_ids_while

pytestmark = pytest.mark.django_db(transaction=True)


def test_ranked_scroll_never_repeats_or_skips_under_concurrent_likes_and_posts(client_for):
    reader, *authors = AccountFactory.create_batch(4)
    fans = AccountFactory.create_batch(5)
    call_command("feed_config", "--rank-candidates", "25")
    for author in authors:
        follow_create(follower=reader, followee=author)
    client = client_for(reader)
    client.get("/api/feed/")  # build the timeline so pushes land in it
    initial = [post_create(author=authors[i % 3], body=f"before {i}").id for i in range(45)]

    written, liked = [], []
    rng = random.Random(3)

    def write() -> bool:
        fan, post_id = rng.choice(fans), rng.choice(initial)
        if (fan.id, post_id) not in liked:
            liked.append((fan.id, post_id))
            like_create(user=fan, post=Post.objects.get(pk=post_id))
        written.append(post_create(author=rng.choice(authors), body="during").id)
        return len(written) < 300

    seen = feed_ids_while(client, "/api/feed/?mode=ranked&limit=4", write)

    assert written and liked, "the writer never ran during the walk"
    assert len(seen) == len(set(seen))  # no repeats
    assert set(initial) <= set(seen)  # no skips of what existed when the scroll began
    assert set(seen) <= set(initial) | set(written)
