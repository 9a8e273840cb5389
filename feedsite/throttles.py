"""Rate limits on the writes worth abusing: posting, following, account creation and token
requests. DRF's throttles, counting in the Django cache (Redis). Rates come from settings
(FEED_THROTTLE_RATES, from the environment); FEED_THROTTLES=off turns them all off.

A throttled request is a 429 with ``Retry-After``. If Redis is down the cache fails open
(reads miss, writes are dropped), so requests go through rather than failing.
"""

from __future__ import annotations

from django.conf import settings
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
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        user = request.user
        ident = f"u{user.pk}" if user and user.is_authenticated else f"ip{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class PostThrottle(FeedThrottle):
    scope = "post"


class FollowThrottle(FeedThrottle):
    scope = "follow"


class SignupThrottle(FeedThrottle):
    scope = "signup"


class TokenThrottle(FeedThrottle):
    scope = "token"
