from __future__ import annotations

import os
import random
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import F
from rest_framework.authtoken.models import Token

from feedsite.progress import ProgressBar
from graph.models import Account, Follow
from graph.synthetic import network_generate, network_summary
from posts.synthetic import posts_generate

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"
DEMO_FOLLOWS = 20


class Command(BaseCommand):
    help = (
        "Load a demo network once: N accounts with power-law follower counts (most have a few "
        "followers, a few very many; the most followed is in pull mode), posts, likes and "
        "comments, and a 'demo' "
        "user who follows the most followed account and others. Bulk inserts: 100,000 users "
        "take minutes. Re-running changes nothing. Prints the demo token and a curl line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=1000, help="Accounts besides demo (default 1000).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--avg-follows", type=float, default=30, help="Mean accounts each user follows (default 30)."
        )
        parser.add_argument(
            "--max-follows", type=int, default=5000, help="Most accounts one user follows (default 5000)."
        )
        parser.add_argument(
            "--posts-per-user", type=float, default=5, help="Mean posts per account (default 5)."
        )
        parser.add_argument(
            "--likes-per-post", type=float, default=3, help="Mean likes per post (default 3)."
        )
        parser.add_argument(
            "--comments-per-post", type=float, default=0.5, help="Mean comments per post (default 0.5)."
        )
        parser.add_argument(
            "--port", default=None, help="Port shown in the curl line (default $PORT or 8000)."
        )

    def handle(self, *args, **options) -> None:
        demo = Account.objects.filter(username=DEMO_USERNAME).first()
        if demo is None:
            if options["users"] < 10:
                raise CommandError("--users must be at least 10.")
            if options["avg_follows"] <= 0 or options["max_follows"] < 1:
                raise CommandError("--avg-follows and --max-follows must be positive.")
            if min(options["posts_per_user"], options["likes_per_post"], options["comments_per_post"]) < 0:
                raise CommandError("--posts-per-user, --likes-per-post and --comments-per-post must be >= 0.")
            demo = self._seed(**options)
        else:
            self.stdout.write("Demo data already loaded; nothing to do.")
        token, _ = Token.objects.get_or_create(user=demo)
        port = options["port"] or os.environ.get("PORT", "8000")
        self.stdout.write(f"Demo user: {DEMO_USERNAME} / {DEMO_PASSWORD}   token: {token.key}")
        self.stdout.write(f"  curl -H 'Authorization: Token {token.key}' http://127.0.0.1:{port}/api/feed/")

    @transaction.atomic
    def _seed(
        self,
        *,
        users: int,
        seed: int,
        avg_follows: float,
        max_follows: int,
        posts_per_user: float,
        likes_per_post: float,
        comments_per_post: float,
        **_,
    ) -> Account:
        started = time.monotonic()
        progress = ProgressBar(self.stdout)
        network = network_generate(
            users=users,
            seed=seed,
            avg_follows=avg_follows,
            max_follows=max_follows,
            force_pull_top=1,
            password=DEMO_PASSWORD,
            progress=progress,
        )
        self.stdout.write(f"Network in {network.seconds:.1f}s: {network_summary(network)}")

        demo = Account.objects.create_user(username=DEMO_USERNAME, password=DEMO_PASSWORD)
        rng = random.Random(seed)
        top = [account_id for account_id, _ in network.most_followed(DEMO_FOLLOWS)]
        followees = set(top[: DEMO_FOLLOWS // 2]) | set(rng.sample(network.account_ids, DEMO_FOLLOWS // 2))
        Follow.objects.bulk_create(Follow(follower=demo, followee_id=f) for f in sorted(followees))
        Account.objects.filter(id__in=followees).update(followers_count=F("followers_count") + 1)
        Account.objects.filter(id=demo.id).update(following_count=len(followees))

        posts_started = time.monotonic()
        posts = posts_generate(
            author_ids=[*network.account_ids, demo.id],
            seed=seed,
            posts_per_user=posts_per_user,
            likes_per_post=likes_per_post,
            comments_per_post=comments_per_post,
            progress=progress,
        )
        self.stdout.write(
            f"{len(posts.ids):,} posts, {posts.likes:,} likes and {posts.comments:,} comments in "
            f"{time.monotonic() - posts_started:.1f}s."
        )
        self.stdout.write(
            f"Loaded {users + 1:,} accounts, {network.follows + len(followees):,} follows, "
            f"{len(posts.ids):,} posts, {posts.likes:,} likes, {posts.comments:,} comments "
            f"in {time.monotonic() - started:.1f}s."
        )
        return demo
