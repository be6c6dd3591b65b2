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
    """Each test starts with an empty cache, reads the registry and policy numbers afresh, and
    has no unknown cookie names waiting to be written."""
    from consent.middleware import forget_readings
    from consent.registry import REGISTRY
    from consent.unknown import sightings
    from policy.models import LATEST_MATERIAL

    cache.clear()
    sightings.forget()
    forget_readings()
    REGISTRY.clear_local()
    LATEST_MATERIAL.clear_local()
    yield
    cache.clear()
