from django.apps import AppConfig


class TimelinesConfig(AppConfig):
    name = "timelines"

    def ready(self) -> None:
        from timelines import signals  # noqa: F401  (connects the post_save fan-out hook)
