"""Posts enter fan-out here, once the transaction that created the post commits
(docs/architecture.md#fan-out), and a pull-mode post is published on its author's stream
channel then (docs/architecture.md#publishing); task messages are stamped with their send time so the fan-out
lag can be measured."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.signals import before_task_publish, task_prerun
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from feedsite.metrics import FANOUT_TASK_WAIT
from posts.models import Delivery, Post
from timelines.fanout.enqueue import fanout_enqueue
from timelines.monitoring import SENT_AT_HEADER
from timelines.streams import publish_author_post

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Post, dispatch_uid="timelines.enqueue_fanout")
def enqueue_fanout(
    sender: type[Post], instance: Post, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    post_id, delivery, author_id = instance.pk, instance.delivery, instance.author_id
    audience = instance.author.followers_count  # the author is loaded by posts.services

    def enqueue() -> None:
        if delivery == Delivery.PULL:  # pushed posts are published by their fan-out push
            publish_author_post(post_id=post_id, author_id=author_id)
        fanout_enqueue(post_id=post_id, delivery=delivery, audience=audience)

    # on_commit: a worker must never see a post id before the row is visible, and a rolled
    # back post must never be fanned out. robust: the post is already committed; a broker
    # hiccup is logged rather than turned into a 500 for a post that exists.
    transaction.on_commit(enqueue, robust=True)


@before_task_publish.connect(dispatch_uid="timelines.stamp_sent_at")
def stamp_sent_at(headers: dict | None = None, **kwargs: Any) -> None:
    """Stamp every task message with its send time: ``fanout_status`` and /metrics read the
    oldest waiting message's age from the broker, and workers observe how long it waited."""
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


@task_prerun.connect(dispatch_uid="timelines.observe_queue_wait")
def observe_queue_wait(task: Any = None, **kwargs: Any) -> None:
    sent_at = getattr(getattr(task, "request", None), SENT_AT_HEADER, None)
    if sent_at is not None and task.name.startswith("timelines."):
        FANOUT_TASK_WAIT.labels(task=task.name.rsplit(".", 1)[-1]).observe(
            max(0.0, time.time() - float(sent_at))
        )
