"""/api/notifications/ (mounted in feedsite/urls.py)."""

from django.urls import path

from feedsite.notifications import views

urlpatterns = [
    path("", views.NotificationListView.as_view(), name="notification-list"),
    path("clear/", views.NotificationClearView.as_view(), name="notification-clear"),
    path("read/", views.NotificationReadView.as_view(), name="notification-read"),
    path("unread_count/", views.NotificationUnreadView.as_view(), name="notification-unread"),
    path(
        "<int:notification_id>/dismiss/", views.NotificationDismissView.as_view(), name="notification-dismiss"
    ),
]
