"""GET /api/v1/instance and /api/v2/instance: the server's description for Mastodon clients
(docs.joinmastodon.org/entities/V1_Instance, /entities/Instance). Public; the counts are
cached for a minute, since clients fetch this on every start."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from graph.models import Account
from posts.models import BODY_MAX_LENGTH, Post

# The convention compatible servers use; clients gate features on the Mastodon version.
VERSION = "4.3.0 (compatible; feedsite 1.0)"
SOURCE_URL = "https://github.com/feedsite/feedsite"
STATS_CACHE_SECONDS = 60
# We serve no media upload, polls or translation: zero limits say so to clients.
MEDIA = {"supported_mime_types": [], "image_size_limit": 0, "image_matrix_limit": 0, "video_size_limit": 0,
         "video_frame_rate_limit": 0, "video_matrix_limit": 0}  # fmt: skip
POLLS = {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0}
STATUSES = {"max_characters": BODY_MAX_LENGTH, "max_media_attachments": 0, "characters_reserved_per_url": 23}


def instance_domain(request: Request) -> str:
    return settings.INSTANCE_DOMAIN or request.get_host()


def instance_stats() -> dict[str, int]:
    def count() -> dict[str, int]:
        return {
            "user_count": Account.objects.filter(is_active=True).count(),
            "status_count": Post.objects.filter(deleted_at__isnull=True).count(),
            "domain_count": 0,
        }

    return cache.get_or_set("instance:stats", count, STATS_CACHE_SECONDS)


class PublicView(APIView):
    """Anyone, any token or none: the instance is public (credentials are not even read)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    required_scopes = {"GET": ""}


class InstanceView(PublicView):
    """Mastodon's v1 Instance entity."""

    @extend_schema(responses={200: dict}, auth=[], tags=["mastodon"])
    def get(self, request: Request) -> Response:
        return Response(
            {
                "uri": instance_domain(request),
                "title": settings.INSTANCE_TITLE,
                "short_description": settings.INSTANCE_DESCRIPTION,
                "description": settings.INSTANCE_DESCRIPTION,
                "email": settings.INSTANCE_CONTACT_EMAIL,
                "version": VERSION,
                "urls": {"streaming_api": settings.STREAMING_API_URL},
                "stats": instance_stats(),
                "thumbnail": None,
                "languages": ["en"],
                "registrations": True,
                "approval_required": False,
                "invites_enabled": False,
                "configuration": {
                    "accounts": {"max_featured_tags": 0},
                    "statuses": STATUSES,
                    "media_attachments": MEDIA,
                    "polls": POLLS,
                },
                "contact_account": None,
                "rules": [],
            }
        )


class InstanceV2View(PublicView):
    """Mastodon's v2 Instance entity."""

    @extend_schema(responses={200: dict}, auth=[], tags=["mastodon"])
    def get(self, request: Request) -> Response:
        return Response(
            {
                "domain": instance_domain(request),
                "title": settings.INSTANCE_TITLE,
                "version": VERSION,
                "source_url": SOURCE_URL,
                "description": settings.INSTANCE_DESCRIPTION,
                "usage": {"users": {"active_month": instance_stats()["user_count"]}},
                "thumbnail": {"url": None, "blurhash": None, "versions": {}},
                "icon": [],
                "languages": ["en"],
                "configuration": {
                    "urls": {"streaming": settings.STREAMING_API_URL, "status": None},
                    "vapid": {"public_key": ""},
                    "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
                    "statuses": STATUSES,
                    "media_attachments": MEDIA,
                    "polls": POLLS,
                    "translation": {"enabled": False},
                },
                "registrations": {"enabled": True, "approval_required": False, "message": None, "url": None},
                "api_versions": {"mastodon": 2},
                "contact": {"email": settings.INSTANCE_CONTACT_EMAIL, "account": None},
                "rules": [],
            }
        )
