import logging

from django.apps import AppConfig

# The password grant is on by choice (Mastodon.py's log_in and toot's login_cli use it;
# docs/mastodon.md#oauth); DOT warns and logs on every use of it.
PASSWORD_GRANT_NOTICE = "The OAuth 2.0 resource owner password credentials grant"


class _DropPasswordGrantNotice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(PASSWORD_GRANT_NOTICE)


class OAuthConfig(AppConfig):
    name = "feedsite.oauth"
    label = "oauth"
    verbose_name = "OAuth apps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        logging.getLogger("oauth2_provider").addFilter(_DropPasswordGrantNotice())
