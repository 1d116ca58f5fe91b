"""agenthost settings: every knob comes from the environment (see README)."""

from __future__ import annotations

import secrets
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from agenthost.env import env_bool, env_float, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(env_str("AGENTHOST_STATE_DIR") or BASE_DIR / ".agenthost")

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])


def _secret_key() -> str:
    configured = env_str("SECRET_KEY")
    if configured:
        return configured
    key_file = STATE_DIR / "secret_key"
    if not key_file.exists():
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    warnings.warn(
        f"SECRET_KEY is not set; using the development key kept in {key_file}. "
        "Set SECRET_KEY in production.",
        stacklevel=1,
    )
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "channels",
    "apps.tenancy",
    "apps.apikeys",
    "apps.graphs",
    "apps.assistants",
    "apps.threads",
    "apps.runs",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "apps.tenancy.middleware.TenantScopeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "agenthost.urls"
ASGI_APPLICATION = "agenthost.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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


def _databases() -> dict[str, dict[str, object]]:
    url = env_url("DATABASE_URL", {"postgres", "postgresql", "sqlite"})
    if url:
        config = dj_database_url.parse(url, conn_max_age=0)
        if config["ENGINE"] == "django.db.backends.postgresql":
            config["TEST"] = {"NAME": env_str("AGENTHOST_TEST_DATABASE_NAME")}
            return {"default": config}
        if config["ENGINE"] != "django.db.backends.sqlite3":
            raise ImproperlyConfigured("DATABASE_URL must name PostgreSQL or SQLite")
        sqlite_path = config["NAME"]
    else:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        sqlite_path = str(STATE_DIR / "db.sqlite3")
    # A web process and a worker write at once: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock up front (no upgrade deadlock), and the timeout
    # waits for the lock instead of failing with "database is locked".
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": f"{sqlite_path}.test"},
        }
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = STATE_DIR / "static"

REDIS_URL = env_url("REDIS_URL", {"redis", "rediss", "unix"}) or "redis://127.0.0.1:6379/0"

# Celery: JSON only, late acks, one task prefetched at a time (runs are long).
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", {"redis", "rediss"}) or REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
# The queue runs are sent to and workers consume: one per worker pool sharing a broker.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")

# CORS for browsers on other origins (the React useStream hook, a tenant's own app).
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_ALL_ORIGINS = env_bool("CORS_ALLOW_ALL_ORIGINS", False)
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "cache-control",
    "content-type",
    "last-event-id",
    "x-api-key",
    "x-request-id",
    "user-agent",
]
CORS_EXPOSE_HEADERS = ["Content-Location", "Location", "X-Pagination-Next"]

# Graph catalogue: a langgraph.json-style file; unset means the built-in catalogue.
AGENTHOST_GRAPHS = env_str("AGENTHOST_GRAPHS") or None

# Run engine knobs.
AGENTHOST_SSE_HEARTBEAT_SECONDS = env_float("AGENTHOST_SSE_HEARTBEAT_SECONDS", 5.0, minimum=0.05)
AGENTHOST_WAIT_KEEPALIVE_SECONDS = env_float("AGENTHOST_WAIT_KEEPALIVE_SECONDS", 5.0, minimum=0.05)
AGENTHOST_STREAM_MAXLEN = env_int("AGENTHOST_STREAM_MAXLEN", 200_000, minimum=100)
AGENTHOST_STREAM_TTL_SECONDS = env_int("AGENTHOST_STREAM_TTL_SECONDS", 3600, minimum=10)
AGENTHOST_RUN_LEASE_SECONDS = env_float("AGENTHOST_RUN_LEASE_SECONDS", 30.0, minimum=1.0)
AGENTHOST_REAPER_INTERVAL_SECONDS = env_float(
    "AGENTHOST_REAPER_INTERVAL_SECONDS", 10.0, minimum=0.1
)
AGENTHOST_RUN_MAX_ATTEMPTS = env_int("AGENTHOST_RUN_MAX_ATTEMPTS", 3, minimum=1)
AGENTHOST_RUN_TIMEOUT_SECONDS = env_float("AGENTHOST_RUN_TIMEOUT_SECONDS", 86400.0, minimum=1.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
