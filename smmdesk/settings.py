"""Django settings, built only from environment variables (see docs/configuration.md)."""

import warnings
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from smmdesk.lib import config as envconfig

CONFIG = envconfig.load()
if CONFIG.problems:
    raise envconfig.ConfigError(CONFIG.problems)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = CONFIG.data_dir
SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins
SMMDESK_HOST = CONFIG.host
SMMDESK_PORT = CONFIG.port
SMMDESK_ADMIN_PATH = CONFIG.admin_path
SMMDESK_ENCRYPTION_KEYS = CONFIG.encryption_keys
SMMDESK_ALLOW_PRIVATE_URLS = CONFIG.allow_private_urls
REDIS_URL = CONFIG.redis_url
SMMDESK_PUBLIC_URL = CONFIG.public_url
SMMDESK_INBOUND_EMAIL_DOMAIN = CONFIG.inbound_email_domain
SMMDESK_TELEGRAM_BOT_TOKEN = CONFIG.telegram_bot_token
SMMDESK_TELEGRAM_API_URL = CONFIG.telegram_api_url
SMMDESK_BACKUP = CONFIG.backup

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_htmx",
    # For its templates and static files: the API docs page then loads Swagger UI from this server,
    # which the Content-Security-Policy allows, instead of from a CDN, which it refuses.
    "ninja",
    "huey.contrib.djhuey",
    "smmdesk.core",
    "smmdesk.accounts",
    "smmdesk.business",
    "smmdesk.channels",
    "smmdesk.inbox",
    "smmdesk.nlp",
    "smmdesk.publishing",
    "smmdesk.listening",
    "smmdesk.contests",
    "smmdesk.audience",
    "smmdesk.keywords",
    "smmdesk.sites",
    "smmdesk.ads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "smmdesk.core.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "smmdesk.api.RejectUnstorableJson",
    "smmdesk.accounts.middleware.UserLanguageMiddleware",
]

ROOT_URLCONF = "smmdesk.urls"
WSGI_APPLICATION = "smmdesk.wsgi.application"
ASGI_APPLICATION = "smmdesk.asgi.application"

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
                "smmdesk.core.context.shell",
            ],
        },
    }
]

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
# Failed logins allowed per e-mail and per client address within the window before refusing.
LOGIN_THROTTLE_LIMIT = 5
LOGIN_THROTTLE_WINDOW = 15 * 60

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("sk", _("Slovak"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise serves from the app folders (WHITENOISE_USE_FINDERS) but expects this folder to exist.
try:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise envconfig.ConfigError([f"SMMDESK_DATA_DIR: cannot write {DATA_DIR}: {exc.strerror}"])
# Uploaded media; never served publicly: only through views that check the workspace and role.
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Under ASGI Django warns for every WhiteNoise file response; the files are small and served correctly.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")
WHITENOISE_AUTOREFRESH = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = CONFIG.email["BACKEND"]
EMAIL_HOST = CONFIG.email["HOST"]
EMAIL_PORT = CONFIG.email["PORT"]
EMAIL_HOST_USER = CONFIG.email["USER"]
EMAIL_HOST_PASSWORD = CONFIG.email["PASSWORD"]
EMAIL_USE_TLS = CONFIG.email["USE_TLS"]
DEFAULT_FROM_EMAIL = CONFIG.email["FROM"]
EMAIL_TIMEOUT = 15

# Security baseline; the HTTPS-only parts switch on with SMMDESK_HTTPS behind a TLS proxy.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SESSION_COOKIE_SECURE = CONFIG.https
CSRF_COOKIE_SECURE = CONFIG.https
LANGUAGE_COOKIE_SECURE = CONFIG.https
LANGUAGE_COOKIE_SAMESITE = "Lax"
if CONFIG.https:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers probe health over plain HTTP inside the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SMMDESK_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)

if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "smmdesk",
        "url": REDIS_URL,
        "immediate": False,
        "utc": True,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Every request reads its session; Redis answers that without a query, and every web process sees
    # the same cache. Sessions are still written through to the database (signing out deletes both).
    # Not without Redis: a per-process cache would keep a signed-out session alive in the others.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "smmdesk",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": False,
        "utc": True,
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "smmdesk.lib.crypto.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "huey": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # httpx logs every request's full URL at INFO; some networks put tokens in URLs.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
