"""The Mastodon resource endpoints, mounted at /api/v1/ (feedsite/urls.py). Every path answers
with and without a trailing slash: Mastodon.py adds one, toot does not."""

from __future__ import annotations

from django.urls import re_path

from feedsite.mastodon import accounts, discovery, markers, notifications, search, statuses, timelines

ID = r"(?P<account_id>[^/]+)"
STATUS = r"(?P<status_id>[^/]+)"
NOTIFICATION = r"(?P<notification_id>[^/]+)"


def both(route: str, view, **kwargs):
    """``route`` (no leading or trailing slash) with an optional trailing slash."""
    return re_path(rf"^{route}/?$", view, kwargs or None)


urlpatterns = [
    both("accounts/verify_credentials", accounts.VerifyCredentialsView.as_view()),
    both("accounts/lookup", accounts.LookupView.as_view()),
    both("accounts/relationships", accounts.RelationshipsView.as_view()),
    both("accounts/search", search.AccountSearchView.as_view()),
    both(f"accounts/{ID}", accounts.AccountView.as_view()),
    both(f"accounts/{ID}/statuses", accounts.AccountStatusesView.as_view()),
    both(f"accounts/{ID}/follow", accounts.FollowView.as_view()),
    both(f"accounts/{ID}/unfollow", accounts.UnfollowView.as_view()),
    both(f"accounts/{ID}/block", accounts.BlockView.as_view()),
    both(f"accounts/{ID}/unblock", accounts.UnblockView.as_view()),
    both(f"accounts/{ID}/mute", accounts.MuteView.as_view()),
    both(f"accounts/{ID}/unmute", accounts.UnmuteView.as_view()),
    both(f"accounts/{ID}/followers", accounts.FollowEdgesView.as_view(), side="followers"),
    both(f"accounts/{ID}/following", accounts.FollowEdgesView.as_view(), side="following"),
    both("statuses", statuses.StatusesView.as_view()),
    both(f"statuses/{STATUS}", statuses.StatusView.as_view()),
    both(f"statuses/{STATUS}/context", statuses.StatusContextView.as_view()),
    both(f"statuses/{STATUS}/favourite", statuses.FavouriteActionView.as_view(), verb="favourite"),
    both(f"statuses/{STATUS}/unfavourite", statuses.FavouriteActionView.as_view(), verb="unfavourite"),
    both(f"statuses/{STATUS}/reblog", statuses.StatusActionView.as_view(), verb="reblog"),
    both(f"statuses/{STATUS}/unreblog", statuses.StatusActionView.as_view(), verb="unreblog"),
    both(f"statuses/{STATUS}/favourited_by", statuses.StatusAccountsView.as_view(), relation="favourited_by"),
    both(f"statuses/{STATUS}/reblogged_by", statuses.StatusAccountsView.as_view(), relation="reblogged_by"),
    both("timelines/home", timelines.HomeTimelineView.as_view()),
    both("markers", markers.MarkersView.as_view()),
    both("notifications", notifications.NotificationsView.as_view()),
    both("notifications/clear", notifications.NotificationsClearView.as_view()),
    both(f"notifications/{NOTIFICATION}", notifications.NotificationView.as_view()),
    both(f"notifications/{NOTIFICATION}/dismiss", notifications.NotificationDismissView.as_view()),
    both("trends/statuses", discovery.TrendingStatusesView.as_view()),
    both(f"suggestions/{ID}", discovery.SuggestionView.as_view()),
]
