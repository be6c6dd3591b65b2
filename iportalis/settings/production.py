"""Production settings: everything from the environment, and no start without the essentials."""

from __future__ import annotations

import os

from common.databases import REPLICA
from iportalis.env import (
    database_from_url,
    env_bool,
    env_int,
    env_list,
    replica_from_url,
    require,
)

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = require("SECRET_KEY")
# The app runs as DATABASE_URL's user; `migrate` and the retention purge as the owner's, which
# only the hosts that run them need (consent.roles, docs/operations.md "Database roles").
DATABASES = {"default": database_from_url(require("DATABASE_URL"))}
_owner_url = os.environ.get("DATABASE_OWNER_URL")
DATABASE_OWNER = database_from_url(_owner_url) if _owner_url else None
# Exports, statistics and verification read from a replica when one is given
# (consent.audit.replica).
if _replica_url := os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES[REPLICA] = replica_from_url(_replica_url)
CONSENT_LOG_SIGNING_KEY = require("CONSENT_LOG_SIGNING_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    require("ALLOWED_HOSTS")

# Behind a TLS-terminating proxy, name the header it sets, e.g. HTTP_X_FORWARDED_PROTO.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header[0], "https")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Every staff sign-in (admins, editors, auditors) takes a TOTP code: `manage.py enrol_totp`.
STAFF_TWO_FACTOR_REQUIRED = True

SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
