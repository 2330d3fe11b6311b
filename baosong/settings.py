"""Baosong settings: one file, read from the environment, safe defaults for the SQLite demo."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from baosong.lib.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("BAOSONG_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# Production behind HTTPS (nginx): secure cookies, HSTS, redirect. Off for the local HTTP demo.
HTTPS = env_bool("BAOSONG_HTTPS", False)


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        return key
    if HTTPS:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment in production")
    # The local demo keeps a generated key under var/ so sessions survive a restart.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
USE_X_FORWARDED_FOR = env_bool("USE_X_FORWARDED_FOR", False)
# PostgreSQL: the score ledger's hot statements run as server-side prepared statements (see
# scoring.ledger._prepared); turn off behind a pooler in transaction mode (pgbouncer < 1.21).
BAOSONG_DB_PREPARE = env_bool("DB_PREPARE", True)
# Processes a recompute may use to replay a period (see baosong.lib.forked); 1 turns it off.
BAOSONG_WORKERS = env_int("BAOSONG_WORKERS", min(os.cpu_count() or 1, 4))
# Adopting a scheme version from a past day replays the events since: up to this many items at
# once, in the request; more in the background (docs/scoring.md).
BAOSONG_RECOMPUTE_INLINE_ITEMS = env_int("BAOSONG_RECOMPUTE_INLINE_ITEMS", 3000)
# A background recompute running longer than this is taken as interrupted (it may be restarted).
BAOSONG_RECOMPUTE_STALE_MINUTES = env_int("BAOSONG_RECOMPUTE_STALE_MINUTES", 60)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves its Swagger UI from our static files, not a CDN
    "django_htmx",
    "template_partials",
    "axes",
    "baosong.audit",
    "baosong.orgs",
    "baosong.submissions",
    "baosong.publications",
    "baosong.scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "baosong.lib.locale.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "baosong.orgs.middleware.SessionLimitsMiddleware",
    "baosong.orgs.middleware.LoginRequiredByDefaultMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "baosong.urls"
WSGI_APPLICATION = "baosong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "baosong" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "baosong.orgs.context.navigation",
                "baosong.submissions.nav.item_counts",
                "baosong.submissions.context.notifications",
            ],
        },
    },
]

# Databases: SQLite under var/ by default, PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'baosong.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL for concurrent readers, FULL so an acknowledged write survives power loss,
        # IMMEDIATE so writers queue on the busy timeout instead of failing mid-transaction.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 25,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "orgs.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "baosong.orgs.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "baosong.orgs.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "baosong.orgs.passwords.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: 30 minutes idle, 12 hours absolute (SessionLimitsMiddleware refreshes the idle clock at
# most once a minute, so reading pages does not turn every request into a database write).
SESSION_COOKIE_AGE = 30 * 60
SESSION_IDLE_SECONDS = 30 * 60
SESSION_TOUCH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False

# Lockout: 5 failures lock the account and, separately, the IP, for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "baosong.orgs.views_auth.locked_out"
AXES_CLIENT_IP_CALLABLE = "baosong.lib.http.client_ip"
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# Sign-ins are recorded in Baosong's own audit trail; axes keeps only the failure counters.
AXES_DISABLE_ACCESS_LOG = True

# HTTPS flags follow BAOSONG_HTTPS (see docs/deploy.md).
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "baosong" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "baosong" / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "baosong@localhost")

# Links in emails point here.
BAOSONG_BASE_URL = env_str("BAOSONG_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Attachments live outside the web root and are served only through access checks.
UPLOAD_ROOT = Path(env_str("BAOSONG_UPLOAD_ROOT", str(VAR_DIR / "uploads")))

# LibreOffice for PDF exports of issues; found on PATH when empty.
SOFFICE_BINARY = env_str("SOFFICE_BINARY", "")

# Uploaded registers: refuse anything larger before parsing.
IMPORT_MAX_BYTES = env_int("BAOSONG_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
