"""Mastodon's error statuses for our errors. The ``{"error": …}`` body is rendered by the API's
exception handler for /api/v1 and /api/v2 paths (feedsite/api.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import APIException


class Unprocessable(APIException):
    """Mastodon answers invalid parameters with 422, not 400."""

    status_code = 422
    default_detail = "Validation failed."
    default_code = "unprocessable"


@contextmanager
def service_errors() -> Iterator[None]:
    """Our services' validation errors (Django's ValidationError) as Mastodon's 422."""
    try:
        yield
    except DjangoValidationError as exc:
        raise Unprocessable("; ".join(exc.messages)) from None
