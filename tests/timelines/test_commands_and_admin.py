"""feed_config and seed_demo commands, and feed tuning through the Django admin."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict

from graph.models import Account, FanoutMode, Follow
from posts.models import Comment, Delivery, Like, Post
from tests.factories import PASSWORD, AccountFactory, PostFactory, bulk_followers
from tests.helpers import feed_ids
from timelines.models import FeedConfig

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_feed_config_shows_and_sets_knobs():
    assert "celebrity-threshold  10000" in run("feed_config")
    output = run(
        "feed_config", "--celebrity-threshold", "50", "--chunk-size", "200", "--timeline-length", "300"
    )
    assert "celebrity-threshold  50" in output and "chunk-size           200" in output
    config = FeedConfig.load()
    assert (config.celebrity_threshold, config.fanout_chunk_size, config.timeline_length) == (50, 200, 300)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--celebrity-threshold", "0"], "--celebrity-threshold"),
        (["--timeline-length", "5"], "--timeline-length"),
        (["--chunk-size", "100000"], "--chunk-size"),
        (["--account", "1"], "--account and --mode go together"),
        (["--account", "999999", "--mode", "pull"], "No account with id 999999"),
    ],
)
def test_feed_config_refuses_bad_values_and_writes_nothing(args, message):
    before = FeedConfig.load().updated_at
    with pytest.raises(CommandError, match=message):
        call_command("feed_config", *args)
    assert FeedConfig.load().updated_at == before


def test_feed_config_mode_override_reports_effective_mode():
    account = AccountFactory()
    assert "effective mode=pull" in run("feed_config", "--account", str(account.id), "--mode", "pull")
    account.refresh_from_db()
    assert account.fanout_override == FanoutMode.PULL


def test_seed_demo_loads_once_and_prints_token_and_curl(client_for):
    first = run("seed_demo", "--users", "60", "--avg-follows", "6")
    counts = (Account.objects.count(), Follow.objects.count(), Post.objects.count())
    assert counts[0] == 61 and counts[1] > 300 and counts[2] > 60
    assert "Loaded 61 accounts" in first and "followers median" in first
    assert Like.objects.exists() and Comment.objects.exists()
    second = run("seed_demo", "--users", "60")
    assert "already loaded" in second
    assert (Account.objects.count(), Follow.objects.count(), Post.objects.count()) == counts
    demo = Account.objects.get(username="demo")
    token = demo.auth_token.key
    for output in (first, second):
        assert f"Authorization: Token {token}" in output and "/api/feed/" in output
    # demo follows the most followed account, which is in pull mode, and its feed shows
    # exactly the posts of everyone it follows (rebuilt from PostgreSQL on this first read).
    top = Account.objects.exclude(id=demo.id).order_by("-followers_count").first()
    assert Follow.objects.filter(follower=demo, followee=top).exists()
    assert set(Post.objects.filter(author=top).values_list("delivery", flat=True)) <= {Delivery.PULL}
    followees = [*Follow.objects.filter(follower=demo).values_list("followee_id", flat=True), demo.id]
    expected = list(Post.objects.filter(author__in=followees).order_by("-id").values_list("id", flat=True))
    assert expected and feed_ids(client_for(demo)) == expected


def test_seed_demo_refuses_bad_sizes():
    with pytest.raises(CommandError, match="--users"):
        call_command("seed_demo", "--users", "3")
    assert not Account.objects.exists()


@pytest.fixture
def staff_client(client):
    staff = AccountFactory(is_staff=True, is_superuser=True)
    assert client.login(username=staff.username, password=PASSWORD)
    return client


def config_form(**changes) -> dict:
    """The admin form for the config row as it stands, with some fields changed."""
    return {**model_to_dict(FeedConfig.load(), exclude=["id"]), **changes}


def test_admin_tunes_threshold_and_next_post_follows_it(staff_client):
    author = AccountFactory()
    bulk_followers(author, 3)
    assert PostFactory(author=author).delivery == Delivery.PUSH
    config = FeedConfig.load()
    url = f"/admin/timelines/feedconfig/{config.pk}/change/"
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, config_form(celebrity_threshold=3))
    assert response.status_code == 302, response.content
    assert FeedConfig.load().celebrity_threshold == 3
    author.refresh_from_db()
    assert PostFactory(author=author).delivery == Delivery.PULL


def test_admin_rejects_out_of_range_knob(staff_client):
    config = FeedConfig.load()
    response = staff_client.post(
        f"/admin/timelines/feedconfig/{config.pk}/change/", config_form(celebrity_threshold=0)
    )
    assert response.status_code == 200 and b"errornote" in response.content
    assert FeedConfig.load().celebrity_threshold == 10_000


def test_admin_lists_accounts_with_effective_mode_and_searches(staff_client):
    celebrity = AccountFactory(username="bigstar", fanout_override=FanoutMode.PULL)
    AccountFactory(username="nobody")
    response = staff_client.get("/admin/graph/account/?q=bigstar")
    assert response.status_code == 200
    assert b"bigstar" in response.content and b"nobody" not in response.content
    assert response.context["cl"].result_list[0] == celebrity
    assert b">pull<" in response.content


def test_admin_forces_an_accounts_mode_from_the_list(staff_client):
    author = AccountFactory(username="loud")
    response = staff_client.post(
        "/admin/graph/account/?q=loud",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(author.id),
            "form-0-fanout_override": "pull",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content
    author.refresh_from_db()
    assert author.fanout_override == FanoutMode.PULL
    assert PostFactory(author=author).delivery == Delivery.PULL


def test_admin_is_staff_only(client):
    regular = AccountFactory()
    client.login(username=regular.username, password=PASSWORD)
    response = client.get("/admin/timelines/feedconfig/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
