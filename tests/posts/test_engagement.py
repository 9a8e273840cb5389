"""Likes and comments: status codes, exact counts, liked_by_me, refusals for deleted and blocked
posts, and comments hidden across blocks, against the real PostgreSQL and Redis."""

from __future__ import annotations

import pytest

from graph.services import block_create, follow_create, mute_create
from posts.models import Comment, Like, Post
from posts.services import post_delete
from tests.factories import AccountFactory, PostFactory
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


def like_url(post_id: int) -> str:
    return f"/api/posts/{post_id}/like/"


def comments_url(post_id: int) -> str:
    return f"/api/posts/{post_id}/comments/"


def counts(post: Post) -> tuple[int, int, int]:
    post.refresh_from_db()
    return post.like_count, post.comment_count, post.share_count


# -- likes -----------------------------------------------------------------------------------


def test_like_is_201_then_200_and_counted_once(client_for):
    post, fan = PostFactory(), AccountFactory()
    client = client_for(fan)

    first = client.post(like_url(post.id))
    again = client.post(like_url(post.id))

    assert first.status_code == 201
    assert first.json()["id"] == post.id
    assert first.json()["like_count"] == 1
    assert first.json()["liked_by_me"] is True
    assert again.status_code == 200
    assert again.json()["like_count"] == 1
    assert Like.objects.filter(post=post).count() == 1
    assert counts(post) == (1, 0, 0)


def test_unlike_is_204_and_uncounts_once(client_for):
    post, fan = PostFactory(), AccountFactory()
    client = client_for(fan)
    client.post(like_url(post.id))

    assert client.delete(like_url(post.id)).status_code == 204
    assert client.delete(like_url(post.id)).status_code == 204  # nothing to undo: still 204
    assert counts(post) == (0, 0, 0)
    assert not Like.objects.exists()


def test_like_count_and_liked_by_me_in_post_detail(client_for, api):
    post = PostFactory()
    fans = AccountFactory.create_batch(3)
    for fan in fans:
        client_for(fan).post(like_url(post.id))

    mine = client_for(fans[0]).get(f"/api/posts/{post.id}/").json()
    theirs = client_for(AccountFactory()).get(f"/api/posts/{post.id}/").json()
    anonymous = api.get(f"/api/posts/{post.id}/").json()

    assert (mine["like_count"], mine["liked_by_me"]) == (3, True)
    assert (theirs["like_count"], theirs["liked_by_me"]) == (3, False)
    assert (anonymous["like_count"], anonymous["liked_by_me"]) == (3, False)


def test_like_requires_authentication(api):
    post = PostFactory()
    assert_error(api.post(like_url(post.id)), 401)
    assert_error(api.post(comments_url(post.id), {"body": "hi"}), 401)
    assert_error(api.post(f"/api/posts/{post.id}/share/"), 401)


@pytest.mark.parametrize("path", ["like", "comments", "share"])
def test_engaging_with_unknown_post_is_404(client_for, path):
    client = client_for(AccountFactory())
    assert_error(client.post(f"/api/posts/999999/{path}/", {"body": "x"}), 404)
    assert_error(client.post(f"/api/posts/abc/{path}/", {"body": "x"}), 404)


@pytest.mark.parametrize("path", ["like", "comments", "share"])
def test_engaging_with_deleted_post_is_404_with_a_message(client_for, path):
    post, fan = PostFactory(), AccountFactory()
    post_delete(post=post, actor=post.author)

    message = assert_error(client_for(fan).post(f"/api/posts/{post.id}/{path}/", {"body": "x"}), 404)

    assert message == "This post has been deleted."
    assert counts(post) == (0, 0, 0)
    assert not Like.objects.exists() and not Comment.objects.exists()
    assert Post.objects.count() == 1


@pytest.mark.parametrize(("path", "verb"), [("like", "like"), ("comments", "comment on"), ("share", "share")])
def test_engaging_with_post_of_account_that_blocked_you_is_403(client_for, path, verb):
    post, fan = PostFactory(), AccountFactory()
    block_create(blocker=post.author, blocked=fan)

    response = client_for(fan).post(f"/api/posts/{post.id}/{path}/", {"body": "x"})

    assert assert_error(response, 403) == f"You cannot {verb} posts of an account that has blocked you."
    assert counts(post) == (0, 0, 0)
    assert Post.objects.count() == 1


@pytest.mark.parametrize("path", ["like", "comments", "share"])
def test_engaging_with_post_of_account_you_blocked_is_400(client_for, path):
    post, fan = PostFactory(), AccountFactory()
    block_create(blocker=fan, blocked=post.author)

    message = assert_error(client_for(fan).post(f"/api/posts/{post.id}/{path}/", {"body": "x"}), 400)

    assert message.startswith("Unblock this account before you")
    assert counts(post) == (0, 0, 0)


def test_liking_a_share_likes_the_original(client_for):
    original, sharer, fan = PostFactory(), AccountFactory(), AccountFactory()
    share = client_for(sharer).post(f"/api/posts/{original.id}/share/").json()

    response = client_for(fan).post(like_url(share["id"]))

    assert response.status_code == 201
    assert response.json()["id"] == original.id
    assert counts(original) == (1, 0, 1)
    shown = client_for(fan).get(f"/api/posts/{share['id']}/").json()
    assert shown["repost_of"]["liked_by_me"] is True
    assert shown["repost_of"]["like_count"] == 1


def test_liked_by_me_costs_one_query_per_page(client_for, django_assert_num_queries):
    author, fan = AccountFactory(), AccountFactory()
    posts = [PostFactory(author=author) for _ in range(6)]
    for post in posts[::2]:
        client_for(fan).post(like_url(post.id))
    client = client_for(fan)

    # token auth + the author + has it blocked me + the page of posts + liked_by_me for the
    # whole page
    with django_assert_num_queries(5):
        response = client.get(f"/api/accounts/{author.id}/posts/")

    liked = {p["id"]: p["liked_by_me"] for p in response.json()["results"]}
    assert liked == {p.id: i % 2 == 0 for i, p in enumerate(posts)}


# -- comments --------------------------------------------------------------------------------


def test_comment_is_201_and_counted(client_for):
    post, fan = PostFactory(), AccountFactory()

    response = client_for(fan).post(comments_url(post.id), {"body": "nice"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "post", "author", "body", "created_at"}
    assert (body["post"], body["author"]["id"], body["body"]) == (post.id, fan.id, "nice")
    assert counts(post) == (0, 1, 0)


@pytest.mark.parametrize("payload", [{}, {"body": ""}, {"body": "  "}, {"body": "x" * 2001}, {"body": None}])
def test_bad_comment_is_400_and_nothing_written(client_for, payload):
    post = PostFactory()

    assert_error(
        client_for(AccountFactory()).post(comments_url(post.id), payload, format="json"), 400, "body"
    )

    assert not Comment.objects.exists()
    assert counts(post) == (0, 0, 0)


def test_comments_are_paginated_newest_first_with_a_signed_cursor(client_for, api):
    post = PostFactory()
    client = client_for(AccountFactory())
    ids = [client.post(comments_url(post.id), {"body": f"c{i}"}).json()["id"] for i in range(7)]

    seen, url = [], f"{comments_url(post.id)}?limit=3"
    while url:
        page = api.get(url).json()  # comments are public, like posts
        seen += [c["id"] for c in page["results"]]
        url = page["next"]

    assert seen == list(reversed(ids))
    foreign = client.get(f"/api/accounts/{post.author_id}/posts/?limit=1")
    assert foreign.status_code == 200
    assert_error(api.get(comments_url(post.id), {"cursor": "garbage"}), 400)


def test_comments_of_deleted_or_blocking_post_are_404(client_for):
    post, fan = PostFactory(), AccountFactory()
    block_create(blocker=post.author, blocked=fan)
    assert_error(client_for(fan).get(comments_url(post.id)), 404)
    post_delete(post=post, actor=post.author)
    assert_error(client_for(AccountFactory()).get(comments_url(post.id)), 404)


def test_comments_by_blocked_or_muted_people_do_not_leak(client_for):
    post = PostFactory()
    reader, blocked_by_reader, blocker_of_reader, muted, other = AccountFactory.create_batch(5)
    for author in (blocked_by_reader, blocker_of_reader, muted, other):
        client_for(author).post(comments_url(post.id), {"body": f"by {author.username}"})
    block_create(blocker=reader, blocked=blocked_by_reader)
    block_create(blocker=blocker_of_reader, blocked=reader)
    mute_create(muter=reader, muted=muted)

    shown = [c["author"]["id"] for c in client_for(reader).get(comments_url(post.id)).json()["results"]]
    everyone = [c["author"]["id"] for c in client_for(other).get(comments_url(post.id)).json()["results"]]

    assert shown == [other.id]
    assert len(everyone) == 4
    # The author of the blocked post's comment cannot see the reader's comments either.
    client_for(reader).post(comments_url(post.id), {"body": "from reader"})
    seen_by_blocker = client_for(blocker_of_reader).get(comments_url(post.id)).json()["results"]
    assert reader.id not in [c["author"]["id"] for c in seen_by_blocker]


def test_commenting_on_a_share_comments_on_the_original(client_for):
    original, sharer = PostFactory(), AccountFactory()
    follow_create(follower=sharer, followee=original.author)
    share = client_for(sharer).post(f"/api/posts/{original.id}/share/").json()

    response = client_for(sharer).post(comments_url(share["id"]), {"body": "via share"})

    assert response.json()["post"] == original.id
    assert [c["body"] for c in client_for(sharer).get(comments_url(share["id"])).json()["results"]] == [
        "via share"
    ]
    assert counts(original) == (0, 1, 1)


def test_comment_deletion_by_its_author_the_posts_author_or_staff(client_for):
    post = PostFactory()
    commenter, stranger = AccountFactory(), AccountFactory()
    staff = AccountFactory(is_staff=True)
    ids = [
        client_for(commenter).post(comments_url(post.id), {"body": f"c{i}"}).json()["id"] for i in range(3)
    ]

    denied = client_for(stranger).delete(f"{comments_url(post.id)}{ids[0]}/")
    assert "Only the comment's author" in assert_error(denied, 403)
    assert client_for(commenter).delete(f"{comments_url(post.id)}{ids[0]}/").status_code == 204
    assert client_for(post.author).delete(f"{comments_url(post.id)}{ids[1]}/").status_code == 204
    assert client_for(staff).delete(f"{comments_url(post.id)}{ids[2]}/").status_code == 204

    assert not Comment.objects.exists()
    assert counts(post) == (0, 0, 0)
    assert_error(client_for(commenter).delete(f"{comments_url(post.id)}{ids[0]}/"), 404)  # gone
    other = PostFactory()
    kept = client_for(commenter).post(comments_url(other.id), {"body": "x"}).json()["id"]
    assert_error(client_for(commenter).delete(f"{comments_url(post.id)}{kept}/"), 404)  # wrong post
    assert_error(client_for(stranger).delete(f"{comments_url(post.id)}abc/"), 404)
