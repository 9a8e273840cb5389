from __future__ import annotations

from rest_framework.test import APIClient

from timelines.store import TimelineStore, outbox_key, timeline_key


def timeline_raw(store: TimelineStore, user_id: int) -> list[int]:
    """A timeline's raw Redis content, markers included."""
    return [int(x) for x in store.client.lrange(timeline_key(user_id), 0, -1)]


def outbox_raw(store: TimelineStore, author_id: int) -> list[int]:
    return [int(x) for x in store.client.lrange(outbox_key(author_id), 0, -1)]


def feed_ids(client: APIClient, limit: int = 100) -> list[int]:
    """Every post id of the client's feed, walking all pages."""
    ids, url = [], f"/api/feed/?limit={limit}"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        ids += [post["id"] for post in response.json()["results"]]
        url = response.json()["next"]
    return ids


def assert_error(response, status: int, field: str | None = None) -> str:
    """The response is a JSON error with the status and a non-empty ``detail`` message; for a
    validation error the field is named in ``errors``. Returns the message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert field in body["errors"], body
    return body["detail"]


# Every post object the API returns has exactly these keys.
POST_KEYS = {
    "id",
    "author",
    "body",
    "media_urls",
    "created_at",
    "like_count",
    "comment_count",
    "share_count",
    "liked_by_me",
    "repost_of",
}
