from __future__ import annotations

import os
import random

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from rest_framework.authtoken.models import Token

from graph.models import Account, FanoutMode, Follow
from posts.models import Delivery, Post

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-123"
CELEBRITY_USERNAME = "celebrity"


class Command(BaseCommand):
    help = (
        "Load a small demo network once: a 'demo' user following some accounts, one of them a "
        "pull-mode 'celebrity', with posts. Re-running changes nothing. Prints the demo token "
        "and a curl line to read its feed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=40, help="Accounts besides demo (default 40).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--port", default=None, help="Port shown in the curl line (default $PORT or 8000)."
        )

    def handle(self, *args, **options) -> None:
        demo = Account.objects.filter(username=DEMO_USERNAME).first()
        if demo is None:
            demo = self._seed(users=max(options["users"], 5), rng=random.Random(options["seed"]))
        else:
            self.stdout.write("Demo data already loaded; nothing to do.")
        token, _ = Token.objects.get_or_create(user=demo)
        port = options["port"] or os.environ.get("PORT", "8000")
        self.stdout.write(f"Demo user: {DEMO_USERNAME} / {DEMO_PASSWORD}   token: {token.key}")
        self.stdout.write(f"  curl -H 'Authorization: Token {token.key}' http://127.0.0.1:{port}/api/feed/")

    @transaction.atomic
    def _seed(self, *, users: int, rng: random.Random) -> Account:
        # One password hash for everyone: hashing 40 passwords would dominate the run.
        template = Account(username=DEMO_USERNAME)
        template.set_password(DEMO_PASSWORD)
        names = [DEMO_USERNAME, CELEBRITY_USERNAME] + [f"user{i:03d}" for i in range(users - 1)]
        accounts = Account.objects.bulk_create(
            Account(username=name, password=template.password) for name in names
        )
        demo, celebrity, others = accounts[0], accounts[1], accounts[2:]
        celebrity.fanout_override = FanoutMode.PULL
        celebrity.has_pull_posts = True
        celebrity.save(update_fields=["fanout_override", "has_pull_posts"])

        edges = {(demo.id, celebrity.id)}
        edges |= {(demo.id, a.id) for a in rng.sample(others, min(10, len(others)))}
        for account in others:
            edges.add((account.id, celebrity.id))
            for followee in rng.sample(accounts, rng.randint(2, 8)):
                if followee.id != account.id:
                    edges.add((account.id, followee.id))
        Follow.objects.bulk_create(Follow(follower_id=a, followee_id=b) for a, b in sorted(edges))
        followers = Follow.objects.filter(followee=OuterRef("pk")).values("followee").annotate(n=Count("*"))
        following = Follow.objects.filter(follower=OuterRef("pk")).values("follower").annotate(n=Count("*"))
        Account.objects.filter(pk__in=[a.id for a in accounts]).update(
            followers_count=Coalesce(Subquery(followers.values("n")), 0),
            following_count=Coalesce(Subquery(following.values("n")), 0),
        )

        # Bulk-created posts skip the fan-out signal on purpose: timelines are built from
        # PostgreSQL on first read, like any cold timeline.
        posts = []
        for account in accounts:
            for n in range(rng.randint(2, 6)):
                delivery = Delivery.PULL if account is celebrity else Delivery.PUSH
                posts.append(
                    Post(author=account, body=f"{account.username}'s post #{n + 1}", delivery=delivery)
                )
        rng.shuffle(posts)
        Post.objects.bulk_create(posts)
        self.stdout.write(f"Loaded {len(accounts)} accounts, {len(edges)} follows, {len(posts)} posts.")
        return demo
