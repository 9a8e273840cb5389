from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "feedsite.notifications"
    label = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from feedsite.notifications import signals  # noqa: F401  (connects the receivers)
