"""The Mastodon client API (docs/mastodon.md): Mastodon's entities and endpoints over our
accounts, posts and feed, so unmodified Mastodon apps and libraries use feedsite."""
