"""The admin shows posts with their counts, and likes and comments read-only."""

from __future__ import annotations

import pytest

from posts.models import Comment, Like
from posts.services import comment_create, like_create
from tests.factories import AccountFactory, PostFactory

pytestmark = pytest.mark.django_db


def test_admin_lists_engagement_read_only(client):
    client.force_login(AccountFactory(is_staff=True, is_superuser=True))
    post, fan = PostFactory(), AccountFactory(username="fanofit")
    like_create(user=fan, post=post)
    comment = comment_create(author=fan, post=post, body="lovely words")

    assert b"fanofit" in client.get("/admin/posts/like/?q=fanofit").content
    assert b"lovely words" in client.get("/admin/posts/comment/?q=lovely").content
    assert client.get("/admin/posts/post/").status_code == 200
    assert client.get("/admin/posts/comment/add/").status_code == 403
    assert client.post(f"/admin/posts/comment/{comment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Like.objects.count() == Comment.objects.count() == 1
