"""Ranking's knobs move out of the feed configuration: the values in force are copied into the
new row before timelines 0010 drops the old columns (and copied back if that is reversed)."""

from django.db import migrations

SINGLETON_ID = 1
# The fields as they were in timelines.FeedConfig at timelines 0009 (not the live model's list).
FIELDS = (
    "default_feed_mode",
    "rank_candidates",
    "rank_max_author_run",
    "rank_cold_start_interactions",
    "rank_recency_half_life_hours",
    "rank_engagement_half_life_hours",
    "rank_affinity_days",
    "rank_like_weight",
    "rank_comment_weight",
    "rank_share_weight",
    "rank_engagement_weight",
    "rank_affinity_weight",
    "rank_popularity_weight",
    "rank_media_boost",
    "rank_snapshot_ttl_seconds",
)


def copy_values(source, target) -> None:
    row = source.objects.filter(pk=SINGLETON_ID).first()
    values = {name: getattr(row, name) for name in FIELDS} if row is not None else {}
    target.objects.update_or_create(pk=SINGLETON_ID, defaults=values)


def forwards(apps, schema_editor):
    copy_values(apps.get_model("timelines", "FeedConfig"), apps.get_model("ranking", "RankingConfig"))


def backwards(apps, schema_editor):
    copy_values(apps.get_model("ranking", "RankingConfig"), apps.get_model("timelines", "FeedConfig"))


class Migration(migrations.Migration):

    dependencies = [
        ("ranking", "0001_ranking_config"),
        ("timelines", "0009_fanout_chunk_10000"),  # FeedConfig still has the rank_* columns
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
