"""Which Celery queue a fan-out goes to (the real two-worker behaviour is in test_worker.py)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from posts.models import Delivery
from tests.factories import AccountFactory, PostFactory, bulk_followers
from timelines.fanout.plan import FANOUT_BULK_QUEUE, FANOUT_QUEUE, fanout_queue
from timelines.fanout.push import fanout_start

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("delivery", "audience", "queue"),
    [
        (Delivery.PUSH, 0, FANOUT_QUEUE),
        (Delivery.PUSH, 9, FANOUT_QUEUE),
        (Delivery.PUSH, 10, FANOUT_BULK_QUEUE),
        (Delivery.PULL, 10**6, FANOUT_QUEUE),  # one outbox write, however big the audience
    ],
)
def test_queue_follows_the_audience_size(settings, delivery, audience, queue):
    settings.FANOUT_BULK_THRESHOLD = 10
    assert fanout_queue(delivery=delivery, audience=audience) == queue


def test_chunks_of_a_big_fanout_go_to_the_bulk_queue(settings):
    settings.FANOUT_BULK_THRESHOLD = 3
    big, small = AccountFactory(), AccountFactory()
    bulk_followers(big, 3)
    bulk_followers(small, 2)
    assert fanout_start(post_id=PostFactory(author=big).id).queue == FANOUT_BULK_QUEUE
    assert fanout_start(post_id=PostFactory(author=small).id).queue == FANOUT_QUEUE
    call_command("feed_config", account=big.id, mode="pull")
    big.refresh_from_db()
    assert fanout_start(post_id=PostFactory(author=big).id) is None  # outbox only
