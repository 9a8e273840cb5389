from __future__ import annotations

from rest_framework import serializers

from graph.models import Account
from timelines.public import account_fanout_mode


class AccountCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class AccountSerializer(serializers.ModelSerializer):
    """Needs ``feed_config`` in its context to tell the effective fan-out mode."""

    fanout_mode = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ["id", "username", "followers_count", "following_count", "fanout_mode"]
        read_only_fields = fields

    def get_fanout_mode(self, account: Account) -> str:
        return account_fanout_mode(account=account, config=self.context["feed_config"])
