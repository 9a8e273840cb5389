"""Signals posts sends beyond Django's model signals: a soft delete is an UPDATE, so apps that
keep rows about a post (notifications) hear of it here. Sent inside the deleting transaction."""

from django.dispatch import Signal

post_deleted = Signal()  # kwargs: post_id
