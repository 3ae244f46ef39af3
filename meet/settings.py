"""Settings for meet, read from environment variables.

Every variable is listed in the README. Defaults suit a laptop: SQLite, the
in-memory channel layer, no STUN/TURN. Production sets ``DEBUG=0`` and the
rest; ``python manage.py check --deploy`` is then silent.
"""

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from meet import redisconf

BASE_DIR = Path(__file__).resolve().parent.parent

# ModelAdmin[Room] and friends, as the type checker spells them, work at runtime.
django_stubs_ext.monkeypatch()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_number(name: str, default: int | float) -> int | float:
    value = os.environ.get(name)
    if not value:
        return default
    number = float(value)
    return int(number) if number.is_integer() else number


DEBUG = env_bool("DEBUG", False)


def _local_secret_key() -> str:
    """A per-checkout key for local development, so sessions survive restarts."""
    path = BASE_DIR / ".local-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set SECRET_KEY (required when DEBUG is off), or DEBUG=1 for local development."
        )
    SECRET_KEY = _local_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Pages that may open a signaling socket. Empty: the site's own origin plus
# CSRF_TRUSTED_ORIGINS, as for forms (signaling/origin.py); set, exactly these.
WS_ALLOWED_ORIGINS = env_list("WS_ALLOWED_ORIGINS")

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and WebSockets from one process.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    # Django's form templates, overridable from templates/ (FORM_RENDERER below).
    "django.forms",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "allauth",
    "allauth.account",
    "accounts",
    "rooms",
    "signaling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "meet.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last: it turns a view's "database busy" error into the 503 page.
    "meet.middleware.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "meet.urls"

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
                "rooms.context_processors.pending_invite",
            ],
        },
    },
]

# Form widgets and layouts are rendered with the templates above, so the site's
# templates/django/forms/ overrides apply to every form, allauth's included.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ASGI_APPLICATION = "meet.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Connections are not kept between requests on purpose: under ASGI Django
        # holds one per async context, so a kept connection would be one per
        # open call socket. Pool in front of PostgreSQL instead (PgBouncer).
        conn_max_age=0,
    )
}
# How long a write waits for SQLite's write lock before the request gives up
# with a "busy, try again" page (seconds).
SQLITE_BUSY_TIMEOUT = env_number("SQLITE_BUSY_TIMEOUT", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL: readers (pages, the call's join checks) never wait for the
            # writer and it never waits for them. synchronous=NORMAL is safe
            # with WAL: a power cut may lose the last commits, never corrupt.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            # Every transaction takes the write lock when it begins, so writers
            # queue for it (up to the timeout) instead of failing at once when a
            # read-then-write transaction cannot upgrade its lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_BUSY_TIMEOUT,
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Accounts (django-allauth) -------------------------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "rooms:dashboard"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_FORMS = {"signup": "accounts.signup.SignupForm"}
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_DISPLAY = "accounts.adapter.user_display"
ACCOUNT_ALLOW_SIGNUP = env_bool("ACCOUNT_ALLOW_SIGNUP", True)
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "meet <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation --------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Channels ----------------------------------------------------------------------
# The shared Redis: REDIS_URL, or Sentinel (REDIS_SENTINELS and
# REDIS_SENTINEL_MASTER, optionally REDIS_PASSWORD, REDIS_SENTINEL_PASSWORD,
# REDIS_DB). meet/redisconf.py builds the channel layer, presence and the
# cache from it, so all three follow the same primary; a half-given Sentinel
# setup stops the server with ImproperlyConfigured.
REDIS = redisconf.from_env()
REDIS_URL = REDIS.url
REDIS_SENTINELS = list(REDIS.sentinels)
REDIS_SENTINEL_MASTER = REDIS.master
REDIS_PASSWORD = REDIS.password
REDIS_SENTINEL_PASSWORD = REDIS.sentinel_password
REDIS_DB = REDIS.db
# "pubsub" (RedisPubSubChannelLayer, the default) or "core" (RedisChannelLayer,
# sorted sets + BZPOPMIN). docs/deployment.md explains the choice; both are
# tested against a real Redis.
CHANNEL_LAYER = os.environ.get("CHANNEL_LAYER", "pubsub")
# Group membership must outlive the longest meeting, or a participant silently
# stops receiving room events (core layer only). One day, and a consumer
# re-joins its groups at every re-check (SIGNALING["RECHECK_INTERVAL"]), so
# even longer calls keep working.
CHANNEL_GROUP_EXPIRY = env_int("CHANNEL_GROUP_EXPIRY", 86400)


def channel_layers_for(
    redis: str | redisconf.RedisConfig, layer: str, group_expiry: int
) -> dict[str, Any]:
    """CHANNEL_LAYERS for a Redis (a URL or a description; empty: in-memory) and
    a layer kind. A function so the multi-process tests can configure their own
    process alike."""
    config = redisconf.RedisConfig(url=redis) if isinstance(redis, str) else redis
    if not config.configured:
        return {
            "default": {
                "BACKEND": "signaling.layers.InMemoryChannelLayer",
                "CONFIG": {"capacity": 1000, "expiry": 60, "group_expiry": group_expiry},
            }
        }
    if layer == "pubsub":
        return {
            "default": {
                "BACKEND": "signaling.layers.RedisPubSubChannelLayer",
                # Groups are subscriptions of the process, so nothing expires.
                # A channel read through receive() holds at most `capacity`.
                "CONFIG": {
                    "hosts": [config.channel_layer_host()],
                    "prefix": "meet",
                    "capacity": 1000,
                },
            }
        }
    if layer == "core":
        return {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    # One Redis (or a Sentinel-managed primary). Never several hosts:
                    # channels-redis shards direct sends by channel name and group
                    # sends by group name, and a peer's messages must stay ordered.
                    # redis-py's default socket timeout (5 s) equals the layer's
                    # BZPOPMIN timeout (5 s): an idle receive then fails with a
                    # TimeoutError that kills the consumer. Give reads headroom.
                    "hosts": [config.channel_layer_host(socket_timeout=30)],
                    "prefix": "meet",
                    "capacity": 1000,
                    "expiry": 60,
                    "group_expiry": group_expiry,
                },
            }
        }
    raise ImproperlyConfigured("CHANNEL_LAYER must be 'core' or 'pubsub'.")


CHANNEL_LAYERS = channel_layers_for(REDIS, CHANNEL_LAYER, CHANNEL_GROUP_EXPIRY)

# allauth's rate limits (login attempts, password resets) live in the cache:
# with several server processes it must be one they share.
CACHES = {
    "default": (
        REDIS.cache()
        if REDIS.configured
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Sessions live in the database and are read through the cache: a signaling
# socket's handshake then costs no session query (docs/benchmarks.md). With
# Redis configured the cache is shared, so a logout in one process is seen by all.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Invite links ------------------------------------------------------------------
# Failed invite look-ups (links that lead to no invite) allowed per client
# address and window of seconds before its look-ups get 429 (rooms/throttle.py).
INVITE_GUESS_LIMIT = env_int("INVITE_GUESS_LIMIT", 30)
INVITE_GUESS_WINDOW = env_int("INVITE_GUESS_WINDOW", 60)
# Guests (people without an account, through an invite that allows them):
# how long a guest pass works (seconds), and how many guests one address may
# create per window (seconds), docs/deployment.md.
GUEST_LIFETIME = env_int("GUEST_LIFETIME", 12 * 60 * 60)
GUEST_CREATE_LIMIT = env_int("GUEST_CREATE_LIMIT", 10)
GUEST_CREATE_WINDOW = env_int("GUEST_CREATE_WINDOW", 600)
if GUEST_LIFETIME < 1:
    raise ImproperlyConfigured("GUEST_LIFETIME must be a positive number of seconds.")
# Which client address to believe behind a proxy, for these counters and
# allauth's login rate limits alike: by default REMOTE_ADDR, nothing else.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = os.environ.get("TRUSTED_CLIENT_IP_HEADER") or None

# --- Signaling and calls --------------------------------------------------------
# Documented in docs/protocol.md; tests shorten the timers.
SIGNALING: dict[str, int | float] = {
    # The browser sends a ping this often (seconds).
    "HEARTBEAT_INTERVAL": 10,
    # A socket silent for this long is closed with 4408 and announced as left.
    "HEARTBEAT_TIMEOUT": 25,
    # Presence entries expire this long after their last refresh; a crashed
    # process's peers disappear after at most PRESENCE_TTL + TICK.
    "PRESENCE_TTL": 20,
    # How often each connection refreshes its presence and reaps expired peers.
    "TICK": 5,
    # How often a connection re-checks its session, membership and room (seconds).
    "RECHECK_INTERVAL": 60,
    # A seat whose socket was lost (or whose server process died) is held this
    # long for its resume token (docs/protocol.md, "Resume"); 0 frees it at once.
    "RESUME_GRACE": 60,
    # How often each browser sends its link summary for operators (seconds;
    # docs/protocol.md, "links"); the server keeps it three times as long.
    "LINK_REPORT": 10,
    # Token bucket per connection: sustained messages per second, and burst.
    "RATE": 50,
    "BURST": 200,
    # Dropped (rate-limited) messages tolerated before the socket is closed with 4429.
    "RATE_STRIKES": 200,
    # Invalid frames tolerated before the socket is closed with 4400.
    "INVALID_STRIKES": 20,
    "MAX_FRAME": 64 * 1024,
    "MAX_SDP": 32 * 1024,
    "MAX_CANDIDATE": 1024,
    # Bytes of frames and events waiting for one socket (its browser is not
    # reading) before it is closed with 4408.
    "MAX_QUEUE": 1024 * 1024,
    # Sockets one account may hold open in one server process: in one room,
    # and in all rooms together (past either, 4002). Room for a few tabs and a
    # reconnect whose old socket has not closed yet.
    "MAX_SOCKETS_PER_ROOM": 5,
    "MAX_SOCKETS_PER_USER": 20,
}
# Each value can be overridden by SIGNALING_<NAME> (seconds may be fractional);
# the multi-process tests use this to shrink the timers of real servers.
SIGNALING = {name: env_number(f"SIGNALING_{name}", value) for name, value in SIGNALING.items()}

STUN_URLS = env_list("STUN_URLS")
TURN_URLS = env_list("TURN_URLS")
TURN_SECRET = os.environ.get("TURN_SECRET", "")
TURN_CREDENTIAL_TTL = env_int("TURN_CREDENTIAL_TTL", 3600)
# "all" or "relay" (force every call through TURN).
ICE_TRANSPORT_POLICY = os.environ.get("ICE_TRANSPORT_POLICY", "all")
if ICE_TRANSPORT_POLICY not in {"all", "relay"}:
    raise ImproperlyConfigured("ICE_TRANSPORT_POLICY must be 'all' or 'relay'.")

# Camera constraints the call page asks for: WIDTHxHEIGHT@FPS, as "ideal" values.
CALL_VIDEO = os.environ.get("CALL_VIDEO", "1280x720@30")
# Outgoing video budget per sender in kbit/s, divided among the peers it sends to.
CALL_VIDEO_BUDGET_KBPS = env_int("CALL_VIDEO_BUDGET_KBPS", 2500)
# Largest file one can send in a call (bytes); files go peer to peer, never
# through the server, and both ends enforce it.
CALL_FILE_MAX_BYTES = env_int("CALL_FILE_MAX_BYTES", 100 * 1024 * 1024)
if CALL_FILE_MAX_BYTES < 1:
    raise ImproperlyConfigured("CALL_FILE_MAX_BYTES must be a positive number of bytes.")

# --- Security ----------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# "'self'" covers the call's same-origin ws:/wss: socket in connect-src.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(self), display-capture=(self), speaker-selection=(self), "
    "geolocation=(), payment=(), usb=()"
)
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"invite_tokens": {"()": "rooms.logfilters.RedactInviteTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["invite_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django logs every 4xx/5xx with its path, the servers every request: an
    # invite link's path is its secret (rooms/logfilters.py). The loggers'
    # filters change the record for every handler; the console's catches the rest.
    "loggers": {
        "django.channels.server": {
            "level": os.environ.get("ACCESS_LOG_LEVEL", "WARNING"),
            "filters": ["invite_tokens"],
        },
        "django.request": {"filters": ["invite_tokens"]},
        "django.server": {"filters": ["invite_tokens"]},
    },
}
