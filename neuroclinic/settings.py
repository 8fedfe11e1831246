"""Neuroclinic settings: one file, every value from the environment.

Defaults suit a developer's machine (SQLite under var/, DEBUG on). Production
sets SECRET_KEY, DEBUG=False, ALLOWED_HOSTS and, for a clinic network,
DATABASE_URL=postgres://... See docs/configuration.md.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from neuroclinic.lib.private_files import make_private_dir, make_private_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("NEUROCLINIC_VAR_DIR", str(BASE_DIR / "var")))

DEVELOPMENT_SECRET_KEY = "development-only-key-never-use-in-production"  # noqa: S105


def env_bool(name: str, default: bool) -> bool:
    value = os.getenv(name)
    if value is None:
        return default
    if value not in ("True", "False"):
        raise ImproperlyConfigured(f"{name}={value!r}: use 'True' or 'False'")
    return value == "True"


def env_int(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: use a whole number") from None


def env_secret(name: str, default: str) -> str:
    """A secret from NAME, or from the file named by NAME_FILE (for container secrets)."""
    path = os.getenv(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.getenv(name, default)


DEBUG = env_bool("DEBUG", True)
# The key the server signs with (`make run` writes var/secret-key): a command run
# without SECRET_KEY uses the same file, so a sign-in link it makes is accepted.
SECRET_KEY_IN_VAR = VAR_DIR / "secret-key"
_key_from_environment = os.getenv("SECRET_KEY") or os.getenv("SECRET_KEY_FILE")
if not _key_from_environment and SECRET_KEY_IN_VAR.is_file():
    SECRET_KEY = SECRET_KEY_IN_VAR.read_text().strip()
else:
    SECRET_KEY = env_secret("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key and DEBUG is off: set SECRET_KEY "
        "(or SECRET_KEY_FILE) to a long random value."
    )

ALLOWED_HOSTS = [
    h for h in os.getenv("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",
    "neuroclinic.audit",
    "neuroclinic.accounts",
    "neuroclinic.clinics",
    "neuroclinic.patients",
    "neuroclinic.notifications",
    "neuroclinic.measures",
    "neuroclinic.portal",
    "neuroclinic.ledger",
    "neuroclinic.intake",
    "neuroclinic.site",
    "neuroclinic.treatment",
    "neuroclinic.infusions",
    "neuroclinic.tms",
    "neuroclinic.billing",
    "neuroclinic.letters",
    "neuroclinic.outcomes",
    "neuroclinic.scheduling",
    "neuroclinic.audit_viewer",
    "neuroclinic.interop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "neuroclinic.api_errors.ApiProblemMiddleware",
    "neuroclinic.audit.record.AuditContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "neuroclinic.clinics.time_zone.ClinicTimeZoneMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "neuroclinic.accounts.middleware.RequireTwoFactorMiddleware",
    "neuroclinic.accounts.middleware.IdleTimeoutMiddleware",
    "neuroclinic.accounts.tablet_lock.PatientLockMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "neuroclinic.urls"
WSGI_APPLICATION = "neuroclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "neuroclinic.accounts.context_processors.navigation",
                "neuroclinic.accounts.tablet_lock.context",
                "neuroclinic.notifications.context_processors.unread",
                "neuroclinic.clinics.time_zone.zone_context",
            ],
        },
    }
]

# SQLite by default (one clinic, one machine); DATABASE_URL=postgres://... for PostgreSQL.
DATABASE_URL = os.getenv("DATABASE_URL", f"sqlite:///{VAR_DIR / 'neuroclinic.sqlite3'}")
# Connections persist between requests (opening one per request was a large part
# of a small API call); each is checked before reuse, so a restarted database
# costs one failed check, not a failed request.
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 600)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True
    )
}
# var/ and the SQLite database are the service user's alone (0700 and 0600).
make_private_dir(VAR_DIR)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _sqlite_path = Path(DATABASES["default"]["NAME"])
    make_private_dir(_sqlite_path.parent)
    if str(_sqlite_path) != ":memory:":
        make_private_file(_sqlite_path)
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE transactions serialize writers, which the audit and ledger
        # hash chains rely on; WAL lets readers carry on meanwhile. FULL syncs
        # the WAL at every commit: NORMAL could lose the last commits (a DEA
        # record) in a power cut (benchmarks/sqlite_durability.py: the cost).
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": os.getenv("TEST_SQLITE_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in policy (docs/security.md).
LOCKOUT_THRESHOLD = env_int("LOCKOUT_THRESHOLD", 5)
LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 15)
IDLE_TIMEOUT_MINUTES = env_int("IDLE_TIMEOUT_MINUTES", 15)
SESSION_COOKIE_AGE = IDLE_TIMEOUT_MINUTES * 60
# The idle timer restarts on every request except the ones a screen polls by
# itself (IdleTimeoutMiddleware and `@polled`), which must not keep it signed in.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
OTP_TOTP_ISSUER = os.getenv("OTP_TOTP_ISSUER", "Neuroclinic")
# Authenticator secrets are encrypted at rest (accounts/otp_secrets.py): a
# comma-separated list of passphrases, the first encrypts, all decrypt (rotation).
# Empty: a key derived from SECRET_KEY.
OTP_SECRET_KEYS = env_secret("OTP_SECRET_KEYS", "")
# After a wrong code the next try waits this many seconds, doubling with each
# further failure (django-otp's throttling, for the authenticator and recovery codes).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# A new API token expires after this many days (`token create --days` overrides).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)
# How long a web process may answer a bearer token from memory before looking it up
# again: a revocation made by another process holds within this bound (accounts.actions).
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 5)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "files"  # outside the web root; served only through views
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Outgoing mail (Django 6.1 MAILERS). Console in development; SMTP when
# EMAIL_BACKEND names it and EMAIL_HOST etc. say where.
EMAIL_BACKEND_PATH = os.getenv(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
_mail_options: dict[str, object] = {}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": os.getenv("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 587),
        "username": os.getenv("EMAIL_HOST_USER", ""),
        "password": env_secret("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
    }
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "clinic@example.invalid")
SMS_BACKEND = os.getenv("SMS_BACKEND", "neuroclinic.lib.messaging.ConsoleSmsBackend")
# Where links in messages point (the site's public address; every emailed or texted link
# starts with it). A developer's machine defaults to the development server; a deployment
# (DEBUG off) must say where it is served, or patients would get links that open nothing.
PUBLIC_BASE_URL = os.getenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000" if DEBUG else "")
if not PUBLIC_BASE_URL:
    raise ImproperlyConfigured(
        "PUBLIC_BASE_URL is not set and DEBUG is off: set it to the address patients "
        "and staff open, for example https://clinic.example.org"
    )
# The clinic the public site speaks for (an organization's UUID); empty: the first one.
PUBLIC_SITE_ORGANIZATION = os.getenv("PUBLIC_SITE_ORGANIZATION", "")
# The largest document a patient may upload with the intake packet, in bytes.
INTAKE_UPLOAD_MAX_BYTES = env_int("INTAKE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)

# Infusion safety limits (docs/configuration.md, "Infusion safety limits").
# A session's draws may exceed the calculated drug volume by this much (mL: syringe
# dead space and rounding up to the syringe's graduation).
INFUSION_DRAW_OVERFILL_ML = Decimal(os.getenv("INFUSION_DRAW_OVERFILL_ML", "0.20"))
# A charted time further back than this needs a reason (a late entry, said why).
INFUSION_BACKDATE_REASON_MINUTES = env_int("INFUSION_BACKDATE_REASON_MINUTES", 15)
# A volume infused that differs from the pump's estimate by more than this needs a reason.
INFUSION_PUMP_VOLUME_MARGIN_PERCENT = env_int("INFUSION_PUMP_VOLUME_MARGIN_PERCENT", 10)
# "Completed as ordered" must reach the ordered duration and bag volume within this.
INFUSION_COMPLETION_TOLERANCE_PERCENT = env_int(
    "INFUSION_COMPLETION_TOLERANCE_PERCENT", 10
)

# Security headers. Scripts and styles come only from our own static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
HTTPS = env_bool("HTTPS", not DEBUG)  # served over TLS (directly or behind a proxy)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No PHI in logs: requests are logged by path only (paths carry UUIDs, never
# names), and Django's error emails are off.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {
            "handlers": ["console"],
            "level": "ERROR",
            "propagate": False,
        },
        # WeasyPrint logs every step of every PDF at INFO and fontTools each font it
        # subsets: thousands of lines while the demo signs its consents, burying the
        # address `make run` prints last (issue 18 item 10). Their warnings still show.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
ADMINS: list[tuple[str, str]] = []

NINJA_PAGINATION_PER_PAGE = 50
# Rate limits key on the connection's address: X-Forwarded-For is set by the
# client unless a proxy we run rewrites it (BEHIND_PROXY counts that one proxy).
NINJA_NUM_PROXIES = 1 if env_bool("BEHIND_PROXY", False) else 0

# A database cache: shared by every web worker (rate limits must agree across
# processes) and needing no extra service. `neuroclinic createcachetable` makes it.
# Rate-limit counters (neuroclinic/lib/ratelimit.py) are counted on every public
# call, so they must not take a database write lock: this process's memory by
# default (each web worker counts alone), Redis when REDIS_URL names one.
REDIS_URL = os.getenv("REDIS_URL", "")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "neuroclinic_cache",
    },
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "neuroclinic",
    }
    if REDIS_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "neuroclinic-ratelimit",
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}

# Background work (docs/tasks.md): Django's Tasks framework on the database
# (django-tasks-db), run by `neuroclinic worker`. "default" is for short,
# time-critical work (alert escalation, reminders, emails); "bulk" for long work
# (exports, verification, backups) so it never holds up an escalation.
INSTALLED_APPS += ["django_tasks_db", "neuroclinic.operations"]
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "bulk"],
    }
}

# Backups (docs/backup.md): `neuroclinic backup` and the nightly job encrypt with
# a key derived from BACKUP_KEY; the job writes to BACKUP_DIR and keeps BACKUP_KEEP.
BACKUP_KEY = env_secret("BACKUP_KEY", "")
BACKUP_DIR = os.getenv("BACKUP_DIR", "")
BACKUP_KEEP = env_int("BACKUP_KEEP", 14)
# Signed chain checkpoints live here; every backup carries this directory.
CHECKPOINT_DIR = Path(os.getenv("CHECKPOINT_DIR", str(VAR_DIR / "checkpoints")))
# `verify --checkpoints` reports the newest checkpoint older than this (written
# hourly): the worker stopped, or the newest files were deleted.
CHECKPOINT_MAX_AGE_MINUTES = env_int("CHECKPOINT_MAX_AGE_MINUTES", 150)
# Each signed checkpoint is also emailed (a second anchor neither the database nor
# CHECKPOINT_DIR can take back): to these comma-separated addresses, or, when
# empty and the installation runs one organization, to its controlled-substance
# custodians. Several organizations and no address: no email (docs/security.md).
CHECKPOINT_EMAIL_TO = [
    a.strip() for a in os.getenv("CHECKPOINT_EMAIL_TO", "").split(",") if a.strip()
]
# The HMAC key of record seals and chain checkpoints (docs/security.md): a secret
# kept outside the database. Empty: derived from SECRET_KEY.
INTEGRITY_KEY = env_secret("INTEGRITY_KEY", "")

# Reads for reports and dashboards go to a streaming replica when one is named
# (neuroclinic/lib/replica.py); everything else uses "default".
DATABASE_REPLICA_URL = os.getenv("DATABASE_REPLICA_URL", "")
# `neuroclinic serve`: where gunicorn listens and how many workers it starts.
SERVE_BIND = os.getenv("BIND", "127.0.0.1:8000")
SERVE_WORKERS = env_int("WEB_CONCURRENCY", 2)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=DATABASE_CONN_MAX_AGE,
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["neuroclinic.lib.replica.ReplicaRouter"]
# How the audit event of a read (a search, a chart opened) commits on PostgreSQL
# when it is its own transaction: "async" does not wait for the WAL flush (an OS
# or database crash may lose the last ~0.6 s of read events, never a write's
# event and never a link of the chain); "durable" waits, as every write does.
# docs/security.md, "Audit". SQLite always waits (synchronous=FULL).
AUDIT_READ_COMMIT = os.getenv("AUDIT_READ_COMMIT", "async")
if AUDIT_READ_COMMIT not in {"async", "durable"}:
    raise ImproperlyConfigured(
        f"AUDIT_READ_COMMIT={AUDIT_READ_COMMIT!r}: use 'async' or 'durable'"
    )
# Source maps are fetched only by a developer's browser tools: compressing
# ninja's (megabytes, with brotli) was most of a first collectstatic.
from whitenoise.compress import Compressor  # type: ignore[import-untyped]  # noqa: E402

WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
