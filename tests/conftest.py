from __future__ import annotations

import os
from collections import Counter

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection

from consent.roles import CREDENTIALS, RUNTIME_ROLE

REDIS = "redis://127.0.0.1:6379"

# Figures a test reports ("requests sent", "cases tried", ...), printed at the end of the run so
# that CI's log holds the numbers docs/benchmarks.md quotes.
FIGURES: dict[str, list[str]] = {}
# The hostile-input suite's totals over every test that sends through its Probe
# (tests/consent/test_hostile*.py), printed with the figures.
HOSTILE: Counter[str] = Counter()


@pytest.fixture
def figures(request):
    """Return a function that records one figure under the test's name: figures("5xx", 0)."""

    def record(label: str, value: object) -> None:
        FIGURES.setdefault(request.node.nodeid, []).append(f"{label}: {value}")

    return record


def pytest_collection_modifyitems(config, items):
    """Leave the reliability suite (tests/reliability: minutes of load on gunicorn) out unless
    asked for by name: ./dev test -m reliability."""
    if "reliability" in config.getoption("markexpr", ""):
        return
    kept = [item for item in items if not item.get_closest_marker("reliability")]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("figures")
    if HOSTILE:
        terminalreporter.write_line(
            f"hostile-input suite: {HOSTILE['cases']} cases in {HOSTILE['tests']} tests, "
            f"{HOSTILE['server_errors']} answered 5xx, {HOSTILE['records']} records written"
        )
    for test, lines in FIGURES.items():
        terminalreporter.write_line(test)
        for line in lines:
            terminalreporter.write_line(f"    {line}")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Return the address of the Redis that tests of the Redis cache use (each picks a database
    number of its own). Without one they skip, as browser tests do without chromium, except in CI,
    where they must run."""
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis tests must run in CI: nothing answers at {REDIS} ({error}).")
        pytest.skip(f"No Redis at {REDIS}: start one to run the tests of the Redis cache.")
    finally:
        client.close()
    return REDIS


# How the runtime role logs in, when the settings name a separate owner (the embedded database,
# or DATABASE_URL with DATABASE_OWNER_URL): tests of what it may not do connect this way.
RUNTIME_LOGIN: dict[str, object] = {}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Create and migrate the test database as the owner role, as production migrates."""
    default = settings.DATABASES["default"]
    owner = getattr(settings, "DATABASE_OWNER", None)
    if owner:
        RUNTIME_LOGIN.update({key: default.get(key) for key in CREDENTIALS})
        default.update({key: owner.get(key) for key in CREDENTIALS})


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Then run every test as the runtime role: the session logs in as the owner and takes the
    runtime role (SET ROLE), which `consent.roles.as_owner` gives back for what only the owner
    may do: emptying the tables between transactional tests, the purge, a test's tampering."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    with django_db_blocker.unblock():
        MIGRATED["default"] = connection.creation.serialize_db_to_string()
        connection.close()
    options["assume_role"] = RUNTIME_ROLE
    yield
    with django_db_blocker.unblock():
        connection.close()
    del options["assume_role"]


# What `migrate` left in the test database, serialized once after it ran, as pytest-django's
# serialized_rollback would take it.
MIGRATED: dict[str, str] = {}


@pytest.fixture
def migrated_db(transactional_db: None) -> None:
    """Give a transactional test the rows `migrate` made (the published policy versions, the seed
    registry, the Auditors group, content types and permissions), whatever the transactional
    tests before it left in the tables.

    serialized_rollback cannot: it loads the rows over those still there, and the database
    refuses any UPDATE of a published policy version (policy/0002). So the tables are emptied
    first, as the owner and without post_migrate's content types, and the rows go back in through
    Django's own deserialization, never through migration code.
    """
    call_command(
        "flush", interactive=False, verbosity=0, reset_sequences=False, inhibit_post_migrate=True
    )
    connection.creation.deserialize_db_from_string(MIGRATED["default"])


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache, reads the registry and policy numbers afresh, and
    has no unknown cookie names waiting to be written."""
    from consent.enforcement.registry import REGISTRY
    from consent.enforcement.unknown import sightings
    from policy.models import PUBLISHED

    cache.clear()
    sightings.take()
    REGISTRY.forget()
    PUBLISHED.forget()
    yield
    cache.clear()
