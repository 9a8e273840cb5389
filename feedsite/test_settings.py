"""Settings for the test suite: the real PostgreSQL (pytest-django creates test_<db>) and the
real Redis, on a database index of its own (TEST_REDIS_URL, default db 15) so tests never touch
a running instance's timelines or queue. Celery runs tasks eagerly unless a test starts a
real worker (tests/timelines/fanout/test_worker.py).

Under pytest-xdist each worker has its own databases: pytest-django names the PostgreSQL one
test_<db>_gwN, and worker gwN uses Redis db ``<TEST_REDIS_URL's db> - N`` (gw0 the db itself,
gw1 the one below, ...). Subprocesses the tests start get the shifted URL as TEST_REDIS_URL and
no PYTEST_XDIST_WORKER (tests.support.procs.child_env), so they never shift it again."""

import os
import urllib.parse

from django.core.exceptions import ImproperlyConfigured

from feedsite.settings import *  # noqa: F403


def xdist_redis_url(url: str, worker: str | None) -> str:
    """``url`` with its db index lowered by N for xdist worker ``gwN``."""
    if not worker:
        return url
    parsed = urllib.parse.urlparse(url)
    shifted = int(parsed.path.strip("/") or 0) - int(worker.removeprefix("gw"))
    if shifted < 0:
        raise ImproperlyConfigured(
            f"TEST_REDIS_URL {url} leaves no Redis db for xdist worker {worker}: use a higher db "
            "index (the default is 15) or fewer workers"
        )
    return parsed._replace(path=f"/{shifted}").geturl()


REDIS_URL = xdist_redis_url(
    os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), os.environ.get("PYTEST_XDIST_WORKER")
)
TIMELINE_REDIS_URL = REDIS_URL
# Tests start their own cluster (tests/conftest.py); a worker subprocess is pointed at it here.
TIMELINE_REDIS_CLUSTER_NODES = env_list("TEST_TIMELINE_REDIS_CLUSTER_NODES", "")  # noqa: F405
CELERY_BROKER_URL = REDIS_URL
CACHES = {"default": redis_cache(REDIS_URL)}  # noqa: F405
# A read replica alias served by the test database itself (MIRROR); routing to it is off
# (READ_REPLICA) except in the tests that turn it on (tests/feedsite/test_db_router.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
READ_REPLICA = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests never serve static files (and would warn that STATIC_ROOT was never collected).
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405
# Rate limits are off in tests except where a test turns them on (tests/feedsite/test_security.py),
# so the suite can post and follow freely. FEED_THROTTLES=on runs the whole suite with them.
FEED_THROTTLES = env_bool("FEED_THROTTLES", False)  # noqa: F405
