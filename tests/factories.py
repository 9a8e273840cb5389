"""All test factories. Posts go through posts.services.post_create, like the API, so their
delivery mode and fan-out are real."""

from __future__ import annotations

import factory
from django.db.models import F
from django.utils import timezone
from rest_framework.authtoken.models import Token

from graph.models import Account, Follow
from posts.models import Post
from posts.services import post_create

PASSWORD = "correct-horse-battery"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    author = factory.SubFactory(AccountFactory)
    body = factory.Sequence(lambda n: f"post number {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Post:
        return post_create(
            author=kwargs["author"], body=kwargs["body"], media_urls=kwargs.get("media_urls", ())
        )


def token_for(account: Account) -> str:
    return Token.objects.get_or_create(user=account)[0].key


def bulk_followers(author: Account, count: int, prefix: str = "f", active: bool = True) -> list[Account]:
    """Many followers at once (bulk inserts; counts kept exact), for fan-out tests. ``active``
    followers read their feed just now, as readers whose timelines are kept do."""
    read_at = timezone.now() if active else None
    accounts = Account.objects.bulk_create(
        Account(username=f"{prefix}{author.pk}_{i}", password="!", last_feed_read_at=read_at)
        for i in range(count)
    )
    Follow.objects.bulk_create(Follow(follower=a, followee=author) for a in accounts)
    Account.objects.filter(pk__in=[a.pk for a in accounts]).update(following_count=F("following_count") + 1)
    Account.objects.filter(pk=author.pk).update(followers_count=F("followers_count") + count)
    author.refresh_from_db()
    return accounts
