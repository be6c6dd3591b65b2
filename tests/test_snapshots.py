"""Process-local snapshots: two Snapshot objects with one key stand for two processes."""

import time

import pytest
from django.core.cache import caches

from iportalis.snapshots import Snapshot

pytestmark = pytest.mark.django_db  # forget() also acts when the transaction commits

REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
    }
}


class Source:
    """What the database holds; counts the loads."""

    def __init__(self):
        self.value = "first"
        self.loads = 0

    def load(self):
        self.loads += 1
        return self.value


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = REDIS
    caches["default"].clear()
    yield
    caches["default"].clear()


def test_a_snapshot_reads_the_database_once(redis_cache):
    source = Source()
    snapshot = Snapshot("test:snap", source.load, check_every=60)

    assert [snapshot.get() for _ in range(1000)] == ["first"] * 1000
    assert source.loads == 1


def test_a_change_forgotten_in_one_process_reaches_another_through_redis(redis_cache):
    source = Source()
    here = Snapshot("test:snap", source.load, check_every=0.2)
    there = Snapshot("test:snap", source.load, check_every=0.2)
    assert (here.get(), there.get()) == ("first", "first")

    source.value = "second"
    there.forget()

    assert there.get() == "second"
    assert here.get() == "first"  # until its next look at the shared version
    time.sleep(0.25)
    assert here.get() == "second"


def test_without_a_shared_cache_a_snapshot_still_expires(settings):
    source = Source()
    snapshot = Snapshot("test:snap", source.load, check_every=0, max_age=0.1)
    snapshot.get()

    source.value = "second"
    assert snapshot.get() == "first"
    time.sleep(0.15)

    assert snapshot.get() == "second"
