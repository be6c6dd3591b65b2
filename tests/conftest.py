from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Let the test database be emptied between tests: consent records otherwise refuse TRUNCATE."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"ALTER DATABASE {name} SET consent.allow_truncate = 'on'")
        cursor.execute("SET consent.allow_truncate = 'on'")


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: the registry and policy numbers are cached."""
    cache.clear()
    yield
    cache.clear()
