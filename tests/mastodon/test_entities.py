"""Entities: Mastodon's field names and types, string ids, HTML content, UTC dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from feedsite.mastodon.entities import content_html, iso, media_attachment

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ACCOUNT_KEYS = {
    "id", "username", "acct", "display_name", "locked", "bot", "discoverable", "indexable", "group",
    "created_at", "note", "url", "uri", "avatar", "avatar_static", "header", "header_static",
    "followers_count", "following_count", "statuses_count", "last_status_at", "hide_collections",
    "noindex", "emojis", "roles", "fields",
}  # fmt: skip
STATUS_KEYS = {
    "id", "uri", "url", "created_at", "account", "content", "visibility", "sensitive", "spoiler_text",
    "media_attachments", "application", "mentions", "tags", "emojis", "reblogs_count",
    "favourites_count", "replies_count", "in_reply_to_id", "in_reply_to_account_id", "reblog", "poll",
    "card", "language", "edited_at", "favourited", "reblogged", "muted", "bookmarked", "pinned",
    "filtered",
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "<p>hello</p>"),
        ("a <b> & 'c'", "<p>a &lt;b&gt; &amp; &#x27;c&#x27;</p>"),
        ("one\ntwo\n\nthree", "<p>one<br>two</p><p>three</p>"),
        ("\n\nx\r\n\r\n\r\ny\n", "<p>x</p><p>y</p>"),
        ("", ""),
    ],
)
def test_content_is_escaped_html_paragraphs(text, expected):
    assert content_html(text) == expected


def test_dates_are_utc_with_milliseconds():
    value = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=timezone(timedelta(hours=2)))
    assert iso(value) == "2026-03-04T03:06:07.891Z"
    assert ISO.match(iso(datetime.now(UTC)))


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://x.test/a.JPG", "image"),
        ("https://x.test/a.mp4?x=1", "video"),
        ("https://x.test/a.ogg", "audio"),
        ("https://x.test/page", "unknown"),
    ],
)
def test_media_attachment_type_by_extension(url, kind):
    attachment = media_attachment(url, post_id=7, index=1)
    assert attachment["type"] == kind and attachment["url"] == url and isinstance(attachment["id"], str)


def test_status_and_account_entities_have_mastodons_fields(pair, client_for):
    reader, author, posts = pair
    response = client_for(reader).get(f"/api/v1/statuses/{posts[0].id}")
    assert response.status_code == 200, response.content
    status = response.json()
    assert set(status) == STATUS_KEYS
    assert set(status["account"]) == ACCOUNT_KEYS
    assert status["id"] == str(posts[0].id)
    assert status["account"]["id"] == str(author.id)
    assert status["account"]["acct"] == author.username
    assert status["account"]["statuses_count"] == 3
    assert status["content"] == f"<p>{posts[0].body}</p>"
    assert ISO.match(status["created_at"]) and ISO.match(status["account"]["created_at"])
    assert status["url"].startswith("http://testserver/@")
    assert (status["favourites_count"], status["reblogs_count"], status["replies_count"]) == (0, 0, 0)
    assert status["favourited"] is False and status["reblog"] is None
