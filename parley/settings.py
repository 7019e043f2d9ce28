"""Parley settings, read from the environment.

With no environment at all Parley runs its embedded default: SQLite in ``db.sqlite3`` at the
repository root, the in-memory channel layer and Celery tasks run in-process. Setting
``DATABASE_URL`` and ``REDIS_URL`` gives the production shape (PostgreSQL, Redis, workers).
"""

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """Read a setting from the environment, or from the file named by ``<NAME>_FILE``."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
TESTING = "pytest" in sys.modules or env_bool("PARLEY_TESTING")
DATABASE_URL = env("DATABASE_URL")
# The embedded default (no DATABASE_URL) runs on one machine for one user: it may invent what
# production must be given.
EMBEDDED = not DATABASE_URL


def _embedded_secret_key() -> str:
    """A key made once and kept beside db.sqlite3, so sessions and credentials survive restarts."""
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("SECRET_KEY") or ""
if not SECRET_KEY:
    if TESTING:
        SECRET_KEY = "parley-tests-only-key"  # noqa: S105
    elif EMBEDDED:
        SECRET_KEY = _embedded_secret_key()
    else:
        raise ImproperlyConfigured("SECRET_KEY is required when DATABASE_URL is set.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or (
    ["localhost", "127.0.0.1", "[::1]"] if EMBEDDED or TESTING else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DATABASE_URL is set.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Credentials are encrypted with keys derived from this list (first one encrypts, all decrypt),
# so keys can be rotated. Defaults to SECRET_KEY.
CREDENTIALS_KEYS = env_list("CREDENTIALS_KEYS") or [SECRET_KEY]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI's files for the API reference page, served from our own static files.
    "drf_spectacular_sidecar",
    "django_htmx",
    "inbox",
    "inbox.settings_area",
    "sla",
    "reports",
    "connectors",
    "chatbot",
    "notifications",
    "surveys",
    "contacts",
    "automation",
    "outbound_webhooks",
    "outreach",
    "campaigns",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before login: the browser's Accept-Language (or the language cookie) picks the language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "inbox.middleware.AgentTimeZoneMiddleware",
    # After login: the language the agent chose on /profile/ (blank: the browser's, as above).
    "inbox.middleware.AgentLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "inbox.twofactor.RequireAdminTwoFactorMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "parley.urls"
WSGI_APPLICATION = "parley.wsgi.application"
ASGI_APPLICATION = "parley.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DATABASE_POOL", default=not TESTING
    ):
        # psycopg's pool: a connection per request costs ~3x the throughput (STACK-NOTES).
        DATABASES["default"]["OPTIONS"] = {
            "pool": {"min_size": 2, "max_size": int(env("DATABASE_POOL_SIZE", "10"))}
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            # Several threads (server, simulator) write: wait for the lock instead of failing.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

AUTH_USER_MODEL = "inbox.User"
# django-axes first: it refuses a locked-out username or address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
# Every place a password is set checks these (add_user, the settings area, the user's own
# change, Django admin, changepassword); a refusal shows their messages.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins within
# LOGIN_LOCKOUT_MINUTES, that username is locked out, and so is the source address (password
# spraying over many usernames), until the window passes. Counted in the database, so every
# web process sees the same lock-out; a successful login clears the user's failures. Every
# login path counts: /login/ (both steps, wrong two-factor codes included) and /admin/login/.
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "inbox/locked_out.html"

# Two-factor authentication (django-otp: TOTP and single-use recovery codes). With
# REQUIRE_ADMIN_2FA=1, an admin without it is sent to /account/security/ to set it up before
# anything else.
REQUIRE_ADMIN_2FA = env_bool("REQUIRE_ADMIN_2FA", default=False)
# The issuer name authenticator apps show beside the account.
OTP_TOTP_ISSUER = "Parley"

LANGUAGE_CODE = "en"
# The languages the interface ships in (docs/i18n.md). Arabic has no translation: it is offered
# so right-to-left layout can be checked and used; its pages show the English text.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("pt-br", "Português (Brasil)"),
    ("ar", "العربية"),
]
# Catalogues: the .po files are committed, the .mo files are compiled by `make` (docs/i18n.md).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "UTC")
# The organisation's time zone: reports count days, weeks and hours of the day in it.
ORGANISATION_TIME_ZONE = env("ORGANISATION_TIME_ZONE", TIME_ZONE)
# Open conversations of an agent away or offline this long go back to the queue (0: never).
AVAILABILITY_REQUEUE_MINUTES = int(env("AVAILABILITY_REQUEUE_MINUTES", "10"))
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Static files are served by the app itself (WhiteNoise); from the source folders when there is
# no collectstatic output (development, tests).
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
# Behind HTTPS (SECURE_COOKIES=1): cookies only over TLS, plain HTTP redirected to HTTPS, and
# browsers told to use HTTPS only (HSTS) so a network attacker cannot strip TLS on a later visit.
SECURE_COOKIES = env_bool("SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = SECURE_COOKIES
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000") or 0) if SECURE_COOKIES else 0
# Platforms call the webhooks at the URL they were given and check no redirect: never bounce
# them (they carry their own signatures, and the ASGI entrance skips the middleware anyway).
SECURE_REDIRECT_EXEMPT = [r"^webhooks/"]
# Behind a TLS terminator that sets a header for the original scheme, e.g.
# SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https. Only where the proxy overwrites that
# header from clients: anyone who can reach the app directly could otherwise claim HTTPS.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER")
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER is 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https."
        )
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header[0], _proxy_ssl_header[1])

# --- Redis, Celery, Channels ------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Without Redis, tasks run in-process right after the commit that scheduled them.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
# Work that must not be lost: acknowledge after the task ran, one task at a time per process.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "inbox.tasks.process_webhooks": {"queue": "ingest"},
    "inbox.tasks.deliver_message": {"queue": "delivery"},
    "inbox.tasks.fetch_*": {"queue": "media"},
    "chatbot.tasks.*": {"queue": "chatbot"},
    "sla.tasks.*": {"queue": "sla"},
    # A slow subscriber must not hold up the listeners' dispatch on the default queue.
    "outbound_webhooks.tasks.*": {"queue": "webhooks"},
}
CELERY_WORKER_QUEUES = "default,ingest,delivery,chatbot,sla,media,webhooks"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "UTC"

# "default" is per process; "shared" is seen by every process (inbox.triggers).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shared"}
    ),
}

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # socket_timeout None: channels-redis blocks on BLPOP for 5 s (STACK-NOTES).
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                # The socket is a notification path with an HTTP catch-up; 100 is too small for
                # a busy fan-out.
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Email (agent notification digests; docs/notifications.md) -----------------------------
# Django's email backend, configured from the environment. Email stays off until EMAIL_HOST
# (SMTP) or EMAIL_BACKEND is set: nothing waits for a digest that could never leave.
EMAIL_HOST = env("EMAIL_HOST", "") or ""
EMAIL_BACKEND = env("EMAIL_BACKEND", "") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(env("EMAIL_PORT", "25") or 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "10") or 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Parley <parley@localhost>")
NOTIFICATION_EMAIL_ENABLED = bool(EMAIL_HOST or env("EMAIL_BACKEND"))
# A digest leaves once the agent's oldest waiting notification is this old (a burst: one email).
NOTIFICATION_DIGEST_MINUTES = float(env("NOTIFICATION_DIGEST_MINUTES", "10") or 10)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's defaults, with a JSON parser that answers deeply nested JSON with 400, not 500.
    "DEFAULT_PARSER_CLASSES": [
        "inbox.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per token (per user for a browser session), counted in the shared cache so every web
    # process sees the same count; over the rate: 429 with Retry-After (inbox.api.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["inbox.api.throttling.TokenRateThrottle"],
}
# Requests per API token: "N/second|minute|hour|day" (DRF's rate syntax).
API_THROTTLE_RATE = env("API_THROTTLE_RATE", "600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "Parley API",
    "DESCRIPTION": "Conversations, messages, replies, notes, labels, users and outbound "
    "webhooks of the Parley social inbox (docs/api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema maps every endpoint and filter: signed-in callers only (session or token),
    # like the API it describes. Parley is open source, but a deployment need not advertise
    # its surface, nor which optional endpoints it runs, to anyone who asks.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The reference page's Swagger UI from our static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Platforms --------------------------------------------------------------------------------
META_GRAPH_URL = env("META_GRAPH_URL", "https://graph.facebook.com/v21.0")
META_APP_SECRET = env("META_APP_SECRET", "")
META_VERIFY_TOKEN = env("META_VERIFY_TOKEN", "")
X_API_URL = env("X_API_URL", "https://api.x.com")
X_CONSUMER_SECRET = env("X_CONSUMER_SECRET", "")
LINKEDIN_API_URL = env("LINKEDIN_API_URL", "https://api.linkedin.com")
LINKEDIN_CLIENT_SECRET = env("LINKEDIN_CLIENT_SECRET", "")

# OAuth for connecting accounts from the settings area (docs/admin.md). The provider URLs are
# settings so the flow can run against a local provider; the defaults are the real ones.
META_APP_ID = env("META_APP_ID", "")
META_OAUTH_DIALOG_URL = env("META_OAUTH_DIALOG_URL", "https://www.facebook.com/v21.0/dialog/oauth")
META_OAUTH_TOKEN_URL = env(
    "META_OAUTH_TOKEN_URL", "https://graph.facebook.com/v21.0/oauth/access_token"
)
X_CLIENT_ID = env("X_CLIENT_ID", "")
X_CLIENT_SECRET = env("X_CLIENT_SECRET", "")
X_OAUTH_AUTHORIZE_URL = env("X_OAUTH_AUTHORIZE_URL", "https://x.com/i/oauth2/authorize")
X_OAUTH_TOKEN_URL = env("X_OAUTH_TOKEN_URL", "https://api.x.com/2/oauth2/token")
LINKEDIN_CLIENT_ID = env("LINKEDIN_CLIENT_ID", "")
LINKEDIN_OAUTH_AUTHORIZE_URL = env(
    "LINKEDIN_OAUTH_AUTHORIZE_URL", "https://www.linkedin.com/oauth/v2/authorization"
)
LINKEDIN_OAUTH_TOKEN_URL = env(
    "LINKEDIN_OAUTH_TOKEN_URL", "https://www.linkedin.com/oauth/v2/accessToken"
)
# How long an OAuth `state` stays valid, in seconds.
OAUTH_STATE_TTL = int(env("OAUTH_STATE_TTL", "600"))
# Public base URL of Parley for OAuth redirect and webhook callback URLs, when it sits behind a
# proxy that changes the host; empty: taken from the request.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "")

# A webhook body above this is refused with 413 before anything is parsed.
WEBHOOK_MAX_BODY_BYTES = int(env("WEBHOOK_MAX_BODY_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = max(WEBHOOK_MAX_BODY_BYTES * 2, 2_621_440)
# A signed delivery is acknowledged on the event loop (``inbox.webhooks.answer_on_loop``) through
# an async pool of at most this many PostgreSQL connections per web process, besides Django's
# pool (``docs/scaling.md``).
WEBHOOK_LOOP_POOL_SIZE = int(env("WEBHOOK_LOOP_POOL_SIZE", "4"))
# Per source address (django-ratelimit, counted in the shared cache across processes): handshake
# GETs (X CRC, LinkedIn challenge, Meta hub.*), and POSTs refused for their signature.
WEBHOOK_HANDSHAKE_RATE = env("WEBHOOK_HANDSHAKE_RATE", "30/m")
WEBHOOK_REJECTED_RATE = env("WEBHOOK_REJECTED_RATE", "30/m")
RATELIMIT_USE_CACHE = "shared"
RATELIMIT_CACHE_PREFIX = "parley:ratelimit:"
# Archive retention in days: processed, ignored and rejected bodies; failed ones (kept longer for
# a replay after a parser fix, and listed for admins).
WEBHOOK_ARCHIVE_DAYS = int(env("WEBHOOK_ARCHIVE_DAYS", "30"))

# Campaigns (campaigns/): a person gets at most one promotional message in this many days;
# campaigns use this share of each platform's send rate (the rest stays for agents' replies);
# platforms that state no rate (the sandbox) get this many messages a second; the periodic
# pass queues at most CAMPAIGN_BATCH messages per campaign.
CAMPAIGN_FREQUENCY_CAP_DAYS = int(env("CAMPAIGN_FREQUENCY_CAP_DAYS", "7") or 7)
CAMPAIGN_RATE_SHARE = float(env("CAMPAIGN_RATE_SHARE", "0.5") or 0.5)
CAMPAIGN_DEFAULT_RATE = float(env("CAMPAIGN_DEFAULT_RATE", "10") or 10)
CAMPAIGN_BATCH = int(env("CAMPAIGN_BATCH", "1000") or 1000)
WEBHOOK_ARCHIVE_FAILED_DAYS = int(env("WEBHOOK_ARCHIVE_FAILED_DAYS", "90"))
# History read from a platform when an account is connected (or on demand), in days back
# (X keeps 30 days of DMs whatever this says).
HISTORY_IMPORT_DAYS = int(env("HISTORY_IMPORT_DAYS", "30"))
# Platform HTTP: (connect, read) timeouts in seconds.
PLATFORM_HTTP_TIMEOUT = (5.0, 20.0)
# Media downloads: size cap. Fetches from private, loopback and link-local addresses are refused
# unless the host is listed here (tests point platforms at 127.0.0.1); either way the connection
# goes to the address resolved once (inbox.media).
MEDIA_MAX_BYTES = int(env("MEDIA_MAX_BYTES", str(25 * 1024 * 1024)))
MEDIA_FETCH_ALLOWED_HOSTS = env_list("MEDIA_FETCH_ALLOWED_HOSTS")

# --- Outbound webhooks (outbound_webhooks/, docs/api.md) -------------------------------------
# Subscribers on private, loopback and link-local addresses are refused like media fetches,
# unless listed here (tests, a receiver inside a private deployment).
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS")
# (connect, read) seconds for one POST to a subscriber.
WEBHOOK_TIMEOUT = (3.05, float(env("WEBHOOK_READ_TIMEOUT", "10")))
# Failed deliveries are retried for this long, the wait doubling from the base up to the cap.
WEBHOOK_RETRY_FOR = timedelta(hours=int(env("WEBHOOK_RETRY_HOURS", "24")))
WEBHOOK_RETRY_BASE_SECONDS = float(env("WEBHOOK_RETRY_BASE_SECONDS", "10"))
WEBHOOK_RETRY_MAX_SECONDS = float(env("WEBHOOK_RETRY_MAX_SECONDS", "3600"))

# --- Browser security headers (docs/security.md) ----------------------------------------
# Scripts only from our own static files: no inline script, no inline handler, no eval. Inline
# `style=` attributes stay allowed (label colours, the reports heatmap); styles cannot run code.
# Media we proxy (attachments, avatars) sends its own stricter `sandbox` policy.
CSP_REPORT_URI = env("CSP_REPORT_URI", "/csp-report/")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "report-uri": [CSP_REPORT_URI],
    },
}
# Django's defaults, stated because the security notes rely on them.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # In-process tasks (embedded default) would log every success.
        "celery.app.trace": {"level": "WARNING"},
        # django-axes logs every successful login at INFO; failures and lock-outs are WARNING.
        "axes": {"level": "WARNING"},
    },
}
