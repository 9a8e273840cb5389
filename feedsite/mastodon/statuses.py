"""/api/v1/statuses: post, read, delete, favourite, reblog, context, favourited_by and
reblogged_by. Replies are our comments (docs/mastodon.md#replies); every write goes through
posts.services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from feedsite.mastodon import services
from feedsite.mastodon.base import MastodonView, body, param, param_bool, param_list
from feedsite.mastodon.errors import Unprocessable, service_errors
from feedsite.mastodon.paging import page_window, set_link, window_rows
from feedsite.mastodon.render import accounts_data, comments_data, site_base, statuses_data
from feedsite.mastodon.schema import (
    ACCOUNT,
    CONTEXT,
    DELETED_STATUS,
    STATUS,
    STATUS_CREATE,
    window_parameters,
)
from feedsite.mastodon.selectors import feed_posts_from_models, status_ref
from feedsite.throttles import PostThrottle
from posts import services as post_services
from posts.models import BODY_MAX_LENGTH, Comment, Like, Post
from posts.selectors import comment_queryset, post_queryset

CONTEXT_MAX = 500  # descendants shown by /context (a post's oldest comments)
VISIBILITIES = ("public", "unlisted")


def visible_post(request: Request, post_id: int) -> Post:
    post = post_queryset(viewer=request.user).filter(pk=post_id).first()
    if post is None:
        raise NotFound("Record not found")
    return post


def visible_comment(request: Request, comment_id: int) -> Comment:
    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    if comment is None:
        raise NotFound("Record not found")
    visible_post(request, comment.post_id)
    if not comment_queryset(post=comment.post, viewer=request.user).filter(pk=comment_id).exists():
        raise NotFound("Record not found")
    return comment


def post_data(request: Request, post: Post) -> dict:
    posts = feed_posts_from_models(viewer=request.user, posts=[post])
    return statuses_data(posts=posts, viewer_id=request.user.id, base=site_base(request))[0]


def comment_data(request: Request, comment: Comment) -> dict:
    return comments_data(comments=[comment], post_author_id=comment.post.author_id, base=site_base(request))[
        0
    ]


def status_data(request: Request, raw_id: str) -> dict:
    kind, pk = status_ref(raw_id)
    if kind == "comment":
        return comment_data(request, visible_comment(request, pk))
    return post_data(request, visible_post(request, pk))


def _target_post(request: Request, raw_id: str) -> Post:
    """The post a favourite, reblog or reply applies to (a reply to a comment joins its post)."""
    kind, pk = status_ref(raw_id)
    post = visible_comment(request, pk).post if kind == "comment" else visible_post(request, pk)
    return Post.objects.select_related("repost_of").get(pk=post.pk)


class StatusesView(MastodonView):
    required_scopes = {"POST": "write:statuses"}
    throttle_classes = [
        *api_settings.DEFAULT_THROTTLE_CLASSES,
        PostThrottle,
    ]  # the same limit as POST /api/posts/ (replies count too)

    @extend_schema(request=STATUS_CREATE, responses=STATUS)
    def post(self, request: Request) -> Response:
        text = param(request, "status") or ""
        if param_list(request, "media_ids"):
            raise Unprocessable("Media upload is not supported on this server.")
        if body(request).get("poll") or param(request, "poll[options][]") or param(request, "scheduled_at"):
            raise Unprocessable("Polls and scheduled statuses are not supported on this server.")
        if param(request, "spoiler_text"):
            raise Unprocessable("Content warnings (spoiler_text) are not supported on this server.")
        visibility = param(request, "visibility") or "public"
        if visibility not in VISIBILITIES:
            raise Unprocessable("Only public and unlisted statuses are supported on this server.")
        param_bool(request, "sensitive")  # validated; nothing we show is marked sensitive
        if not text.strip():
            raise Unprocessable("Validation failed: Text can't be blank")
        if len(text) > BODY_MAX_LENGTH:
            raise Unprocessable(
                f"Validation failed: Text is too long (maximum is {BODY_MAX_LENGTH} characters)"
            )
        reply_to = param(request, "in_reply_to_id")
        in_reply_to = _target_post(request, reply_to) if reply_to else None
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and (len(key) > 128 or not key.isprintable()):
            raise Unprocessable("Idempotency-Key must be at most 128 printable characters.")
        with service_errors():
            status_id = services.status_create(
                author=request.user, text=text, in_reply_to=in_reply_to, idempotency_key=key
            )
        return Response(status_data(request, status_id))


class StatusView(MastodonView):
    required_scopes = {"GET": "read:statuses", "DELETE": "write:statuses"}

    @extend_schema(responses=STATUS)
    def get(self, request: Request, status_id: str) -> Response:
        return Response(status_data(request, status_id))

    @extend_schema(responses=DELETED_STATUS)
    def delete(self, request: Request, status_id: str) -> Response:
        kind, pk = status_ref(status_id)
        if kind == "comment":
            comment = visible_comment(request, pk)
            data = comment_data(request, comment)
            data["text"] = comment.body
            post_services.comment_delete(comment=comment, actor=request.user)
        else:
            post = visible_post(request, pk)
            if post.author_id != request.user.id and not request.user.is_staff:
                raise NotFound("Record not found")  # Mastodon: only your own statuses
            data = post_data(request, post)
            data["text"] = post.body
            post_services.post_delete(post=post, actor=request.user)
        return Response(data)


class StatusActionView(MastodonView):
    """POST favourite | unfavourite | reblog | unreblog → the Status (a reblog: its wrapper)."""

    required_scopes = {"POST": "write:statuses"}

    @extend_schema(request=None, responses=STATUS)
    def post(self, request: Request, status_id: str, verb: str) -> Response:
        kind, _ = status_ref(status_id)
        if kind == "comment":
            raise Unprocessable("Replies cannot be favourited or reblogged on this server.")
        post = _target_post(request, status_id)
        user = request.user
        with service_errors():
            if verb == "favourite":
                result, _ = post_services.like_create(user=user, post=post)
            elif verb == "unfavourite":
                post_services.like_delete(user=user, post=post)
                result = post.repost_of or post
            elif verb == "reblog":
                result, _ = post_services.share_create(user=user, post=post)
            else:
                post_services.share_delete(user=user, post=post)
                result = post.repost_of or post
        return Response(post_data(request, visible_post(request, result.pk)))


class FavouriteActionView(StatusActionView):
    required_scopes = {"POST": "write:favourites"}


class StatusContextView(MastodonView):
    required_scopes = {"GET": "read:statuses"}

    @extend_schema(responses=CONTEXT)
    def get(self, request: Request, status_id: str) -> Response:
        kind, pk = status_ref(status_id)
        if kind == "comment":  # replies are flat: a comment's thread is its post
            comment = visible_comment(request, pk)
            return Response(
                {"ancestors": [post_data(request, visible_post(request, comment.post_id))], "descendants": []}
            )
        post = visible_post(request, pk)
        original = post.repost_of or post
        comments = list(comment_queryset(post=original, viewer=request.user).order_by("id")[:CONTEXT_MAX])
        base = site_base(request)
        return Response(
            {
                "ancestors": [],
                "descendants": comments_data(comments=comments, post_author_id=original.author_id, base=base),
            }
        )


class StatusAccountsView(MastodonView):
    """GET favourited_by | reblogged_by: accounts, newest first, paged by the like or share id."""

    required_scopes = {"GET": "read:accounts"}

    @extend_schema(parameters=window_parameters(80), responses=ACCOUNT.__class__(many=True))
    def get(self, request: Request, status_id: str, relation: str) -> Response:
        kind, pk = status_ref(status_id)
        if kind == "comment":
            rows, older = [], False
        else:
            post = visible_post(request, pk)
            original_id = post.repost_of_id or post.id
            if relation == "favourited_by":
                edges = Like.objects.filter(post_id=original_id).values_list("id", "user_id")
            else:
                edges = Post.objects.filter(repost_of_id=original_id, deleted_at__isnull=True).values_list(
                    "id", "author_id"
                )
            rows, older = window_rows(edges, page_window(request, default=40, maximum=80))
        data = accounts_data(account_ids=[account for _, account in rows], base=site_base(request))
        return set_link(Response(data), request, [edge for edge, _ in rows], older=older)
