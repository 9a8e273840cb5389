from django.db import migrations


def create_config_row(apps, schema_editor):
    # The singleton exists from the start, so concurrent first reads never race to create it.
    apps.get_model("timelines", "FeedConfig").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("timelines", "0001_initial")]

    operations = [migrations.RunPython(create_config_row, migrations.RunPython.noop)]
