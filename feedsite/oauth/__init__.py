"""OAuth 2 for the Mastodon client API: registered apps, scopes, the authorize / token /
revoke endpoints and bearer-token authentication with scope enforcement. See
docs/mastodon.md and docs/architecture.md#mastodon-oauth."""
