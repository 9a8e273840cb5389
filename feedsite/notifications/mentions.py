"""``@username`` mentions of local accounts, parsed once when a post or comment is created and
kept as Mention rows (docs/architecture.md#notifications). Usernames match case-insensitively,
like sign-in; an unknown name is plain text."""

from __future__ import annotations

import re

from django.db.models.functions import Lower

from feedsite.notifications.models import Mention
from graph.models import Account

# Django's username characters; a mention starts after a non-word character (not in an e-mail).
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]{1,150})")
MENTIONS_MAX = 20


def mention_names(text: str) -> list[str]:
    """The lower-cased names mentioned in ``text``, first occurrence order, at most MENTIONS_MAX."""
    if "@" not in text:
        return []
    names: list[str] = []
    for match in _MENTION.finditer(text):
        name = match.group(1).split("@", 1)[0].rstrip(".").lower()
        if name and name not in names:
            names.append(name)
    return names[:MENTIONS_MAX]


def mentions_store(*, post_id: int, comment_id: int | None, author_id: int, text: str) -> list[int]:
    """Store the mentions in ``text`` (a post's body, or a comment's with ``comment_id``);
    returns the mentioned account ids (the author never mentions themself)."""
    names = mention_names(text)
    if not names:
        return []
    ids = list(
        Account.objects.annotate(name=Lower("username"))
        .filter(name__in=names)
        .exclude(pk=author_id)
        .values_list("pk", flat=True)
    )
    Mention.objects.bulk_create(
        [Mention(post_id=post_id, comment_id=comment_id, account_id=pk) for pk in ids], ignore_conflicts=True
    )
    return ids
