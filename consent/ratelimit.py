"""Limits on how many consent records one client address may write, counted in Django's cache.

One client must not be able to flood the append-only log. Each address may write
CONSENT_RATE_LIMIT decisions per period, and as many GPC records: a browser that sends
`Sec-GPC: 1` but keeps no cookies is due a GPC record on every page it loads. The counts are fixed
windows in the default cache, so with Redis they hold across every process and host; with the
per-process memory cache, per process. A count costs one round trip to Redis (`hit`). The
address is REMOTE_ADDR, which ForwardedForMiddleware sets to the client's behind trusted proxies
(TRUSTED_PROXIES); IPv6 addresses count per /64, the block one subscriber gets, and IPv4-mapped
ones (`::ffff:192.0.2.1`) as the IPv4 address they are.

The limit fails open: when the cache cannot count, the request goes through. An outage of Redis
must never stop a visitor's choice from being recorded.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import time
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponseBase
from django_redis.cache import RedisCache

from common.middleware import ip_of
from ops.metrics import RATE_LIMITED

from .conf import conf
from .sanitise import ip_hmac

logger = logging.getLogger(__name__)

DECISIONS = "consent.decisions"
GPC_SIGNALS = "consent.gpc"
KEY_PREFIX = "consent.rate"

# "30/m", "100/5m": a count, a slash, then a unit, optionally after a number of them.
RATE = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)?([smhd])")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Start a counter at 1 with its expiry, or add one to it and leave its expiry be: one round trip
# where Django's API takes two (add, then incr).
HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""

View = Callable[..., HttpResponseBase]
TooMany = Callable[[HttpRequest, int], HttpResponseBase]


class Rate(NamedTuple):
    limit: int
    period: int  # seconds


@functools.lru_cache(maxsize=16)
def parse_rate(rate: str) -> Rate:
    """Return the count and period of a rate such as "30/m"; ValueError if it is not one."""
    match = RATE.fullmatch(rate)
    if match is None:
        raise ValueError(f"not a rate such as 30/m or 100/5m: {rate!r}")
    count, periods, unit = match.groups()
    return Rate(int(count), int(periods or 1) * UNITS[unit])


@functools.lru_cache(maxsize=4096)
def client_of(address: str) -> str:
    """Return what an address counts as: its keyed hash (no raw IP in the cache), per /64 for
    IPv6, where one subscriber holds a whole block. An IPv4-mapped IPv6 address is the IPv4
    client it maps: all of them are in one /64."""
    ip = ip_of(address)
    if ip is not None:
        if ip.version == 6:
            ip = ipaddress.ip_network((ip, 64), strict=False).network_address
        address = str(ip)
    return ip_hmac(address)


def window(client: str, period: int, now: float) -> tuple[int, float]:
    """Return which window of `period` seconds `now` falls in for a client, and the seconds left
    in it. Each client's windows are shifted by a hash of it, so they do not all end at once."""
    number, into = divmod(now - zlib.crc32(client.encode()) % period, period)
    return int(number), period - into


def hit(cache: BaseCache, key: str, timeout: int) -> int:
    """Add one to the counter `key`, which starts at 1 and lasts `timeout` seconds from then;
    return its count. One round trip with django-redis; with other caches, Django's add and incr.
    """
    if isinstance(cache, RedisCache):
        client = cache.client.get_client(write=True)
        return int(_script(client)(keys=[cache.make_and_validate_key(key)], args=[timeout]))
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # it expired between the two
        cache.add(key, 1, timeout)
        return 1


@functools.lru_cache(maxsize=8)
def _script(client: Any) -> Any:
    return client.register_script(HIT)


def retry_after(request: HttpRequest, group: str) -> int | None:
    """Count the request against its client address's limit in `group`. Return the seconds until
    the address may write again if it is over the limit, else None."""
    rate = parse_rate(conf.CONSENT_RATE_LIMIT)
    client = client_of(request.META.get("REMOTE_ADDR", ""))
    number, left = window(client, rate.period, time.time())
    try:
        count = hit(caches["default"], f"{KEY_PREFIX}:{group}:{client}:{number}", rate.period)
    except Exception:
        # Each cache backend raises its own errors (redis.ConnectionError, OSError, ...): an
        # uncounted record is better than a lost one.
        logger.warning("Could not count a request against the %s limit", group, exc_info=True)
        return None
    if count <= rate.limit:
        return None
    RATE_LIMITED.labels(group.removeprefix("consent.")).inc()
    return max(1, int(left))


def limit_decisions(too_many: TooMany) -> Callable[[View], View]:
    """Decorate a view so that a POST over the limit gets `too_many(request, seconds)` with a
    Retry-After header instead, and writes nothing. Other methods are not counted."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def limited_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method == "POST":
                seconds = retry_after(request, DECISIONS)
                if seconds is not None:
                    response = too_many(request, seconds)
                    response["Retry-After"] = str(seconds)
                    return response
            return view(request, *args, **kwargs)

        return limited_view

    return decorator
