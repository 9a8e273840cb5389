"""BRIN indexes on the engagement tables' created_at: the trends query (ranking.trends) reads
the last window's likes, comments and shares of all posts. Rows arrive in time order, so a
BRIN index (a few pages for millions of rows) finds the window without a table scan. Created
here, with the trends, rather than in posts/, which never filters on these columns alone."""

from django.db import migrations

TABLES = ("posts_like", "posts_comment", "posts_post")


class Migration(migrations.Migration):
    dependencies = [("ranking", "0003_trends"), ("posts", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS trends_{table}_created_brin ON {table} USING brin (created_at)",
            reverse_sql=f"DROP INDEX IF EXISTS trends_{table}_created_brin",
        )
        for table in TABLES
    ]
