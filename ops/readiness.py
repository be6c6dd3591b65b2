"""Whether this process should take traffic: the checks behind /readyz.

- `database`: PostgreSQL answers a query;
- `log_lag`: the oldest consent record not yet in the signed log is younger than
  CONSENT_LOG_MAX_LAG seconds (the integrator keeps up);
- `signing_key`: the log's signing key is loaded (CONSENT_LOG_SIGNING_KEY parses);
- `redis`: Redis answers PING, when the default cache is Redis (else it is not checked).

Each check runs in a thread of its own and counts as failed after READINESS_TIMEOUT seconds, so a
database that does not answer at all (a partition: connecting waits up to `connect_timeout`)
still gets a prompt 503. A check still running from an earlier probe is waited on again rather
than started twice, so probes during an outage never pile up threads or connections. The
database threads close their connection when done: a probe holds none between probes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from typing import Any

from django.core.cache import caches
from django.db import connection
from django_redis.cache import RedisCache

from consent.conf import conf as consent_conf
from consent.log import store
from consent.log.integration import oldest_pending

from .conf import conf

logger = logging.getLogger(__name__)

Result = dict[str, Any]


def check_database() -> Result:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_log_lag() -> Result:
    bound = consent_conf.CONSENT_LOG_MAX_LAG
    pending = oldest_pending(store.latest())
    lag = 0.0 if pending is None else time.time() - pending.timestamp()
    return {"ok": lag < bound, "seconds": round(max(lag, 0.0), 3), "bound": bound}


def check_signing_key() -> Result:
    store.signer()  # raises NoteError for a malformed key
    return {"ok": True}


def check_redis() -> Result:
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return {"ok": True, "configured": False}
    cache.client.get_client(write=True).ping()
    return {"ok": True, "configured": True}


CHECKS: dict[str, Callable[[], Result]] = {
    "database": check_database,
    "log_lag": check_log_lag,
    "signing_key": check_signing_key,
    "redis": check_redis,
}
# Checks that open a database connection of their own thread, closed when they end.
USES_DATABASE = {"database", "log_lag"}

_running: dict[str, Future[Result]] = {}
_lock = threading.Lock()


def _run(name: str, future: Future[Result]) -> None:
    try:
        future.set_result(CHECKS[name]())
    except Exception as error:
        # /readyz answers anyone: the exception's text (a database host, a key's fault) goes to
        # the log, its class to the probe.
        logger.warning("readiness check %s failed", name, exc_info=True)
        future.set_result({"ok": False, "error": type(error).__name__})
    finally:
        if name in USES_DATABASE:
            connection.close()


def _start(name: str) -> Future[Result]:
    with _lock:
        future = _running.get(name)
        if future is None or future.done():
            future = _running[name] = Future()
            thread = threading.Thread(target=_run, args=(name, future), name=f"readyz-{name}")
            thread.daemon = True
            thread.start()
        return future


def readiness() -> tuple[bool, dict[str, Result]]:
    """Run every check at once; return whether all passed, and each one's result."""
    timeout = float(conf.READINESS_TIMEOUT)
    futures = {name: _start(name) for name in CHECKS}
    wait(futures.values(), timeout=timeout)
    results = {
        name: future.result()
        if future.done()
        else {"ok": False, "error": f"no answer within {timeout:g} s"}
        for name, future in futures.items()
    }
    return all(result["ok"] for result in results.values()), results
