"""API-wide error handling: every error is JSON with a human-readable ``detail`` message."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"detail": _first_message(errors), "errors": errors}
    elif not (isinstance(data, dict) and "detail" in data):
        response.data = {"detail": _first_message(data)}
    return response


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Unknown paths under /api/ answer in the API's error format, not Django's HTML page."""
    return JsonResponse({"detail": f"No API endpoint at {request.path}."}, status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    """CSRF refusals (cookie-session writes without the token) in the API's error format
    rather than Django's HTML page."""
    return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)
