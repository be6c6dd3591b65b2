"""The shared cache (django-redis), and the rate limit's counter in one round trip."""

import pytest
from django.core.cache import caches

from consent.ratelimit import hit
from iportalis.env import cache_from_url

DB = 10


@pytest.fixture
def cache(settings, redis_url):
    settings.CACHES = {"default": cache_from_url(f"{redis_url}/{DB}")}
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


def ttl(cache, key):
    return cache.ttl(key)


def test_a_counter_starts_at_one_with_its_expiry_and_counts_on(cache):
    assert hit(cache, "count", 60) == 1
    assert 0 < ttl(cache, "count") <= 60

    assert [hit(cache, "count", 3600) for _ in range(3)] == [2, 3, 4]

    assert ttl(cache, "count") <= 60  # the window is the first hit's, not renewed
    assert cache.get("count") == 4  # an int, as Django's own API reads and writes it


def test_a_counter_in_local_memory_counts_the_same(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache = caches["default"]

    assert [hit(cache, "count", 60) for _ in range(3)] == [1, 2, 3]
    assert cache.get("count") == 3


def test_the_rest_of_the_api_works_as_django_s(cache):
    assert cache.add("key", {"a": 1}, timeout=60) is True
    assert cache.add("key", "other") is False
    assert cache.get("key") == {"a": 1}
    cache.set("n", 1)
    assert cache.incr("n", 2) == 3
    cache.set_many({"x": 1, "y": "two"})
    assert cache.get_many(["x", "y", "z"]) == {"x": 1, "y": "two"}
    assert cache.delete("key") is True
    assert cache.get("key", "gone") == "gone"


def test_one_redis_client_serves_every_call(cache):
    """Why django-redis: Django's own backend built a client for every call."""
    client = cache.client.get_client()

    assert cache.client.get_client(write=True) is client
    hit(cache, "count", 60)
    cache.get("count")
    assert cache.client.get_client() is client
