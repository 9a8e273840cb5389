"""The platform half of the Mastodon client API: OAuth, apps, instance. Every path clients
call answers with and without a trailing slash (Mastodon.py adds one, toot does not), except
the token and revoke POSTs, which clients send without one."""

from django.urls import path, re_path

from feedsite import instance
from feedsite.api import not_found
from feedsite.oauth import app_views, views


def both(route: str, view_class: type, name: str) -> list:
    """``route`` and ``route/``; the OpenAPI schema documents the first (Mastodon's spelling)."""
    slash_class = type(f"{view_class.__name__}Slash", (view_class,), {"schema": None})
    return [
        path(route, view_class.as_view(), name=name),
        path(f"{route}/", slash_class.as_view(), name=f"{name}-slash"),
    ]


urlpatterns = [
    *both("oauth/authorize", views.AuthorizeView, "oauth-authorize"),
    *both("oauth/token", views.MastodonTokenView, "oauth-token"),
    *both("oauth/revoke", views.MastodonRevokeView, "oauth-revoke"),
    re_path(r"^oauth/", not_found),
    *both("api/v1/apps", app_views.AppsView, "mastodon-apps"),
    *both("api/v1/apps/verify_credentials", app_views.AppVerifyView, "mastodon-apps-verify"),
    *both("api/v1/instance", instance.InstanceView, "mastodon-instance"),
    *both("api/v2/instance", instance.InstanceV2View, "mastodon-instance-v2"),
]
