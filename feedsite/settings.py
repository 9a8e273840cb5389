"""Settings for feedsite. Every knob comes from the environment with a safe development default.

Production: set DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_BOOL_SPELLINGS = "1/0, true/false, yes/no, on/off"


def env_bool(name: str, default: bool) -> bool:
    """``name`` as a boolean: 1/0, true/false, yes/no, on/off in any case; unset or empty is
    ``default``. Anything else stops start-up, so a typo ("ture") is never silently false."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a boolean; accepted, in any case: {_BOOL_SPELLINGS}, "
        f"or empty for the default ({default})."
    )


def env_int(name: str, default: int) -> int:
    """``name`` as an integer; unset or empty is ``default``, anything else stops start-up."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={os.environ[name]!r} is not an integer; leave it empty for the default ({default})."
        ) from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
CSRF_FAILURE_VIEW = "feedsite.api.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "feedsite.oauth",
    "graph",
    "posts",
    "timelines",
    "ranking",
    "feedsite.mastodon",
    "feedsite.notifications",
]

MIDDLEWARE = [
    "feedsite.middleware.DatabaseUnavailableMiddleware",
    "feedsite.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "feedsite.urls"
WSGI_APPLICATION = "feedsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/feedsite"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A streaming replica of the same database. Set, fan-out reads follower lists from it
# (feedsite.db_router); a fan-out waits until the replica has replayed its post.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
READ_REPLICA = "replica" if DATABASE_REPLICA_URL else None
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
DATABASE_ROUTERS = ["feedsite.db_router.ReplicaRouter"]
# Fail fast when PostgreSQL is unreachable (feedsite.middleware answers 503 + Retry-After).
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3))
# Queries run through feedsite.db.prepared_cursor are prepared on first use, per connection,
# on every database (fan-out's follower query may run on the replica). Django's own cursors
# bind client-side and never prepare.
for _database in DATABASES.values():
    _database.setdefault("OPTIONS", {}).setdefault("prepare_threshold", 0)
    # No JIT: it pays off for long analytic queries; compiling the feed's rebuild queries cost
    # several times their run (docs/operations.md). "" sends no options (PgBouncer).
    if _session_options := os.environ.get("DB_SESSION_OPTIONS", "-c jit=off"):
        _database["OPTIONS"].setdefault("options", _session_options)
DB_UNAVAILABLE_RETRY_AFTER = env_int("DB_UNAVAILABLE_RETRY_AFTER", 5)
# Request bodies above this are a 413 (the largest valid one, a post, is far smaller).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 64 * 1024)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "graph.Account"

# Argon2id first (feedsite.hashers: Django's, with OWASP's cost settings): new and re-set
# passwords use it; PBKDF2 hashes still verify and are re-hashed with Argon2 at the next
# sign-in (docs/performance.md#logins).
PASSWORD_HASHERS = [
    "feedsite.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# One Redis URL for the Celery broker, the Django cache and the timeline store
# (cookiecutter-django style); TIMELINE_REDIS_URL splits the timelines off when needed.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TIMELINE_REDIS_URL = os.environ.get("TIMELINE_REDIS_URL", REDIS_URL)
# host:port of some Redis Cluster nodes (the rest are discovered). Set, it replaces
# TIMELINE_REDIS_URL for timelines and outboxes (see timelines.store).
TIMELINE_REDIS_CLUSTER_NODES = env_list("TIMELINE_REDIS_CLUSTER_NODES", "")
# On a cluster, writes that add posts wait until this many replicas of the shard have them
# (capped by the replicas the shard has), so a failover cannot lose them; 0 turns it off.
TIMELINE_REDIS_REPLICA_ACKS = env_int("TIMELINE_REDIS_REPLICA_ACKS", 1)
TIMELINE_REDIS_REPLICA_ACK_TIMEOUT_MS = env_int("TIMELINE_REDIS_REPLICA_ACK_TIMEOUT_MS", 200)


def redis_cache(location: str) -> dict:
    """The Django cache (throttle counters). It fails open: with Redis down a cache read is a
    miss and a write is dropped, so throttles let requests through instead of answering 500."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": "cache",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }


CACHES = {"default": redis_cache(REDIS_URL)}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        # Authorization: Bearer (OAuth 2, Mastodon clients), scopes enforced (feedsite.oauth).
        "feedsite.oauth.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    # Request bodies are JSON, the one content type /api/schema/ declares (PARSER_WHITELIST
    # below), so a generated client has one body type per operation. Form and multipart are
    # parsed only with DEBUG on, where the browsable API is served: its HTML forms post them.
    # With DEBUG off they are a 415. graph.views.TokenView uses this list too.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"]
    + (["rest_framework.parsers.FormParser", "rest_framework.parsers.MultiPartParser"] if DEBUG else []),
    "EXCEPTION_HANDLER": "feedsite.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "feedsite.schema.FeedsiteAutoSchema",
    # Throttles key anonymous clients by REMOTE_ADDR unless told how many proxies to trust
    # (X-Forwarded-For is client-controlled otherwise).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Celery: ids-only tasks, acknowledged after they finish so a killed worker's chunk is redelivered.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes every database connection before and after each task unless
# this is set: a new PostgreSQL connection (and server process) per task, several ms of a
# fan-out's time. Workers keep them like web requests do instead (feedsite.celery).
CELERY_DB_REUSE_MAX = 1_000_000_000
# Fan-out runs on two queues so one big post cannot delay everyone else's: push fan-outs to
# at least FANOUT_BULK_THRESHOLD followers (and their chunks) go to `fanout_bulk`, the rest
# to `fanout` (timelines.tasks). Other tasks stay on Celery's default queue, `celery`.
FANOUT_BULK_THRESHOLD = env_int("FANOUT_BULK_THRESHOLD", 1_000)
# A worker started without --queues consumes all three.
CELERY_TASK_QUEUES = [Queue("celery"), Queue("fanout"), Queue("fanout_bulk")]
CELERY_TASK_ROUTES = {
    "timelines.tasks.fanout_post": {"queue": "fanout"},
    "timelines.tasks.fanout_chunk": {"queue": "fanout"},
}
# With acks_late on the Redis broker an unacknowledged message is redelivered after this many
# seconds; it must exceed the longest chunk and any retry countdown (see timelines.tasks).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # kombu scans for expired unacked messages every interval x throttle seconds (100 s by
    # default); with a short visibility timeout (tests) scan as often as it expires.
    **(
        {"unacked_restore_interval": max(1, CELERY_VISIBILITY_TIMEOUT // 2), "unacked_restore_throttle": 1}
        if CELERY_VISIBILITY_TIMEOUT < 100
        else {}
    ),
    # A publish to a dead broker fails within seconds (the post stays pending for the sweeper)
    # instead of holding the request.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 1,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}

# The fan-out sweeper (timelines.fanout.ledger.fanout_sweep): posts still pending this many seconds
# after creation are enqueued again; Celery beat runs it every FANOUT_SWEEP_INTERVAL seconds.
FANOUT_SWEEP_GRACE_SECONDS = env_int("FANOUT_SWEEP_GRACE", 60)
CELERY_BEAT_SCHEDULE = {
    "sweep-fanout": {
        "task": "timelines.tasks.sweep_fanout",
        "schedule": env_int("FANOUT_SWEEP_INTERVAL", 60),
    },
    # Trending posts (ranking.tasks.refresh_trends): recomputed into Redis every this many seconds.
    "refresh-trends": {
        "task": "ranking.tasks.refresh_trends",
        "schedule": env_int("TRENDS_REFRESH_INTERVAL", 60),
    },
}

# Serve make bench's baseline endpoints under /api/bench/ (bench/views.py). Benchmarks only.
BENCH_ENDPOINTS = env_bool("BENCH_ENDPOINTS", False)
# Notifications (docs/operations.md#notifications): off only for the benchmark's baseline.
NOTIFICATIONS = env_bool("NOTIFICATIONS", True)

# Rate limits (feedsite.throttles): "N/second|minute|hour|day" per user, or per client IP for
# account creation and token requests. FEED_THROTTLES=off turns them off (load tests, demos).
FEED_THROTTLES = env_bool("FEED_THROTTLES", True)
FEED_THROTTLE_RATES = {
    "post": os.environ.get("THROTTLE_POST_RATE", "30/minute"),
    "follow": os.environ.get("THROTTLE_FOLLOW_RATE", "60/minute"),
    "signup": os.environ.get("THROTTLE_SIGNUP_RATE", "10/hour"),
    "token": os.environ.get("THROTTLE_TOKEN_RATE", "20/minute"),
    # /oauth/token per client id and per login name, on top of "token" per IP.
    "token_client": os.environ.get("THROTTLE_TOKEN_CLIENT_RATE", "60/minute"),
    "token_account": os.environ.get("THROTTLE_TOKEN_ACCOUNT_RATE", "10/minute"),
    "app": os.environ.get("THROTTLE_APP_RATE", "30/hour"),
}

# OAuth 2 for Mastodon clients (django-oauth-toolkit; feedsite.oauth, docs/mastodon.md).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth.Application"
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "feedsite.oauth.scopes.MastodonScopes",
    "OAUTH2_VALIDATOR_CLASS": "feedsite.oauth.validators.MastodonValidator",
    "OAUTH2_BACKEND_CLASS": "feedsite.oauth.backends.FormOrJSONOAuthLibCore",
    # Mastodon's tokens do not expire and neither client refreshes; ten years stands in
    # for "never" (revoke ends a token). OAUTH_TOKEN_SECONDS shortens it.
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OAUTH_TOKEN_SECONDS", 10 * 365 * 24 * 3600),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 600,
    # Neither client sends PKCE; it is checked when sent.
    "PKCE_REQUIRED": False,
    # Mastodon.py's log_in(user, password) and toot's login_cli use the password grant.
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": False,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}
# The Instance entity (/api/v1/instance, /api/v2/instance). INSTANCE_DOMAIN empty: the
# request's host. STREAMING_API_URL: where the streaming server listens.
INSTANCE_DOMAIN = os.environ.get("INSTANCE_DOMAIN", "")
INSTANCE_TITLE = os.environ.get("INSTANCE_TITLE", "feedsite")
INSTANCE_DESCRIPTION = os.environ.get("INSTANCE_DESCRIPTION", "A social news feed.")
INSTANCE_CONTACT_EMAIL = os.environ.get("INSTANCE_CONTACT_EMAIL", "")
STREAMING_API_URL = os.environ.get("STREAMING_API_URL", "ws://127.0.0.1:8001")
# The stream server (feedsite/streaming, docs/operations.md#stream-server): heartbeat comment
# period, per-connection send queue (messages; a stream that falls this far behind is closed),
# open streams per account and process (429 past it), the retry hint sent when closing.
STREAM_HEARTBEAT_SECONDS = env_int("STREAM_HEARTBEAT_SECONDS", 15)
STREAM_QUEUE_MAX = env_int("STREAM_QUEUE_MAX", 256)
STREAM_MAX_PER_ACCOUNT = env_int("STREAM_MAX_PER_ACCOUNT", 4)
STREAM_RETRY_MS = env_int("STREAM_RETRY_MS", 2000)
# The Redis the stream server subscribes and sets markers on; empty: TIMELINE_REDIS_URL, where
# the fan-out publishes (the markers share the timelines' slots).
STREAM_REDIS_URL = os.environ.get("STREAM_REDIS_URL", "")
# Pushed posts reach open streams only with this on: the publish rides in each fan-out batch's
# round trip but still costs fan-out throughput (docs/performance.md, "Live feed"), so it stays
# off by default until the cheaper design lands. make run turns it on.
STREAM_PUBLISH_PUSHED = env_bool("STREAM_PUBLISH_PUSHED", False)

SPECTACULAR_SETTINGS = {
    "TITLE": "feedsite API",
    "DESCRIPTION": "A social news feed: accounts, follows, posts and a hybrid push/pull home feed.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies in the schema are JSON only, whatever DEBUG adds (DEFAULT_PARSER_CLASSES).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Swagger UI's assets come from drf-spectacular-sidecar, served as our own static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The Mastodon client API has its own schema, /api/schema/mastodon/ (feedsite/mastodon/schema.py).
    "PREPROCESSING_HOOKS": ["feedsite.mastodon.schema.without_mastodon"],
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)

# Celery workers log through the LOGGING below when JSON logs are asked for.
CELERY_WORKER_HIJACK_ROOT_LOGGER = os.environ.get("LOG_FORMAT", "plain") != "json"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "feedsite.logs.JsonFormatter"},
    },
    # LOG_FORMAT=json: one JSON object per line, with fan-out and rebuild fields (feedsite.logs).
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if os.environ.get("LOG_FORMAT", "plain") == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
