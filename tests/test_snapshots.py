"""Process-local snapshots: two Snapshot objects with one key stand for two processes."""

import socket
import time

import pytest
from django.core.cache import caches
from django.db import OperationalError

from common.snapshots import Snapshot
from iportalis.env import cache_from_url

pytestmark = pytest.mark.django_db  # forget() also acts when the transaction commits

REDIS_DB = 15


def redis_caches(redis_url):
    return {"default": cache_from_url(f"{redis_url}/{REDIS_DB}")}


class Source:
    """What the database holds; counts the loads."""

    def __init__(self):
        self.value = "first"
        self.loads = 0

    def load(self):
        self.loads += 1
        return self.value


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.CACHES = redis_caches(redis_url)
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


class Flaky(Source):
    """A database that goes away and comes back."""

    def __init__(self):
        super().__init__()
        self.down = False

    def load(self):
        if self.down:
            raise OperationalError("connection refused")
        return super().load()


def test_a_snapshot_keeps_its_value_while_the_database_is_down_and_reloads_after(redis_cache):
    source = Flaky()
    snapshot = Snapshot("test:snap", source.load, check_every=0, max_age=0)
    assert snapshot.get() == "first"

    source.down = True
    source.value = "second"
    assert snapshot.get() == "first"

    source.down = False
    assert snapshot.get() == "second"


def test_a_snapshot_with_nothing_to_fall_back_on_reports_the_outage(redis_cache):
    source = Flaky()
    source.down = True
    snapshot = Snapshot("test:snap", source.load)

    with pytest.raises(OperationalError):
        snapshot.get()


def test_a_snapshot_works_without_redis_and_catches_up_when_it_returns(settings, redis_url):
    source = Source()
    settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{closed_port()}/0")}
    snapshot = Snapshot("test:snap", source.load, check_every=0, max_age=60)
    assert snapshot.get() == "first"  # loaded from the database although Redis is down
    snapshot.forget()  # an admin's change: cannot be announced, but this process reloads
    source.value = "second"
    assert snapshot.get() == "second"

    settings.CACHES = redis_caches(redis_url)
    caches["default"].clear()
    source.value = "third"
    snapshot.forget()
    assert snapshot.get() == "third"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
