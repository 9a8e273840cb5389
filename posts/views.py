from __future__ import annotations

from collections.abc import Callable, Sequence

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from feedsite.pagination import KeysetPagination
from feedsite.schema import PAGE_PARAMETERS, paginated
from feedsite.throttles import PostThrottle
from posts import services
from posts.models import Comment, Post
from posts.selectors import comment_queryset, liked_post_ids, post_queryset
from posts.serializers import CommentCreateSerializer, CommentSerializer, PostCreateSerializer, PostSerializer


def posts_data(request: Request, posts: Sequence[Post], **context) -> list[dict]:
    """Serialise a page of posts with ``liked_by_me`` answered by one query for the page."""
    liked = liked_post_ids(viewer=request.user, posts=posts)
    return PostSerializer(posts, many=True, context={"request": request, "liked_ids": liked, **context}).data


def post_data(request: Request, post: Post) -> dict:
    return posts_data(request, [post])[0]


class PostViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Create, read and (soft-)delete posts; like, comment on and share them. Deleted posts,
    and posts of accounts that blocked you, are 404."""

    serializer_class = PostSerializer
    pagination_class = KeysetPagination

    @property
    def cursor_scope(self) -> str:
        return f"posts.{self.action}"

    def get_queryset(self):
        return post_queryset(viewer=self.request.user)

    def get_throttles(self):
        if self.action == "create":
            return [PostThrottle()]
        return super().get_throttles()

    @extend_schema(responses=PostSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(post_data(request, self.get_object()))

    @extend_schema(request=PostCreateSerializer, responses={201: PostSerializer})
    def create(self, request: Request) -> Response:
        serializer = PostCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = services.post_create(author=request.user, **serializer.validated_data)
        return Response(post_data(request, post), status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.post_delete(post=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _engaged_post(self) -> Post:
        # Deleted and blocked posts are found here so the service can say why it refuses.
        return get_object_or_404(Post.objects.select_related("repost_of"), pk=self.kwargs["pk"])

    def _fresh(self, post: Post) -> Post:
        # With its updated counts; if it was deleted a moment ago, as we had it.
        return post_queryset(viewer=None).filter(pk=post.pk).first() or post

    def _toggle(self, request: Request, create: Callable, delete: Callable) -> Response:
        """POST: 201 with the resulting post, or 200 if it was already there; DELETE: 204."""
        post = self._engaged_post()
        if request.method == "DELETE":
            delete(user=request.user, post=post)
            return Response(status=status.HTTP_204_NO_CONTENT)
        result, created = create(user=request.user, post=post)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(post_data(request, self._fresh(result)), status=code)

    @extend_schema(methods=["POST"], request=None, responses={200: PostSerializer, 201: PostSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["post", "delete"], permission_classes=[IsAuthenticated])
    def like(self, request: Request, pk: str | None = None) -> Response:
        return self._toggle(request, services.like_create, services.like_delete)

    @extend_schema(methods=["POST"], request=None, responses={200: PostSerializer, 201: PostSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["post", "delete"], permission_classes=[IsAuthenticated])
    def share(self, request: Request, pk: str | None = None) -> Response:
        return self._toggle(request, services.share_create, services.share_delete)

    @extend_schema(
        methods=["GET"], parameters=PAGE_PARAMETERS, responses=paginated(CommentSerializer), request=None
    )
    @extend_schema(methods=["POST"], request=CommentCreateSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"])
    def comments(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "POST":
            serializer = CommentCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            comment = services.comment_create(
                author=request.user, post=self._engaged_post(), **serializer.validated_data
            )
            return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        post = self.get_object()
        original = post.repost_of if post.repost_of_id is not None else post
        page = self.paginate_queryset(comment_queryset(post=original, viewer=request.user))
        return self.get_paginated_response(CommentSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("comment_id", int, OpenApiParameter.PATH)], responses={204: None}
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"comments/(?P<comment_id>[0-9]{1,18})",
        permission_classes=[IsAuthenticated],
    )
    def comment(self, request: Request, pk: str | None = None, comment_id: str | None = None) -> Response:
        """Delete one comment of the post (or of the original, for a share)."""
        post = self._engaged_post()
        original_id = post.repost_of_id or post.id
        comment = get_object_or_404(
            Comment.objects.select_related("post"), pk=comment_id, post_id=original_id
        )
        services.comment_delete(comment=comment, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
