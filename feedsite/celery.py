import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "feedsite.settings")

app = Celery("feedsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect(dispatch_uid="feedsite.close_old_connections")
def close_old_connections(task=None, **kwargs) -> None:
    """Before each task, what Django does before each request: drop a database connection
    that failed or outlived CONN_MAX_AGE, and health-check the others on first use, so a
    worker reuses its connection (CELERY_DB_REUSE_MAX) and still survives a PostgreSQL
    restart. Eager tasks run inside their caller's connection and transaction: left alone."""
    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
