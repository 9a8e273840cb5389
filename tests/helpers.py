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
