from __future__ import annotations

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from feedsite.progress import ProgressBar
from graph.models import Account
from timelines.feed.rebuild import outbox_rebuild, timeline_repair
from timelines.models import FeedConfig

BATCH = 2000


class Command(BaseCommand):
    help = (
        "Rebuild home timelines (and pull-mode outboxes) in Redis from PostgreSQL, replacing "
        "what Redis holds. Use it to repair a cache or to warm one. Safe while the service "
        "runs (fan-out during a rebuild is kept) and safe to re-run. The timelines of readers "
        "who have not read their feed for inactive_days are dropped instead of rebuilt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", type=int, action="append", metavar="ID", help="This account's timeline (repeatable)."
        )
        parser.add_argument("--all", action="store_true", help="Every account's timeline, and every outbox.")
        parser.add_argument(
            "--active-days",
            type=int,
            metavar="N",
            help="Timelines of accounts that read their feed in the last N days, and every outbox.",
        )

    def handle(self, *args, user: list[int] | None, all: bool, active_days: int | None, **options) -> None:
        if sum([bool(user), all, active_days is not None]) != 1:
            raise CommandError("Choose exactly one of --user ID, --all or --active-days N.")
        if active_days is not None and active_days < 1:
            raise CommandError("--active-days must be at least 1.")
        accounts = Account.objects.order_by("id")
        if user:
            found = set(accounts.filter(id__in=user).values_list("id", flat=True))
            if missing := sorted(set(user) - found):
                raise CommandError(f"No account with id {', '.join(map(str, missing))}.")
            accounts = accounts.filter(id__in=user)
        elif active_days is not None:
            accounts = accounts.filter(last_feed_read_at__gte=timezone.now() - timedelta(days=active_days))
        authors = (
            accounts.filter(has_pull_posts=True) if user else Account.objects.filter(has_pull_posts=True)
        )

        config = FeedConfig.load()
        started = time.monotonic()
        progress = ProgressBar(self.stdout)
        # A reader inactive for inactive_days has no cached timeline (timelines.feed.policy.
        # timeline_ttl_ms): theirs is dropped, not rebuilt, and their next read rebuilds it.
        timelines = self._each(
            accounts,
            "timelines",
            progress,
            lambda i, last_read: timeline_repair(user_id=i, last_read=last_read, config=config),
        )
        outboxes = self._each(
            authors.order_by("id"),
            "outboxes",
            progress,
            lambda i, _last_read: outbox_rebuild(author_id=i, force=True, config=config) is not None,
        )
        dropped = (
            f"; dropped the timelines of {timelines[1]} reader(s) inactive for {config.inactive_days}+ days"
            if timelines[1]
            else ""
        )
        self.stdout.write(
            f"Rebuilt {timelines[0]} timeline(s) and {outboxes[0]} outbox(es) in "
            f"{time.monotonic() - started:.1f}s{dropped}."
        )

    @staticmethod
    def _each(queryset, stage: str, progress: ProgressBar, rebuild) -> tuple[int, int]:
        """Call ``rebuild(id, last_read)`` for each account; returns (kept, dropped)."""
        total = queryset.count()
        progress(stage, 0, total)
        done = kept = 0
        for account_id, last_read in queryset.values_list("id", "last_feed_read_at").iterator(
            chunk_size=BATCH
        ):
            kept += bool(rebuild(account_id, last_read))
            done += 1
            if done % 100 == 0 or done == total:
                progress(stage, done, total)
        return kept, done - kept
