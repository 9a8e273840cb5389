"""Rate limits on the writes worth abusing: posting, following, account creation and token
requests. DRF's throttles, counting in the Django cache (Redis). Rates come from settings
(FEED_THROTTLE_RATES, from the environment); FEED_THROTTLES=off turns them all off.

A throttled request is a 429 with ``Retry-After`` and Mastodon's ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (ISO 8601; Mastodon.py waits for it). If
Redis is down the cache fails open (reads miss, writes are dropped), so requests go through
rather than failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class FeedThrottle(SimpleRateThrottle):
    """One scope; per signed-in user, or per client IP for anonymous requests."""

    def get_rate(self) -> str | None:
        return settings.FEED_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if not settings.FEED_THROTTLES:
            return True
        # Rates are read per request, so settings overrides (tests) apply at once.
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if super().allow_request(request, view):
            return True
        # Kept on the Django request, where the error handler finds it for the 429's headers.
        getattr(request, "_request", request).rate_limit = RateLimit(
            self.num_requests, self.now + (self.wait() or 0)
        )
        return False

    def get_cache_key(self, request: Request, view: APIView) -> str:
        user = request.user
        ident = f"u{user.pk}" if user and user.is_authenticated else f"ip{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class KeyedThrottle(FeedThrottle):
    """Counts per a key the caller names (a client id, a login name), not per requester."""

    def __init__(self, ident: str) -> None:
        super().__init__()
        self.ident = ident

    def get_cache_key(self, request: Request, view: APIView | None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


@dataclass(frozen=True)
class RateLimit:
    limit: int
    reset_at: float  # epoch seconds when the window has room again


def rate_limit_headers(request: HttpRequest) -> dict[str, str]:
    """The headers of a 429 for ``request`` (empty if no throttle refused it)."""
    rate_limit = getattr(request, "rate_limit", None)
    if rate_limit is None:
        return {}
    reset = datetime.fromtimestamp(math.ceil(rate_limit.reset_at), tz=UTC)
    return {
        "X-RateLimit-Limit": str(rate_limit.limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"),
    }


class PostThrottle(FeedThrottle):
    scope = "post"


class FollowThrottle(FeedThrottle):
    scope = "follow"


class SignupThrottle(FeedThrottle):
    scope = "signup"


class TokenThrottle(FeedThrottle):
    scope = "token"


class TokenClientThrottle(KeyedThrottle):
    """Token requests per OAuth client id (/oauth/token)."""

    scope = "token_client"


class TokenAccountThrottle(KeyedThrottle):
    """Token requests per login name (username or email, lowercased), whoever sends them."""

    scope = "token_account"


class AppThrottle(FeedThrottle):
    """OAuth app registrations (POST /api/v1/apps), per client IP."""

    scope = "app"
