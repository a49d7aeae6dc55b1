"""Settings, all read from the environment.

Every setting that differs between a laptop and production comes from an environment
variable; see README.md ("Configuration") for the list.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def load_dotenv(path: Path) -> None:
    """Read KEY=VALUE lines of a git-ignored ``.env`` file; the real environment wins.

    ``./scripts/serve`` and ``./scripts/test`` write one with ``DEBUG=true`` in a development
    checkout, so plain ``manage.py`` commands work there; a deployment sets its environment.
    """
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            os.environ.setdefault(key.strip(), value.strip().strip("'\""))


load_dotenv(BASE_DIR / ".env")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string "
            "(or DEBUG=true for a development-only default)."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is not set. Set ALLOWED_HOSTS to the host names the site answers to, "
        "comma-separated (e.g. itsm.example.com), or DEBUG=true for localhost."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "itsm.apps.ItsmAdminConfig",
    "django.contrib.auth",
    "axes",  # failed sign-ins limited per user and per address (see "Sign-in protection")
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_q",
    # {% partialdef %} and "template.html#partial" (Django 6.0 has them built in): a queue's
    # results are one partial of its page, rendered alone for the live refresh.
    "template_partials",
    "itsm",
    "incidents",
    "problems",
    "changes",
    "catalog",
    "knowledge",
    "oncall",
    "sla",
    "escalation",
    "notifications",
    "config",  # the top layer: the commands that use every domain (seed_demo, seed_bulk)
    "django.forms",  # last: the apps' templates override its widget templates
]

# Form widgets render from the templates setting, so itsm/templates/django/forms/ can replace
# a slow built-in widget template (see select.html there).
FORM_RENDERER = "itsm.form_renderer.FormRenderer"  # TemplatesSetting, the plain widgets written in Python

MIDDLEWARE = [
    "itsm.health.HealthCheckMiddleware",  # /healthz, /readyz: before host checks and HTTPS redirects
    "itsm.logging.RequestLogMiddleware",  # one log line per request, with its X-Request-ID
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, from STATIC_ROOT (collectstatic)
    "itsm.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "itsm.middleware.SignedInUserMiddleware",  # request.user as the user itself, not a lazy stand-in
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "itsm.middleware.NotFoundPageMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lockout page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],  # overrides of Django's admin templates
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "itsm.views.context.navigation",
                "notifications.context.unread",
                "problems.context.navigation",
                "changes.context.navigation",
                "knowledge.context.navigation",
                "catalog.context.navigation",
                "catalog.context_items.navigation",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'itsm.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
_conn_max_age = os.environ.get("CONN_MAX_AGE", "0").strip()
if not _conn_max_age.isdigit():
    raise ImproperlyConfigured(f"CONN_MAX_AGE must be a whole number of seconds ≥ 0, not {_conn_max_age!r}.")
try:
    # A kept connection is checked before a request reuses it (one that died is replaced).
    _db = dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(_conn_max_age), conn_health_checks=int(_conn_max_age) > 0
    )
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL is malformed ({exc}). Use e.g. sqlite:///path/to/db.sqlite3 or "
        "postgres://user:password@host:5432/name."
    ) from exc
if not _db.get("ENGINE") or (_db["ENGINE"] != "django.db.backends.sqlite3" and not _db.get("NAME")):
    raise ImproperlyConfigured(
        "DATABASE_URL is malformed: it names no database. Use e.g. postgres://user:password@host:5432/name."
    )
if _db["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Writers wait for each other instead of failing at once with "database is locked".
    _db.setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    _db["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}
if _db["ENGINE"] == "django.db.backends.postgresql":
    # Parallel query costs more than it saves on the short queries pages make (starting workers
    # took 15 of the 20 ms of a queue's count at a million rows, docs/PERFORMANCE.md): off for
    # these connections unless DB_PARALLEL_WORKERS says otherwise.
    _parallel = os.environ.get("DB_PARALLEL_WORKERS", "0")
    if not _parallel.isdigit():
        raise ImproperlyConfigured(f"DB_PARALLEL_WORKERS must be a whole number ≥ 0, not {_parallel!r}.")
    _db.setdefault("OPTIONS", {})["options"] = f"-c max_parallel_workers_per_gather={_parallel}"
    # Prepared statements: planning a page's joined queries costs PostgreSQL more than running
    # them (the incident page's record query: 2.4 ms to plan, 0.2 ms to run). With server-side
    # binding, psycopg prepares a statement once a connection has run it DB_PREPARE_THRESHOLD
    # times, and PostgreSQL then keeps its plan for that connection (docs/PERFORMANCE.md). They
    # live as long as their connection, so they are on by default only with kept connections
    # (CONN_MAX_AGE above 0, as scripts/prod runs). "off" sends every query as before: needed
    # behind a pooler in transaction mode that does not track prepared statements (PgBouncer
    # before 1.21, or without max_prepared_statements).
    _prepare_default = "5" if int(_conn_max_age) > 0 else "off"
    _prepare = os.environ.get("DB_PREPARE_THRESHOLD", _prepare_default).strip().lower()
    if _prepare != "off":
        if not _prepare.isdigit():
            raise ImproperlyConfigured(
                f"DB_PREPARE_THRESHOLD must be a whole number ≥ 0 or off, not {_prepare!r}."
            )
        _db["OPTIONS"].update(server_side_binding=True, prepare_threshold=int(_prepare))
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "itsm.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out user or address
    "itsm.auth.UserBackend",  # Django's ModelBackend, reading the user's roles with the user
    "guardian.backends.ObjectPermissionBackend",
    "itsm.policy.backend.PolicyBackend",
]
ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous user row
GUARDIAN_RAISE_403 = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions end SESSION_COOKIE_AGE seconds after sign-in (12 hours: a working day), or when the
# browser closes with SESSION_EXPIRE_AT_BROWSER_CLOSE.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)

# Sign-in protection (django-axes): after LOGIN_FAILURE_LIMIT failed sign-ins for one user name,
# or from one address, signing in is refused for LOGIN_LOCKOUT_MINUTES (each further failure
# starts the wait again); a success clears that user's and address's failures.
# `manage.py axes_reset_username NAME` / `axes_reset_ip ADDRESS` lift a lock early.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "itsm.security.client_ip"
AXES_LOCKOUT_CALLABLE = "itsm.views.pages.locked_out"
AXES_ENABLE_ADMIN = False  # the admin shows only what the policy governs; use the commands above
AXES_VERBOSE = False  # the request log and axes' own table say enough
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are in the request log (POST login/, user_id)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
# WhiteNoise serves them from STATIC_ROOT (`manage.py collectstatic`), compressed and with
# hashed names cached for a year; with DEBUG on, straight from the apps (no collectstatic).
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Attachments ----------------------------------------------------------------------------
# Files attached to records and notes (itsm.attachments) go through Django's storage API: the
# file system under MEDIA_ROOT by default (never served as static or media files: only the
# policy-checked download views send them), or any storage class, e.g. an S3-compatible store
# through django-storages: FILE_STORAGE=storages.backends.s3.S3Storage and FILE_STORAGE_OPTIONS
# a JSON object of its options ({"bucket_name": "itsm", "endpoint_url": "https://…"}).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
FILE_STORAGE = os.environ.get("FILE_STORAGE", "")
if FILE_STORAGE:
    try:
        _storage_options = json.loads(os.environ.get("FILE_STORAGE_OPTIONS", "") or "{}")
    except ValueError as exc:
        raise ImproperlyConfigured(f"FILE_STORAGE_OPTIONS must be a JSON object: {exc}") from None
    if not isinstance(_storage_options, dict):
        raise ImproperlyConfigured("FILE_STORAGE_OPTIONS must be a JSON object.")
    STORAGES["default"] = {"BACKEND": FILE_STORAGE, "OPTIONS": _storage_options}
try:
    ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", "") or 10 * 1024 * 1024)
except ValueError:
    raise ImproperlyConfigured("ATTACHMENT_MAX_BYTES must be a whole number of bytes.") from None
# The content types (read from the file's bytes) that may be attached.
ATTACHMENT_TYPES = env_list(
    "ATTACHMENT_TYPES",
    ",".join(
        [
            "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff",
            "application/pdf", "text/plain", "application/rtf",
            "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
            "application/vnd.oasis.opendocument.presentation",
            "application/zip", "application/gzip",
        ]
    ),
)  # fmt: skip

# --- Cache ----------------------------------------------------------------------------------
# API rate limits count in the cache: give every web process the same one with
# CACHE_URL=redis://host:6379/1; without it each process counts on its own.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured("CACHE_URL must be a redis:// or rediss:// URL.")
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "itsm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The public address of the site, for links in e-mails (e.g. https://itsm.example.com).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000" if DEBUG else "")

# --- Security (manage.py check --deploy is clean with DEBUG off) -----------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Each may be turned off for a site served over plain HTTP on a closed network (check
    # --deploy then says so); a site on the internet keeps them all.
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Only behind a proxy that terminates TLS and sets X-Forwarded-Proto itself: anywhere else a
# client could send the header and pass a plain-HTTP request off as HTTPS.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front append to X-Forwarded-For: the client's address (for sign-in and
# API limits) is the one the outermost of them saw. 0 trusts no such header.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if BEHIND_TLS_PROXY else "0"))
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (itsm.middleware): scripts and styles only from the site's own static
# files; "'nonce'" is each response's nonce, for a <style> the page writes (the on-call timeline).
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'nonce'"],
    "img-src": ["'self'", "data:"],  # data: the admin's and Swagger UI's icons
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SECURE_CSP_PATHS = {
    # DRF's browsable API and Swagger UI's page are third-party templates with style attributes
    # and a <style> element; scripts stay the site's own files there too.
    "/api/": {"style-src": ["'self'", "'unsafe-inline'"]},
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "itsm.api.authentication.TokenAuthentication",  # DRF's, reading the roles with the user
    ],
    "DEFAULT_PERMISSION_CLASSES": ["itsm.api.permissions.PolicyPermission"],
    "DEFAULT_PARSER_CLASSES": [
        "itsm.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "itsm.api.filters.PolicyFilterBackend",
        "itsm.api.filters.PolicySearchFilter",
        "itsm.api.filters.PolicyOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "itsm.api.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "itsm.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["itsm.api.throttling.ApiRateThrottle"],
}


def env_rate(name: str, default: str) -> str | None:
    value = os.environ.get(name, default).strip()
    if value.lower() in {"", "off", "none"}:
        return None
    count, _, period = value.partition("/")
    if not count.isdigit() or period.lower() not in {"s", "sec", "second", "min", "minute", "h", "hour", "day"}:
        raise ImproperlyConfigured(f"{name} must be a rate such as 600/min (or off), not {value!r}.")
    return value


# API rate limits (itsm.api.throttling): per user, so per token; per address when signed out;
# alert ingestion has its own, for storms. A limit passed answers 429 with Retry-After.
API_THROTTLE_RATES = {
    "user": env_rate("API_RATE_USER", "6000/min"),
    "anon": env_rate("API_RATE_ANON", "600/min"),
    "events": env_rate("API_RATE_EVENTS", "60000/min"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ITSM API",
    "DESCRIPTION": "Incidents, requests, problems, changes and the ITSM Work queue. "
    "Every list and record answers only what the caller's roles let it read.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Request bodies are documented as JSON only: a client generated from the document then
    # sends one Content-Type (the API still parses forms, for the browsable API).
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "itsm.api.schema.enum_variable_names",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SlaStatusEnum": "sla.models.SlaStatus",
        "WeekdayEnum": "itsm.wallclock.Weekday",
        "LevelEnum": "incidents.models.Level",
        "WorkKindEnum": "itsm.models.work.WorkKind",
        "NoteKindEnum": "incidents.models.IncidentNote.Kind",
        "AlertKindEnum": "incidents.models.AlertKind",
        "IncidentSourceEnum": "incidents.models.Source",
        "OnCallSourceEnum": ["rotation", "override", "none"],
        "RiskLevelEnum": "changes.models.RiskLevel",
    },
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge fetched from an outside validator (the CSP would refuse it anyway).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Background work (django-q2) ------------------------------------------------------------
Q_BROKER = os.environ.get("Q_BROKER", "")
Q_CLUSTER = {
    "name": "itsm",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    # How many successful tasks' results are kept (0: all; django-q2's default is 250).
    "save_limit": int(os.environ.get("Q_SAVE_LIMIT", "250")),
    "label": "Background tasks",
}
if Q_BROKER:
    if not Q_BROKER.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured("Q_BROKER must be a redis:// or rediss:// URL.")
    Q_CLUSTER["redis"] = Q_BROKER
else:
    Q_CLUSTER["orm"] = "default"

# --- Logging --------------------------------------------------------------------------------
# LOG_FORMAT=json (the default with DEBUG off) writes one JSON object per line: per request
# (itsm.request), per background task (itsm.task), per query slower than SLOW_QUERY_MS
# (itsm.slow_query: the SQL without its parameters; 0 turns it off). text is for a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
SLOW_QUERY_MS = float(os.environ.get("SLOW_QUERY_MS", "500"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "itsm.logging.JsonFormatter"},
        "text": {"()": "itsm.logging.TextFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Each request is logged once, by itsm.request; Django's own 4xx/5xx lines repeat it
        # (a 500's traceback still comes from django.request at ERROR).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING" if LOG_FORMAT == "json" else "INFO"},
        # django-axes says every sign-in at INFO (with user name and address); lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
