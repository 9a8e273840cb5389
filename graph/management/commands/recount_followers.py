from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError
from django.db.models import Max, Min

from feedsite.progress import ProgressBar
from graph.models import Account
from graph.services import account_counts_repair

RETRIES = 3


class Command(BaseCommand):
    help = (
        "Recompute every account's followers_count and following_count from the follow edges "
        "and fix those that are wrong. Safe while the service runs (rows are locked one batch "
        "at a time) and safe to re-run: a second run finds nothing to fix."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            metavar="N",
            help="Accounts per transaction (default 1000).",
        )

    def handle(self, *args, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        bounds = Account.objects.aggregate(first=Min("id"), last=Max("id"))
        if bounds["first"] is None:
            self.stdout.write("No accounts.")
            return
        started = time.monotonic()
        progress = ProgressBar(self.stdout)
        first, last = bounds["first"], bounds["last"]
        fixed: list[int] = []
        for low in range(first, last + 1, batch_size):
            high = min(last, low + batch_size - 1)
            fixed += self._repair(low, high)
            progress("accounts", high - first + 1, last - first + 1)
        shown = ", ".join(map(str, fixed[:20])) + (" ..." if len(fixed) > 20 else "")
        self.stdout.write(
            f"Fixed {len(fixed)} account(s) in {time.monotonic() - started:.1f}s"
            + (f": {shown}" if fixed else ".")
        )

    def _repair(self, low: int, high: int) -> list[int]:
        for attempt in range(1, RETRIES + 1):
            try:
                return account_counts_repair(first_id=low, last_id=high)
            except OperationalError as exc:  # a deadlock with a concurrent follow: try again
                if attempt == RETRIES:
                    raise CommandError(f"accounts {low}-{high}: {exc}") from exc
                time.sleep(0.1 * attempt)
        return []
