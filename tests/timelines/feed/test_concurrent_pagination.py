"""Walking feed pages while another thread keeps posting (real commits, real Redis)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from graph.services import follow_create
from posts.models import Post
from posts.services import post_create
from tests.factories import AccountFactory
from tests.helpers import feed_ids_while

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.also_cluster]


def test_pages_never_repeat_or_skip_while_a_writer_posts(client_for):
    reader, friend, celebrity = AccountFactory.create_batch(3)
    call_command("feed_config", account=celebrity.id, mode="pull")
    celebrity.refresh_from_db()
    follow_create(follower=reader, followee=friend)
    follow_create(follower=reader, followee=celebrity)
    client = client_for(reader)
    client.get("/api/feed/")  # build the timeline so pushes land in it
    for i in range(40):
        post_create(author=friend if i % 3 else celebrity, body=f"before {i}")

    written = []

    def write() -> bool:
        author = friend if len(written) % 2 else celebrity
        written.append(post_create(author=author, body="during").id)
        return len(written) < 500

    seen = feed_ids_while(client, "/api/feed/?limit=7", write)

    assert written, "the writer never got to post during the walk"
    assert seen == sorted(set(seen), reverse=True)  # newest first, no repeats
    # The walk shows exactly the posts that existed when it started: nothing older is skipped.
    # (One writer: a post is committed and fanned out before the next is created.)
    assert set(seen) == set(Post.objects.filter(id__lte=seen[0]).values_list("id", flat=True))
    assert len(seen) >= 40
