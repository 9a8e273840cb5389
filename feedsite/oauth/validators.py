"""DOT's request validator, for Mastodon clients: the password grant signs in by username or
email (docs/architecture.md#mastodon-oauth)."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from feedsite.oauth.selectors import login_username


class MastodonValidator(OAuth2Validator):
    def validate_user(self, username, password, client, request, *args, **kwargs) -> bool:
        return super().validate_user(
            login_username(login=username), password, client, request, *args, **kwargs
        )
