import django.core.validators
from django.db import migrations, models


def chunk_10000(apps, schema_editor):
    # Rows still at the old default follow the new one (measured after the fan-out speed-up:
    # an extra chunk task costs more than the parallelism it buys); a value someone chose stays.
    apps.get_model("timelines", "FeedConfig").objects.filter(fanout_chunk_size=5000).update(fanout_chunk_size=10000)


def chunk_5000(apps, schema_editor):
    apps.get_model("timelines", "FeedConfig").objects.filter(fanout_chunk_size=10000).update(fanout_chunk_size=5000)


class Migration(migrations.Migration):

    dependencies = [
        ("timelines", "0008_pendingchunk_uncompressed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="feedconfig",
            name="fanout_chunk_size",
            field=models.PositiveIntegerField(
                default=10000,
                help_text="Followers per fan-out chunk task (one Redis round trip each). Fan-out pushes the first chunk itself; bigger chunks mean fewer tasks, smaller ones more parallelism.",
                validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10000)],
            ),
        ),
        migrations.RunPython(chunk_10000, chunk_5000),
    ]
