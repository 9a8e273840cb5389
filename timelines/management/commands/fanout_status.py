from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from timelines.monitoring import fanout_in_flight, fanout_queue_stats, fanout_throughput

WINDOWS = (1, 5, 15)


class Command(BaseCommand):
    help = (
        "What the fan-out is doing: tasks waiting in each broker queue and the age of the oldest "
        "(fan-out lag), tasks in flight, and fan-out throughput over the last 1, 5 and 15 minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead.")

    def handle(self, *args, **options) -> None:
        try:
            queues = fanout_queue_stats()
            in_flight = fanout_in_flight()
            throughput = {minutes: fanout_throughput(minutes=minutes) for minutes in WINDOWS}
        except Exception as exc:  # broker or Redis down: say so plainly
            raise CommandError(f"Cannot read the broker or Redis: {type(exc).__name__}: {exc}") from None
        if options["json"]:
            report = {
                "queues": [
                    {"name": q.name, "pending": q.pending, "oldest_seconds": q.oldest_age} for q in queues
                ],
                "in_flight": in_flight,
                "throughput": {f"{m}m": totals for m, totals in throughput.items()},
            }
            self.stdout.write(json.dumps(report))
            return
        self.stdout.write(f"{'queue':16} {'pending':>8} {'oldest':>10}")
        for queue in queues:
            oldest = "-" if queue.oldest_age is None else f"{queue.oldest_age:.1f}s"
            self.stdout.write(f"{queue.name:16} {queue.pending:>8} {oldest:>10}")
        self.stdout.write(
            f"in flight (delivered, not yet acknowledged): {'-' if in_flight is None else in_flight}"
        )
        self.stdout.write(
            f"\n{'last':6} {'posts':>8} {'chunks':>8} {'recipients':>11} {'writes':>9} {'writes/s':>9}"
        )
        for minutes, totals in throughput.items():
            rate = totals["writes"] / (minutes * 60)
            self.stdout.write(
                f"{f'{minutes} min':6} {totals['posts']:>8} {totals['chunks']:>8} {totals['recipients']:>11} "
                f"{totals['writes']:>9} {rate:>9.1f}"
            )
