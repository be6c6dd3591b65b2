"""Read settings from the environment, failing loudly on values we cannot use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

CONNECT_TIMEOUT = 5  # seconds

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off", ""}
D = TypeVar("D")  # a default of any type, None included


def env_bool(name: str, default: D) -> bool | D:
    """The boolean in the environment variable `name` (1/0, true/false, yes/no, on/off), or
    `default` if it is unset."""
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word not in TRUE_VALUES | FALSE_VALUES:
        raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}.")
    return word in TRUE_VALUES


def env_int(name: str, default: D) -> int | D:
    """The whole number in the environment variable `name`, or `default` if it is unset."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: D) -> list[str] | D:
    """Return a comma-separated variable as a list, ignoring blanks."""
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def require(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The {name} environment variable is required in production.")
    return value


def database_from_url(url: str, name: str = "DATABASE_URL") -> dict[str, Any]:
    """Return Django's DATABASES entry for a PostgreSQL URL.

    Connections persist and are health-checked, so a database restart costs one failed request
    per connection at most, never a restart of the app. A database that does not answer at all
    (a network partition) fails a connection attempt after a few seconds, not after the
    operating system's two minutes: the visitor gets a 503 while the worker is still alive.
    """
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    )
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", CONNECT_TIMEOUT)
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"{name} must point to PostgreSQL (postgres://user@host:port/name); "
            "the consent log relies on PostgreSQL triggers."
        )
    return config


def replica_from_url(url: str) -> dict[str, Any]:
    """Return Django's DATABASES entry for the read replica of DATABASE_REPLICA_URL.

    Its sessions are read-only, so that a URL naming a writable server by mistake still cannot
    be written through. Test runs make their database on the primary only, and read it as the
    replica too (Django's test mirror).
    """
    config = database_from_url(url, "DATABASE_REPLICA_URL")
    options = config["OPTIONS"]
    options["options"] = f"{options.get('options', '')} -c default_transaction_read_only=on".strip()
    config["TEST"] = {"MIRROR": "default"}
    return config


def cache_from_url(url: str) -> dict[str, Any]:
    """Return Django's CACHES entry: local memory by default, Redis for redis:// URLs."""
    if url in ("", "locmem://"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if url.startswith(("redis://", "rediss://", "unix://")):
        # django-redis keeps one client per server (Django's own backend builds a redis.Redis
        # for every call: docs/benchmarks.md). A Redis that hangs costs a request a second at most.
        return {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    raise ImproperlyConfigured(f"CACHE_URL must be locmem:// or a redis:// URL, not {url!r}.")


def dev_signing_key(path: Path, name: str) -> str:
    """Return the consent log's signing key kept in `path`, generating it the first time."""
    from consent.log.note import generate_signer

    if not path.exists():
        path.write_text(str(generate_signer(name)) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()
