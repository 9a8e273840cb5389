from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from feedsite import views
from feedsite.api import not_found
from feedsite.mastodon import discovery
from feedsite.mastodon.grouped import GroupedNotificationsView
from feedsite.mastodon.schema import MastodonSchemaView
from feedsite.mastodon.search import SearchView
from graph.views import AccountViewSet, SuggestionsView, SuggestionView, TokenView
from posts.views import PostViewSet
from ranking.views import TrendingPostsView
from timelines.views import FeedViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("accounts", AccountViewSet, basename="account")
router.register("posts", PostViewSet, basename="post")
router.register("feed", FeedViewSet, basename="feed")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("api/auth/token/", TokenView.as_view(), name="auth-token"),
    path("api/trends/posts/", TrendingPostsView.as_view(), name="trends-posts"),
    path("api/suggestions/", SuggestionsView.as_view(), name="suggestions"),
    path("api/suggestions/<int:pk>/", SuggestionView.as_view(), name="suggestion"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/mastodon/", MastodonSchemaView.as_view(), name="schema-mastodon"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/notifications/", include("feedsite.notifications.urls")),
    path("api/", include(router.urls)),
    # The Mastodon client API's OAuth, apps and instance (docs/mastodon.md).
    path("", include("feedsite.oauth.urls")),
]
if settings.BENCH_ENDPOINTS:  # make bench's baselines (bench/views.py); off by default
    urlpatterns.append(path("api/bench/", include("bench.urls")))
urlpatterns += [
    path("api/v1/", include("feedsite.mastodon.urls")),
    re_path(r"^api/v2/search/?$", SearchView.as_view()),
    re_path(r"^api/v2/notifications/?$", GroupedNotificationsView.as_view()),
    re_path(r"^api/v2/suggestions/?$", discovery.SuggestionsView.as_view()),
]
urlpatterns.append(re_path(r"^api/", not_found))
