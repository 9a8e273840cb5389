from __future__ import annotations

from django.core.validators import URLValidator
from rest_framework import serializers

from posts.models import BODY_MAX_LENGTH, MEDIA_URL_MAX_LENGTH, MEDIA_URLS_MAX, Post


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class PostSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)

    class Meta:
        model = Post
        fields = ["id", "author", "body", "media_urls", "created_at"]
        read_only_fields = fields


class PostCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=BODY_MAX_LENGTH)
    media_urls = serializers.ListField(
        child=serializers.URLField(
            max_length=MEDIA_URL_MAX_LENGTH,
            validators=[URLValidator(schemes=["http", "https"], message="Only http(s) URLs are allowed.")],
        ),
        max_length=MEDIA_URLS_MAX,
        required=False,
        default=list,
    )
