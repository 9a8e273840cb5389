"""What every Mastodon view shares: the body types Mastodon clients send (form, multipart,
JSON), signed-in access, errors as ``{"error": …}``, ``required_scopes`` (HTTP method →
Mastodon scope, enforced for OAuth tokens by the API's scope permission) and reading
Mastodon's parameter shapes (``name[]`` lists, "true"/"1" booleans) from the query string or
the body."""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from feedsite.mastodon.errors import Unprocessable, mastodon_exception_handler
from feedsite.mastodon.schema import MastodonAutoSchema

_TRUE = {"1", "true", "t", "yes", "on"}
_FALSE = {"", "0", "false", "f", "no", "off"}


class MastodonView(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    # Signed in, plus the API-wide permissions (where the scope check of OAuth tokens lives).
    permission_classes = [IsAuthenticated, *api_settings.DEFAULT_PERMISSION_CLASSES]
    required_scopes: dict[str, str] = {}
    schema = MastodonAutoSchema()

    def get_exception_handler(self):
        return mastodon_exception_handler


def body(request: Request) -> Any:
    """The request body's parameters (a form's QueryDict or a JSON object); 422 otherwise."""
    data = request.data
    if not hasattr(data, "get"):
        raise Unprocessable("The request body must be a JSON object or a form.")
    return data


def _source(request: Request, *, query: bool) -> Any:
    return request.query_params if query else body(request)


def param(request: Request, name: str, *, query: bool = False) -> str | None:
    """A text parameter, or None when absent (JSON null counts as absent)."""
    value = _source(request, query=query).get(name)
    if value is None:
        return None
    if isinstance(value, bool | int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if not isinstance(value, str):
        raise Unprocessable(f"{name} must be a string.")
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise Unprocessable(f"{name} must not contain NUL characters.")
    return value


def param_list(request: Request, name: str, *, query: bool = False) -> list[str]:
    """A list parameter: ``name[]=a&name[]=b`` (form, query) or a JSON list."""
    source = _source(request, query=query)
    if hasattr(source, "getlist"):
        values = source.getlist(f"{name}[]") or source.getlist(name)
    else:
        values = source.get(name) or source.get(f"{name}[]") or []
        values = values if isinstance(values, list) else [values]
    if not all(isinstance(v, str | int) and not isinstance(v, bool) and "\x00" not in str(v) for v in values):
        raise Unprocessable(f"{name} must be a list of ids.")
    return [str(v) for v in values]


def param_bool(request: Request, name: str, *, query: bool = False) -> bool:
    value = param(request, name, query=query)
    if value is None:
        return False
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise Unprocessable(f"{name} must be true or false.")
