from __future__ import annotations

from datetime import timedelta

import kombu.exceptions
import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from posts.models import FanoutState, Post
from timelines.fanout.ledger import ledger_sweep


class Command(BaseCommand):
    help = (
        "Enqueue fan-out again for posts still pending after the grace period (their enqueue "
        "failed or their message was lost), and drop cached timelines that missed an update "
        "while Redis was down. Safe to run any time: fan-out is idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace",
            type=int,
            default=settings.FANOUT_SWEEP_GRACE_SECONDS,
            metavar="SECONDS",
            help="Only posts pending at least this long (default FANOUT_SWEEP_GRACE).",
        )
        parser.add_argument("--limit", type=int, default=10_000, metavar="N", help="At most N posts.")

    def handle(self, *args, **options) -> None:
        if options["grace"] < 0 or options["limit"] < 1:
            raise CommandError("--grace must be >= 0 and --limit >= 1.")
        try:
            dropped, ids = ledger_sweep(
                older_than=timedelta(seconds=options["grace"]), limit=options["limit"]
            )
        except (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError) as exc:
            pending = Post.objects.filter(fanout_state=FanoutState.PENDING).count()
            raise CommandError(f"Broker unavailable ({exc}); {pending} posts still pending.") from None
        self.stdout.write(
            f"Enqueued fan-out for {len(ids)} pending posts; dropped {dropped} stale timelines."
        )
