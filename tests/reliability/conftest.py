"""Fixtures of the reliability suite: production gunicorn servers on the test database.

Every test in this folder is marked `reliability`, which pyproject.toml's addopts deselects; run
them on their own with `pytest -m reliability`.

The servers are other processes: they see only committed rows. Rows they must see are created in
a session or module fixture under `django_db_blocker.unblock()` (autocommit), as `superuser` does
below, never inside a `django_db` test, whose transaction is rolled back unseen. What the servers
commit, a `django_db` test reads as usual.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from .servers import fresh_redis, manage, site_env

RELIABILITY = pytest.mark.reliability


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    folder = Path(__file__).parent
    for item in items:
        if folder in item.path.parents:
            item.add_marker(RELIABILITY)


@pytest.fixture(scope="session")
def database_url(django_db_setup: None) -> str:
    """Return the URL of pytest-django's test database, for servers to share with the tests."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = quote(db["HOST"] or "localhost", safe="")  # a socket directory for the embedded one
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def static_root(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Collect the static files once, for every server of the run (whitenoise's manifest)."""
    root = tmp_path_factory.mktemp("static")
    env = site_env(database_url=database_url, cache_url="locmem://", static_root=root)
    manage(env, "collectstatic", "--noinput")
    return root


@pytest.fixture(scope="session")
def env_for(database_url: str, static_root: Path):
    """Return a function giving a server's environment on the test database, with an emptied
    Redis database as its cache: `env_for(redis_db=13, LOG_LEVEL="INFO")`.

    Servers meant to share a cache take one environment; each call empties the Redis database.
    """

    def env_for(*, redis_db: int, **extra: str) -> dict[str, str]:
        return site_env(
            database_url=database_url,
            cache_url=fresh_redis(redis_db),
            static_root=static_root,
            **extra,
        )

    return env_for


@pytest.fixture(scope="session")
def superuser(django_db_setup: None, django_db_blocker) -> tuple[str, str]:
    """Return the username and password of a superuser committed for the servers to see."""
    from django.contrib.auth import get_user_model

    username, password = "reliability-admin", "reliability-admin-password-7f3a"
    with django_db_blocker.unblock():
        get_user_model().objects.filter(username=username).delete()
        get_user_model().objects.create_superuser(username, f"{username}@example.com", password)
    return username, password
