"""Limits on how many consent records one client address may write, counted in Django's cache.

One client must not be able to flood the append-only log. Each address may write
CONSENT_RATE_LIMIT decisions per period, and as many GPC records: a browser that sends
`Sec-GPC: 1` but keeps no cookies is due a GPC record on every page it loads. The counters are
django-ratelimit's fixed windows in the default cache, so with Redis they hold across every
process and host; with the per-process memory cache, per process. The address is REMOTE_ADDR,
which ForwardedForMiddleware sets to the client's behind trusted proxies.

The limit fails open: when the cache cannot count, the request goes through. An outage of Redis
must never stop a visitor's choice from being recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django_ratelimit.core import get_usage

from .conf import conf

logger = logging.getLogger(__name__)

DECISIONS = "consent.decisions"
GPC_SIGNALS = "consent.gpc"

View = Callable[..., HttpResponseBase]
TooMany = Callable[[HttpRequest, int], HttpResponseBase]


def retry_after(request: HttpRequest, group: str) -> int | None:
    """Count the request against its client address's limit in `group`. Return the seconds until
    the address may write again if it is over the limit, else None."""
    try:
        usage = get_usage(
            request, group=group, key="ip", rate=conf.CONSENT_RATE_LIMIT, increment=True
        )
    except Exception:
        # Each cache backend raises its own errors (redis.ConnectionError, OSError, ...), and
        # django-ratelimit catches only a few of them (RATELIMIT_FAIL_OPEN covers those): an
        # uncounted record is better than a lost one.
        logger.warning("Could not count a request against the %s limit", group, exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


def limit_decisions(too_many: TooMany) -> Callable[[View], View]:
    """Decorate a view so that a POST over the limit gets `too_many(request, seconds)` with a
    Retry-After header instead, and writes nothing. Other methods are not counted."""

    def decorator(view: View) -> View:
        @wraps(view)
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
