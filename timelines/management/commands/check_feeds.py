from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max

from graph.models import Account
from posts.models import Post
from timelines.feed.check import FeedCheckUnavailable, feed_check

SHOWN_IDS = 10


class Command(BaseCommand):
    help = (
        "Check sampled users' feeds, as readers get them, against what PostgreSQL says they "
        "should contain. Reports missing, extra and duplicate posts; exits 1 if any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sample", type=int, default=100, metavar="N", help="Random users to check.")
        parser.add_argument(
            "--user", type=int, action="append", default=[], metavar="ID", help="Also check this user."
        )
        parser.add_argument(
            "--depth", type=int, default=200, metavar="D", help="Newest posts compared per feed."
        )

    def handle(self, *args, **options) -> None:
        sample, depth = options["sample"], options["depth"]
        if sample < 0 or not 1 <= depth <= 10_000:
            raise CommandError("--sample must be >= 0 and --depth from 1 to 10000.")
        ids = list(Account.objects.filter(is_active=True).order_by("?").values_list("id", flat=True)[:sample])
        ids += [user_id for user_id in options["user"] if user_id not in ids]
        accounts = Account.objects.in_bulk(ids)
        if unknown := [user_id for user_id in ids if user_id not in accounts]:
            raise CommandError(f"Unknown user ids: {unknown}")
        # Pin the range: posts created while we check are not differences.
        before_id = (Post.objects.aggregate(top=Max("id"))["top"] or 0) + 1
        bad = missing = extra = duplicates = 0
        for number, user_id in enumerate(ids, start=1):
            try:
                check = feed_check(viewer=accounts[user_id], depth=depth, before_id=before_id)
            except FeedCheckUnavailable as exc:
                raise CommandError(str(exc)) from None
            if not check.ok:
                bad += 1
                missing += len(check.missing)
                extra += len(check.extra)
                duplicates += len(check.duplicates)
                self.stdout.write(
                    f"user {user_id}: missing {check.missing[:SHOWN_IDS]}, extra {check.extra[:SHOWN_IDS]}, "
                    f"duplicates {check.duplicates[:SHOWN_IDS]}"
                )
            if number % 100 == 0 or number == len(ids):
                self.stderr.write(f"checked {number}/{len(ids)} feeds")
        summary = (
            f"{len(ids)} feeds checked (newest {depth} posts each): {bad} with problems; "
            f"{missing} missing, {extra} extra, {duplicates} duplicate posts."
        )
        if bad:
            raise CommandError(summary, returncode=1)
        self.stdout.write(summary)
