"""Posts enter fan-out here: once the transaction that created the post commits."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from posts.models import Post

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Post, dispatch_uid="timelines.enqueue_fanout")
def enqueue_fanout(
    sender: type[Post], instance: Post, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    post_id, delivery = instance.pk, instance.delivery
    audience = instance.author.followers_count  # the author is loaded by posts.services

    def enqueue() -> None:
        from timelines.tasks import fanout_post_enqueue

        fanout_post_enqueue(post_id=post_id, delivery=delivery, audience=audience)

    # on_commit: a worker must never see a post id before the row is visible, and a rolled
    # back post must never be fanned out. robust: the post is already committed; a broker
    # hiccup is logged rather than turned into a 500 for a post that exists.
    transaction.on_commit(enqueue, robust=True)
