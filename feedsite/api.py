"""API-wide error handling: every error is JSON with a human-readable message. Our own /api/…
answers ``{"detail": …}``; the Mastodon client API (/api/v1/, /api/v2/, /oauth/) answers
``{"error": …}`` with Mastodon's status codes: 422 for validation, 401 for a missing or bad
token, 403 for scopes, 404, and 429 with the X-RateLimit headers (docs/mastodon.md#errors)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from feedsite.throttles import rate_limit_headers

MASTODON_PREFIXES = ("/api/v1/", "/api/v2/", "/oauth/")
NOT_AUTHENTICATED = "This method requires an authenticated user"


def is_mastodon_path(path: str) -> bool:
    return path.startswith(MASTODON_PREFIXES) or path in ("/api/v1", "/api/v2")


def _first_message(errors: Any, field: str | None = None) -> str:
    """The first leaf message of a DRF error structure, prefixed with its field name."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = None if key in ("non_field_errors", "detail") else str(key)
            return _first_message(value, name if field is None else f"{field}.{name}" if name else field)
    if isinstance(errors, list) and errors:
        return _first_message(errors[0], field)
    text = str(errors)
    return f"{field}: {text}" if field else text


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Services raise Django's exceptions so they do not depend on DRF; translate them here.
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    if isinstance(exc, exceptions.Throttled) and request is not None:
        for name, value in rate_limit_headers(getattr(request, "_request", request)).items():
            response[name] = value
    if request is not None and is_mastodon_path(request.path):
        return _mastodon_error(exc, response)
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": _first_message(errors), "errors": errors}
    elif not (isinstance(data, dict) and "detail" in data):
        response.data = {"detail": _first_message(data)}
    return response


def _mastodon_error(exc: Exception, response: Response) -> Response:
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        response.status_code = 422
        response.data = {"error": f"Validation failed: {_first_message(errors)}"}
    elif isinstance(exc, exceptions.NotAuthenticated):
        response.data = {"error": NOT_AUTHENTICATED}
    else:
        response.data = {"error": _first_message(response.data)}
    return response


def error_response(request: HttpRequest, message: str, status: int) -> JsonResponse:
    """An error outside DRF (middleware, catch-all, CSRF) in the format of ``request``'s path."""
    return JsonResponse({"error" if is_mastodon_path(request.path) else "detail": message}, status=status)


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /api/ and /oauth/ answer in the API's error format, not Django's
    HTML page."""
    return error_response(request, f"No API endpoint at {request.path}.", 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """CSRF refusals (cookie-session writes without the token) in the API's error format
    rather than Django's HTML page."""
    return error_response(request, f"CSRF Failed: {reason}", 403)
