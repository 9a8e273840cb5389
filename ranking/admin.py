from django.contrib import admin

from feedsite.singleton import SingletonAdmin
from ranking.models import RANKING_FIELDS, RankingConfig


@admin.register(RankingConfig)
class RankingConfigAdmin(SingletonAdmin):
    list_display = ["__str__", "default_feed_mode", "rank_candidates", "updated_at"]
    fieldsets = (("Ranked feeds", {"fields": list(RANKING_FIELDS)}),)
