"""Middleware that keeps failures and oversized requests in the API's JSON error format."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from feedsite.api import error_response

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """PostgreSQL down or unreachable: answer a JSON 503 with ``Retry-After`` at once rather
    than a 500 or a hang. ``connect_timeout`` (DB_CONNECT_TIMEOUT) bounds the wait, and
    ``CONN_HEALTH_CHECKS`` replaces the broken connection on the next request, so the app
    recovers by itself when the database is back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError) as exc:  # raised outside a view
            return self.unavailable(request, exc)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return self.unavailable(request, exception)
        return None

    def unavailable(self, request: HttpRequest, exc: Exception) -> JsonResponse:
        logger.error("database unavailable: %s", exc)
        response = error_response(request, "The database is unavailable. Try again shortly.", 503)
        response["Retry-After"] = str(settings.DB_UNAVAILABLE_RETRY_AFTER)
        return response


class RequestSizeLimitMiddleware:
    """Refuse request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a JSON 413 before anything
    reads them (DRF's parsers read the stream directly and would skip Django's own check)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, "Invalid Content-Length header.", 400)
        if limit is not None and length > limit:
            return error_response(request, f"Request body too large: at most {limit} bytes.", 413)
        return self.get_response(request)
