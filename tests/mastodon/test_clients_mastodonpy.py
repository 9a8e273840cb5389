"""Unmodified Mastodon.py against a real gunicorn (tests/mastodon/clients.py) through the
resource endpoints: post, follow by name, the home timeline paged every way, favourite and
reblog, replies and context, delete, unfollow and relationships, Idempotency-Key, markers.
Fan-out is eager in the server, so a post is in its followers' timelines when it answers."""

from __future__ import annotations

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError

from tests.factories import AccountFactory
from tests.mastodon.clients import CLIENT_MARKS, mastodon_login

pytestmark = CLIENT_MARKS


@pytest.fixture
def reader_author(server):
    """Two signed-in Mastodon.py clients; the reader follows the author, found by name."""
    reader_account, author_account = AccountFactory.create_batch(2)
    reader, author = mastodon_login(server, reader_account), mastodon_login(server, author_account)
    found = reader.account_lookup(author_account.username)
    relationship = reader.account_follow(found)
    assert relationship["following"] is True and relationship["id"] == found["id"]
    return reader, author


def test_verify_credentials_and_post(server):
    account = AccountFactory()
    client = mastodon_login(server, account)
    me = client.account_verify_credentials()
    assert me["username"] == me["acct"] == account.username and isinstance(me["id"], str)
    assert me["statuses_count"] == 0 and "source" in me
    status = client.status_post("fish & chips\n\nwith <b>vinegar</b>")
    assert isinstance(status["id"], str) and status["account"]["id"] == me["id"]
    assert status["content"] == "<p>fish &amp; chips</p><p>with &lt;b&gt;vinegar&lt;/b&gt;</p>"
    assert client.status(status["id"])["content"] == status["content"]
    assert client.account_verify_credentials()["statuses_count"] == 1
    assert [s["id"] for s in client.account_statuses(me["id"])] == [status["id"]]


def test_follow_by_name_with_search_and_lookup(server):
    reader_account, author_account = AccountFactory.create_batch(2)
    reader = mastodon_login(server, reader_account)
    by_search = reader.account_search(author_account.username)
    assert [a["username"] for a in by_search][:1] == [author_account.username]
    by_v2_search = reader.search_v2(author_account.username, result_type="accounts")["accounts"]
    assert by_v2_search[0]["id"] == by_search[0]["id"]
    assert reader.account_lookup(f"@{author_account.username}")["id"] == by_search[0]["id"]
    assert reader.account_follow(by_search[0])["following"] is True
    (relationship,) = reader.account_relationships([by_search[0]["id"]])
    assert relationship["following"] is True and relationship["followed_by"] is False
    assert [a["id"] for a in reader.account_following(reader.me())] == [by_search[0]["id"]]


def test_the_followed_post_shows_in_the_home_timeline_with_its_html(reader_author):
    reader, author = reader_author
    posted = author.status_post("hello\nreaders")
    (first,) = reader.timeline_home()
    assert first["id"] == posted["id"] and first["content"] == "<p>hello<br>readers</p>"
    assert first["account"]["id"] == author.me()["id"]


def test_home_timeline_pages_with_fetch_next_and_fetch_previous(reader_author):
    reader, author = reader_author
    ids = [author.status_post(f"post {n}")["id"] for n in range(7)]
    newest_first = ids[::-1]
    first = reader.timeline_home(limit=3)
    second = reader.fetch_next(first)
    third = reader.fetch_next(second)
    assert [[s["id"] for s in page] for page in (first, second, third)] == [
        newest_first[:3],
        newest_first[3:6],
        newest_first[6:],
    ]
    assert reader.fetch_next(third) is None
    assert [s["id"] for s in reader.fetch_previous(third)] == newest_first[3:6]  # right before it
    assert [s["id"] for s in reader.fetch_previous(second)] == newest_first[:3]
    assert reader.fetch_previous(first) in (None, [])


def test_home_timeline_since_id_and_min_id(reader_author):
    reader, author = reader_author
    ids = [author.status_post(f"post {n}")["id"] for n in range(6)]
    since = reader.timeline_home(since_id=ids[1], limit=2)
    assert [s["id"] for s in since] == [ids[5], ids[4]]  # the newest ones newer than it
    after = reader.timeline_home(min_id=ids[1], limit=2)
    assert [s["id"] for s in after] == [ids[3], ids[2]]  # the ones right after it
    assert [s["id"] for s in reader.timeline_home(since_id=ids[5])] == []
    assert [s["id"] for s in reader.timeline_home(max_id=ids[2])] == [ids[1], ids[0]]


def test_favourite_and_reblog_and_their_undo(reader_author):
    reader, author = reader_author
    status = author.status_post("worth sharing")
    favourited = reader.status_favourite(status)
    assert favourited["favourited"] is True and favourited["favourites_count"] == 1
    assert author.status(status)["favourites_count"] == 1
    assert [a["id"] for a in author.status_favourited_by(status)] == [reader.me()["id"]]
    unfavourited = reader.status_unfavourite(status)
    assert unfavourited["favourited"] is False and unfavourited["favourites_count"] == 0
    reblog = reader.status_reblog(status)
    assert reblog["id"] != status["id"] and reblog["reblog"]["id"] == status["id"]
    assert reblog["reblog"]["reblogged"] is True and reblog["reblog"]["reblogs_count"] == 1
    assert reader.status(status)["reblogged"] is True and author.status(status)["reblogs_count"] == 1
    assert reader.status_reblog(status)["id"] == reblog["id"]  # reblogging twice: the same one
    original = reader.status_unreblog(status)
    assert original["id"] == status["id"] and original["reblogged"] is False
    assert original["reblogs_count"] == 0 and author.status(status)["reblogs_count"] == 0


def test_replies_show_in_the_context(reader_author):
    reader, author = reader_author
    status = author.status_post("what do you think?")
    reply = reader.status_post("I agree", in_reply_to_id=status)
    assert reply["in_reply_to_id"] == status["id"] and isinstance(reply["id"], str)
    assert reply["in_reply_to_account_id"] == author.me()["id"]
    answer = author.status_post("thanks", in_reply_to_id=reply)  # flat threads: on the post
    context = author.status_context(status)
    assert context["ancestors"] == []
    assert [(s["id"], s["content"]) for s in context["descendants"]] == [
        (reply["id"], "<p>I agree</p>"),
        (answer["id"], "<p>thanks</p>"),
    ]
    assert [s["id"] for s in reader.status_context(reply)["ancestors"]] == [status["id"]]
    assert author.status(status)["replies_count"] == 2


def test_delete(reader_author):
    reader, author = reader_author
    status = author.status_post("regret")
    assert [s["id"] for s in reader.timeline_home()] == [status["id"]]
    deleted = author.status_delete(status)
    assert deleted["id"] == status["id"] and deleted["text"] == "regret"
    with pytest.raises(MastodonNotFoundError):
        reader.status(status)
    assert reader.timeline_home() == []


def test_unfollow_and_relationships(reader_author):
    reader, author = reader_author
    author_id = author.me()["id"]
    (before,) = reader.account_relationships(author_id)
    assert before["following"] is True and before["id"] == author_id
    assert reader.account_unfollow(author_id)["following"] is False
    (after,) = reader.account_relationships(author_id)
    assert after["following"] is False
    author.status_post("after the unfollow")
    assert reader.timeline_home() == []


def test_idempotency_key_posts_once(server):
    client = mastodon_login(server, AccountFactory())
    first = client.status_post("once", idempotency_key="retry-1")
    again = client.status_post("once", idempotency_key="retry-1")
    other = client.status_post("once", idempotency_key="retry-2")
    assert again["id"] == first["id"] != other["id"]
    assert client.account_verify_credentials()["statuses_count"] == 2


def test_markers(reader_author):
    reader, author = reader_author
    older, newer = (author.status_post(f"post {n}")["id"] for n in range(2))
    assert reader.markers_get("home") == {}
    set_first = reader.markers_set("home", older)["home"]
    assert set_first["last_read_id"] == older
    moved = reader.markers_set("home", newer)["home"]
    assert moved["last_read_id"] == newer and moved["version"] == set_first["version"] + 1
    assert reader.markers_get("home")["home"]["last_read_id"] == newer


def test_a_read_only_token_is_refused_a_write_and_a_revoked_token_everything(server):
    reader = mastodon_login(server, AccountFactory(), scopes=["read"])
    assert reader.timeline_home() == []
    with pytest.raises(MastodonAPIError, match="outside the authorized scopes"):
        reader.status_post("should not post")
    token = reader.access_token
    reader.revoke_access_token()  # which also forgets the token
    gone = Mastodon(access_token=token, api_base_url=reader.api_base_url)
    with pytest.raises(MastodonUnauthorizedError, match="The access token is invalid"):
        gone.status_post("should not post either")
    with pytest.raises(MastodonUnauthorizedError) as refused:
        gone.timeline_home()
    assert refused.value.args[1] == 401
