"""Mastodon entities (Account, Status, Relationship, Marker) as plain dicts, built from values
loaded in bulk (selectors.py): no per-object ORM or serializer work on a page
(docs/mastodon.md#entities has the mapping from our fields).

Ids are strings; dates ISO 8601 in UTC with milliseconds; ``content`` is HTML (escaped body,
paragraphs in ``<p>``, line breaks ``<br>``); what we do not model has Mastodon's defaults.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from posts.models import Comment
from timelines.public import FeedPost

COMMENT_PREFIX = "c"  # a comment's Status id is "c<comment id>"; a post's is its id
_PARAGRAPHS = re.compile(r"\n\s*\n")
_MEDIA_TYPES = {
    "image": ("jpg", "jpeg", "png", "gif", "webp", "avif"),
    "video": ("mp4", "webm", "mov", "m4v"),
    "audio": ("mp3", "ogg", "oga", "wav", "flac", "m4a", "opus"),
}
_TYPE_BY_EXTENSION = {ext: kind for kind, exts in _MEDIA_TYPES.items() for ext in exts}


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    username: str
    created_at: datetime
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: datetime | None


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def content_html(text: str) -> str:
    paragraphs = [p.strip("\n") for p in _PARAGRAPHS.split(text.replace("\r\n", "\n").strip())]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs if p)


def account_entity(row: AccountRow, *, base: str) -> dict:
    created = row.created_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    url = f"{base}/@{row.username}"
    return {
        "id": str(row.id),
        "username": row.username,
        "acct": row.username,
        "display_name": row.username,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": False,
        "group": False,
        "created_at": iso(created),
        "note": "",
        "url": url,
        "uri": f"{base}/users/{row.username}",
        "avatar": f"{base}/avatars/original/missing.png",
        "avatar_static": f"{base}/avatars/original/missing.png",
        "header": f"{base}/headers/original/missing.png",
        "header_static": f"{base}/headers/original/missing.png",
        "followers_count": row.followers_count,
        "following_count": row.following_count,
        "statuses_count": row.statuses_count,
        "last_status_at": None if row.last_status_at is None else row.last_status_at.date().isoformat(),
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [],
    }


def credential_account_entity(row: AccountRow, *, base: str) -> dict:
    """verify_credentials: the Account plus ``source`` (what the user's settings hold)."""
    entity = account_entity(row, base=base)
    entity["source"] = {
        "privacy": "public",
        "sensitive": False,
        "language": None,
        "note": "",
        "fields": [],
        "follow_requests_count": 0,
    }
    return entity


def media_attachment(url: str, *, post_id: int, index: int) -> dict:
    extension = url.rsplit("?", 1)[0].rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return {
        "id": f"{post_id}{index:02d}",
        "type": _TYPE_BY_EXTENSION.get(extension, "unknown"),
        "url": url,
        "preview_url": url,
        "remote_url": url,
        "meta": {},
        "description": None,
        "blurhash": None,
    }


def _status(
    *, status_id: str, account: dict, created_at: datetime, text: str, username: str, base: str
) -> dict:
    return {
        "id": status_id,
        "uri": f"{base}/users/{username}/statuses/{status_id}",
        "url": f"{base}/@{username}/{status_id}",
        "created_at": iso(created_at),
        "account": account,
        "content": content_html(text),
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [],
        "application": None,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "poll": None,
        "card": None,
        "language": None,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "filtered": [],
    }


def status_entity(post: FeedPost, *, accounts: Mapping[int, dict], reblogged: set[int], base: str) -> dict:
    """A post as a Status; a share as the wrapper Status whose ``reblog`` is the original.
    ``accounts`` maps author ids to Account entities; ``reblogged`` holds the originals the
    viewer has shared."""
    if post.repost_of is not None:
        entity = _status(
            status_id=str(post.id),
            account=accounts[post.author_id],
            created_at=post.created_at,
            text="",
            username=post.author_username,
            base=base,
        )
        entity["reblog"] = status_entity(post.repost_of, accounts=accounts, reblogged=reblogged, base=base)
        entity["reblogged"] = entity["reblog"]["reblogged"]
        entity["favourited"] = entity["reblog"]["favourited"]
        return entity
    entity = _status(
        status_id=str(post.id),
        account=accounts[post.author_id],
        created_at=post.created_at,
        text=post.body,
        username=post.author_username,
        base=base,
    )
    entity["media_attachments"] = [
        media_attachment(url, post_id=post.id, index=i) for i, url in enumerate(post.media_urls)
    ]
    entity["favourites_count"] = post.like_count
    entity["reblogs_count"] = post.share_count
    entity["replies_count"] = post.comment_count
    entity["favourited"] = post.liked_by_me
    entity["reblogged"] = post.id in reblogged
    return entity


def comment_entity(comment: Comment, *, post_author_id: int, accounts: Mapping[int, dict], base: str) -> dict:
    """A comment as the reply Status it is in Mastodon: ``in_reply_to_id`` is its post."""
    entity = _status(
        status_id=f"{COMMENT_PREFIX}{comment.id}",
        account=accounts[comment.author_id],
        created_at=comment.created_at,
        text=comment.body,
        username=accounts[comment.author_id]["username"],
        base=base,
    )
    entity["in_reply_to_id"] = str(comment.post_id)
    entity["in_reply_to_account_id"] = str(post_author_id)
    return entity


def mention_entity(*, account_id: int, username: str, base: str) -> dict:
    return {"id": str(account_id), "username": username, "acct": username, "url": f"{base}/@{username}"}


def relationship_entity(
    account_id: int, *, following: bool, followed_by: bool, blocking: bool, blocked_by: bool, muting: bool
) -> dict:
    return {
        "id": str(account_id),
        "following": following,
        "showing_reblogs": following,
        "notifying": False,
        "languages": None,
        "followed_by": followed_by,
        "blocking": blocking,
        "blocked_by": blocked_by,
        "muting": muting,
        "muting_notifications": muting,
        "requested": False,
        "requested_by": False,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def marker_entity(*, last_read_id: str, version: int, updated_at: datetime) -> dict:
    return {"last_read_id": last_read_id, "version": version, "updated_at": iso(updated_at)}
