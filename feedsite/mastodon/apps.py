from django.apps import AppConfig


class MastodonConfig(AppConfig):
    name = "feedsite.mastodon"
    label = "mastodon"
    default_auto_field = "django.db.models.BigAutoField"
