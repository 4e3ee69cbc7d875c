"""CallDeck settings, read from the environment and nowhere else.

Every variable has a safe default for the embedded demo. A value that cannot be
understood stops start-up with ImproperlyConfigured naming the variable, so a typo in a
deployment never silently falls back to a default.
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CALLDECK_VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of true/false/1/0/yes/no."
    )


def env_float(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be between {minimum} and {maximum}.")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_database(name: str, default: str) -> dict[str, object]:
    raw = os.environ.get(name, default)
    try:
        config: dict[str, object] = dict(dj_database_url.parse(raw, conn_max_age=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a database URL: {exc}") from None
    engine = str(config.get("ENGINE", ""))
    if engine == "django.db.backends.sqlite3":
        # WAL lets the dialer thread write while pages read; the busy timeout makes a
        # writer wait for the lock instead of failing with "database is locked".
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA busy_timeout=20000;",
        }
    elif engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"{name}={raw!r}: only sqlite:// and postgres:// are supported.")
    return config


def env_timezone(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not a known time zone.") from None
    return value


DEBUG = env_bool("DEBUG", False)
CALLDECK_DEMO = env_bool("CALLDECK_DEMO", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not CALLDECK_DEMO:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set (required unless DEBUG or CALLDECK_DEMO)."
        )
    SECRET_KEY = "calldeck-insecure-demo-key-do-not-use-in-production"  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'calldeck.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Run a dialer process (progressive / predictive campaigns) inside the web process
# (`make demo`); otherwise `manage.py rundialer` runs it on its own.
CALLDECK_EMBEDDED_DIALER = env_bool("CALLDECK_EMBEDDED_DIALER", False)
CALLDECK_TELEPHONY = env_choice("CALLDECK_TELEPHONY", "sim", ("sim", "sip"))
# Simulated world: time scale (2.0 = twice as fast as real time) and its random seed.
CALLDECK_SIM_SPEED = env_float("CALLDECK_SIM_SPEED", 1.0, minimum=0.01, maximum=1000.0)
CALLDECK_SIM_ANSWER_RATE = env_float("CALLDECK_SIM_ANSWER_RATE", 0.55, minimum=0.0, maximum=1.0)
CALLDECK_SIM_SEED = int(env_float("CALLDECK_SIM_SEED", 0, minimum=0, maximum=2**31))
# Dial attempts per customer per local day, over all campaigns (dialing.compliance).
CALLDECK_DAILY_CONTACT_LIMIT = int(
    env_float("CALLDECK_DAILY_CONTACT_LIMIT", 3, minimum=1, maximum=100)
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "django_htmx",
    "template_partials",
    "axes",
    "calldeck.accounts",
    "calldeck.audit",
    "calldeck.customers",
    "calldeck.callscripts",
    "calldeck.campaigns",
    "calldeck.calls",
    "calldeck.dialing",
    "calldeck.desk",
    "calldeck.reports",
    "calldeck.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "calldeck.urls"
ASGI_APPLICATION = "calldeck.asgi.application"
WSGI_APPLICATION = "calldeck.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "calldeck" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "calldeck.accounts.context_processors.navigation",
            ],
        },
    }
]

CHANNEL_LAYERS: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }

# Largest file an import accepts from the web (MB).
CALLDECK_IMPORT_MAX_MB = int(env_float("CALLDECK_IMPORT_MAX_MB", 200, minimum=1, maximum=10_000))
# Run a task worker (imports, daily lists) inside the web process (`make demo`).
CALLDECK_EMBEDDED_WORKER = env_bool("CALLDECK_EMBEDDED_WORKER", False)

# Background jobs (imports, daily lists): django-tasks on its database backend; a worker
# runs them (`manage.py db_worker`; `make demo` starts one beside the web process).
# CALLDECK_TASKS_IMMEDIATE=true runs them in the caller instead (tests, one-off tools).
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("CALLDECK_TASKS_IMMEDIATE", False)
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# Progress of running jobs, read by other processes while the job's own transaction is
# still open: the file cache under var/ by default, Redis when REDIS_URL is set.
CACHES: dict[str, dict[str, object]] = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    }
}
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "calldeck-login"
LOGIN_REDIRECT_URL = "calldeck-home"
LOGOUT_REDIRECT_URL = "calldeck-login"

AXES_FAILURE_LIMIT = int(env_float("CALLDECK_LOCKOUT_FAILURES", 5, minimum=1, maximum=100))
AXES_COOLOFF_TIME = env_float("CALLDECK_LOCKOUT_HOURS", 0.5, minimum=0.01, maximum=720)
# Lock the account, not the address: a centre's 300 agents share one NAT address, so an
# address lockout would stop the whole floor because of one typist.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"

LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "zh-hans", ("zh-hans", "en"))
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_timezone("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "calldeck" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded files (imports, their row reports): private, served only through views.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = True
# Without collected files (tests, a first run) serve straight from the app folders.
WHITENOISE_AUTOREFRESH = DEBUG or not STATIC_ROOT.is_dir()

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag instead.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING: dict[str, object] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
    },
    # The embedded task worker logs each poll at INFO; keep its warnings only.
    "loggers": {"axes": {"level": "WARNING"}, "django_tasks_db": {"level": "WARNING"}},
}
