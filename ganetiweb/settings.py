"""Settings for ganetiweb, read from environment variables (see README "Settings")."""

import sys
from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from ganetiweb.env import (
    SettingError,
    credentials_keys,
    database_from_url,
    envbool,
    envchoice,
    envint,
    envlist,
    envnetworks,
    envstr,
    redis_url,
    renamed,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent

try:
    DATA_DIR = Path(
        envstr("GANETIWEB_DATA_DIR", str(Path.home() / ".local" / "share" / "ganetiweb"))
    )
    SECRET_KEY = secret_key("SECRET_KEY", DATA_DIR / "secret_key")
    DEBUG = envbool("DEBUG", False)
    ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
    CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
    DATABASES = {
        "default": database_from_url("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
    }
    REDIS_URL = redis_url("REDIS_URL", "redis://127.0.0.1:6379/0")
    # Behind HTTPS the cookies are secure and plain HTTP is redirected.
    HTTPS = envbool("HTTPS", False)
    # Encrypt the cluster passwords stored in the database (clusters/crypto.py): the first
    # encrypts, any decrypts. A key of their own, so that a leaked or rotated SECRET_KEY
    # neither reveals nor loses them; generated once for the demo, required behind HTTPS.
    renamed("CREDENTIALS_KEY", "CREDENTIALS_KEYS")
    CREDENTIALS_KEYS = credentials_keys("CREDENTIALS_KEYS", DATA_DIR / "credentials_key", HTTPS)
    # Failed logins of one username from one address before it is locked out, and for how
    # long (django-axes, ganetiweb/login.py).
    LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
    LOGIN_LOCKOUT_MINUTES = envint("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
    # A session ends after this many seconds without a request.
    SESSION_IDLE_TIMEOUT = envint("SESSION_IDLE_TIMEOUT", 8 * 3600, minimum=60)
    SYNC_INTERVAL = envint("SYNC_INTERVAL", 60, minimum=5)
    # Seconds between metric samplings of a cluster (vms/metrics.py).
    METRICS_INTERVAL = envint("METRICS_INTERVAL", 60, minimum=10)
    # The bearer token Prometheus sends to scrape /metrics; empty: the export is off.
    METRICS_TOKEN = envstr("METRICS_TOKEN", "")
    # One RAPI request ends within this many seconds however slowly the answer comes, and an
    # answer larger than this is refused (clusters/backends/ganeti.py).
    RAPI_REQUEST_DEADLINE = envint("RAPI_REQUEST_DEADLINE", 120, minimum=5)
    RAPI_MAX_ANSWER_MB = envint("RAPI_MAX_ANSWER_MB", 64, minimum=1)
    # Networks no cluster may lead a worker or the console to, on top of the built-in rules
    # (clusters/backends/destinations.py): e.g. the management network.
    CLUSTER_BLOCKED_NETWORKS = envnetworks("CLUSTER_BLOCKED_NETWORKS")
    EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
    DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "ganetiweb@localhost")
    # The address people open the site at, for the links in emails.
    SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
    LOG_LEVEL = envchoice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"])
except SettingError as exc:
    sys.exit(f"ganetiweb cannot start: {exc}")

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
    "django_htmx",
    "django_rq",
    "guardian",
    "axes",
    "ganetiweb",
    "notifications",
    "audit",
    "access",
    "jobs",
    "clusters",
    "vms",
    "courses",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ganetiweb.sessions.idle_timeout",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a login refused for a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ganetiweb.urls"
WSGI_APPLICATION = "ganetiweb.wsgi.application"
ASGI_APPLICATION = "ganetiweb.asgi.application"

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
                "ganetiweb.navigation.navigation",
                "ganetiweb.navigation.counts",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): failures are counted per username and address together, so
# that someone guessing a password from one address neither locks the real user out from
# theirs nor gets more tries by changing address. Admins unlock in the admin (Axes: Access
# attempts) or with `manage.py axes_reset` / `axes_reset_username USERNAME`.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_RESET_ON_SUCCESS = True
# No "AXES: BEGIN ..." banner on every management command; lockouts are still logged.
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "ganetiweb.login.locked_out"
# The address uvicorn gives (behind the proxies of FORWARDED_ALLOW_IPS, the client's), never
# a header the client could write itself.
AXES_CLIENT_IP_CALLABLE = "ganetiweb.login.client_address"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pt-br", _("Brazilian Portuguese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
# Only the built files of each npm package are published, under vendor/.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/novnc", NODE_MODULES / "@novnc" / "novnc"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

# coursework: the deployment checks of student groups' clusters (courses/jobs.py), kept off
# the queues of VM operations and syncs; give it a worker of its own, or list it last.
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}
    for name in ("high", "default", "low", "coursework")
}
RQ = {
    # Workers first end or resume the jobs of workers that died (jobs/recovery.py).
    "WORKER_CLASS": "jobs.recovery.RecoveringWorker",
    # Our code enqueues with transaction.on_commit where a row must exist first; the queue
    # itself enqueues at once, so there is one deferral mechanism, visible in our code.
    "COMMIT_MODE": "auto",
}
# What the jobs run, imported by a worker once before it forks a work horse per job; otherwise
# every work horse imports them again, 70-90 ms of each job's time (bench/README.md,
# `job_runner.py`).
# The apps' job modules are imported by their AppConfig.ready, which registers their kinds.
JOB_PRELOAD_MODULES = ["clusters.backends.ganeti", "clusters.backends.libvirt"]
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}
# Console tickets and libvirt VMs' VNC passwords (vms/console_tickets.py); the tests point it
# at their own Redis. The console re-checks access and the VM's endpoint this often (seconds).
CONSOLE_REDIS_URL = REDIS_URL
# libvirt's test:// driver reads a file named in the URI: for the test suite only.
LIBVIRT_TEST_DRIVER = False
CONSOLE_RECHECK_SECONDS = 5

# guardian: no anonymous user row; anonymous visitors are sent to the login page.
ANONYMOUS_USER_NAME = None

# A session ends SESSION_IDLE_TIMEOUT after its last request (ganetiweb/sessions.py saves it
# again, at most once a minute, to push its end back).
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
# Cookies: sent over HTTPS only behind HTTPS, never readable by scripts (the pages hand the
# CSRF token to htmx and the console themselves), and left out of other sites' forms and
# embedded requests (Lax: a plain link from elsewhere still opens the page logged in).
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
