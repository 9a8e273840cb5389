"""Mastodon's errors: its statuses (422 for invalid parameters) and its body, ``{"error": …}``,
for every exception a Mastodon view raises (MastodonView.get_exception_handler)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from feedsite.api import exception_handler


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


def mastodon_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The API's handler (feedsite.api.exception_handler: translations, messages), then the
    body in Mastodon's shape, ``{"error": "<message>"}``, which both clients read. Idempotent:
    a body that already has ``error`` is left as it is."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "error" not in response.data:
        response.data = {"error": str(response.data.get("detail", "Error"))}
    return response
