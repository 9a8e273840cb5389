from __future__ import annotations

from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from posts.models import Post
from posts.serializers import PostCreateSerializer, PostSerializer
from posts.services import post_create, post_delete


class PostViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Create, read and (soft-)delete posts. Deleted posts, and posts of accounts that blocked
    you, are 404."""

    serializer_class = PostSerializer

    def get_queryset(self):
        qs = Post.objects.filter(deleted_at__isnull=True).select_related("author")
        if self.request.user.is_authenticated:
            qs = qs.exclude(author__blocks_made__blocked=self.request.user)
        return qs

    def create(self, request: Request) -> Response:
        serializer = PostCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        post = post_create(author=request.user, **serializer.validated_data)
        return Response(PostSerializer(post).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        post_delete(post=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
