"""Mastodon's OAuth scopes (docs.joinmastodon.org/api/oauth-scopes) and the one rule for
whether a set of granted scopes covers a required one. Rules: docs/architecture.md#mastodon-oauth.

Views declare ``required_scopes: dict[str, str]`` (HTTP method → scope, ``""`` for none);
``required_scope`` reads it, falling back to ``read`` for safe methods and ``write`` for
the rest, so an endpoint that declares nothing is never open to every token."""

from __future__ import annotations

from collections.abc import Iterable

from oauth2_provider.scopes import BaseScopes

_GRANULAR = {
    "read": ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
             "notifications", "search", "statuses"),
    "write": ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows",
              "lists", "media", "mutes", "notifications", "reports", "statuses"),
    "admin:read": ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks",
                   "email_domain_blocks", "canonical_email_blocks"),
    "admin:write": ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks",
                    "email_domain_blocks", "canonical_email_blocks"),
}  # fmt: skip
# The legacy ``follow`` scope grants exactly these (Mastodon keeps it for old apps).
FOLLOW_COVERS = frozenset({"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes",
                           "write:mutes"})  # fmt: skip
# Scopes another scope also satisfies: verify_credentials takes ``profile`` or ``read:accounts``.
ALSO_COVERED_BY = {"profile": frozenset({"read:accounts"})}

ALL_SCOPES: dict[str, str] = {
    "read": "Read all your account's data",
    "write": "Modify all your account's data",
    "follow": "Manage follows, blocks and mutes (legacy)",
    "push": "Receive push notifications",
    "profile": "Read your profile only",
    **{f"{parent}:{child}": f"{parent} {child.replace('_', ' ')}" for parent, children in _GRANULAR.items()
       for child in children},
    "admin:read": "Read all data on the server",
    "admin:write": "Modify all data on the server",
}  # fmt: skip
DEFAULT_SCOPES = ("read",)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def scope_parent(scope: str) -> str | None:
    """``read`` for ``read:statuses``, ``admin:read`` for ``admin:read:accounts``."""
    parent, _, _ = scope.rpartition(":")
    return parent or None


def scope_covers(granted: Iterable[str], required: str) -> bool:
    """Whether a token holding ``granted`` may do what needs ``required`` (``""``: nothing)."""
    granted = set(granted)
    if not required or required in granted or scope_parent(required) in granted:
        return True
    if required in FOLLOW_COVERS and "follow" in granted:
        return True
    return any(scope_covers(granted, other) for other in ALSO_COVERED_BY.get(required, ()))


def scopes_parse(text: str) -> list[str]:
    """A space- (or plus-) separated scope string as a list without duplicates, in order."""
    return list(dict.fromkeys(text.replace("+", " ").split()))


def scopes_unknown(scopes: Iterable[str]) -> list[str]:
    return [scope for scope in scopes if scope not in ALL_SCOPES]


def required_scope(view: object, method: str) -> str:
    """The scope ``view`` needs for ``method`` (``""`` for none)."""
    declared = getattr(view, "required_scopes", None) or {}
    if method in declared:
        return declared[method]
    if method == "HEAD" and "GET" in declared:
        return declared["GET"]
    return "read" if method in SAFE_METHODS else "write"


class MastodonScopes(BaseScopes):
    """DOT's scopes backend: an app may request its registered scopes and anything they
    cover (``read`` registered allows asking for ``read:statuses``)."""

    def get_all_scopes(self) -> dict[str, str]:
        return ALL_SCOPES

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        if application is None:
            return list(ALL_SCOPES)
        registered = scopes_parse(application.scopes)
        return [scope for scope in ALL_SCOPES if scope_covers(registered, scope)]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return list(DEFAULT_SCOPES)
