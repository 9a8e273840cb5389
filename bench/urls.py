from django.urls import path

from bench.views import PingView, PullFeedView

urlpatterns = [
    path("ping/", PingView.as_view(), name="bench-ping"),
    path("pull-feed/", PullFeedView.as_view(), name="bench-pull-feed"),
]
