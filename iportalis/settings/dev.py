"""Development and test settings: safe defaults, and a private PostgreSQL unless DATABASE_URL."""

from __future__ import annotations

import os

from common.databases import REPLICA
from iportalis.embedded_db import embedded_database
from iportalis.env import (
    database_from_url,
    dev_signing_key,
    env_bool,
    env_list,
    replica_from_url,
)

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-dev-only-never-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# The app runs as DATABASE_URL's user, and migrates and purges as DATABASE_OWNER_URL's
# (consent.roles); the embedded database has both roles of its own.
_database_url = os.environ.get("DATABASE_URL")
_owner_url = os.environ.get("DATABASE_OWNER_URL")
if _database_url:
    DATABASES = {"default": database_from_url(_database_url)}
    DATABASE_OWNER = database_from_url(_owner_url) if _owner_url else None
else:
    _runtime, DATABASE_OWNER = embedded_database(BASE_DIR / ".pgdata")
    DATABASES = {"default": _runtime}
# Exports, statistics and verification read from a replica when one is given
# (consent.audit.replica).
if _replica_url := os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES[REPLICA] = replica_from_url(_replica_url)

# A key of this checkout's own, made on first use and never committed (.gitignore).
CONSENT_LOG_SIGNING_KEY = os.environ.get("CONSENT_LOG_SIGNING_KEY") or dev_signing_key(
    BASE_DIR / ".consent-log-key", "iportalis.localhost/consent-log"
)

# `./dev run` keeps the plain admin login; production asks staff for a TOTP code too.
STAFF_TWO_FACTOR_REQUIRED = False

# Serve static files straight from the app and project folders, without collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
