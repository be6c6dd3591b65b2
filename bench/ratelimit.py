"""Measure our rate limit against django-ratelimit's, on the same django-redis cache, in one run.

Issue 16 asked whether consent/ratelimit.py, which re-implements django-ratelimit's fixed windows
(the same rate syntax, per-client window offsets, IPv6 per /64, failing open), still earns its
place once both count in Redis through django-redis. Both count one decision per call for the
same client address, through their public entry points:

  (a) ours: consent.ratelimit.retry_after(request, group): one Lua script, one round trip;
  (b) theirs: django_ratelimit.core.is_ratelimited(request, group, key="ip", rate, increment=True):
      cache.add, then cache.incr (django-redis runs it as a script), two round trips once the
      window's counter exists.

They take turns in rounds of --calls, so drift on the machine favours neither; each figure is
the median round's time per call. Redis is the one in REDIS_URL (default 127.0.0.1:6379, db 12,
flushed before and after).

    .venv/bin/python bench/ratelimit.py [--calls 2000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379") + "/12"
RATE = "1000000/h"  # never reached: both count, neither refuses


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iportalis.settings.dev")
    os.environ.setdefault("DATABASE_URL", "postgres://localhost/unused")  # nothing connects
    os.environ["CACHE_URL"] = REDIS_URL
    os.environ["CONSENT_RATE_LIMIT"] = RATE
    import django

    django.setup()


def per_call(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    setup()
    from django.core.cache import cache
    from django.test import RequestFactory
    from django_ratelimit.core import is_ratelimited

    from consent.ratelimit import DECISIONS, retry_after

    request = RequestFactory().post("/consent/", REMOTE_ADDR="2001:db8::7")
    variants: dict[str, Callable[[], object]] = {
        "(a) ours, retry_after": lambda: retry_after(request, DECISIONS),
        "(b) django-ratelimit, is_ratelimited": lambda: is_ratelimited(
            request, group=DECISIONS, key="ip", rate=RATE, increment=True
        ),
    }
    cache.clear()
    for fn in variants.values():
        per_call(fn, 200)  # warm-up: connections, scripts loaded, counters exist
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            times[name].append(per_call(fn, args.calls))
    cache.clear()
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.calls} calls"
    )
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name}: {median:.1f} µs/call (best round {min(times[name]):.1f})")
    ours, theirs = medians.values()
    print(f"ours / theirs: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
