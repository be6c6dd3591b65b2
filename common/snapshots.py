"""Facts every request reads (the cookie registry, the newest policy numbers), kept in process.

Reading a snapshot costs a clock read. At most once per `check_every` seconds it compares its
version with the one in Django's cache, where `forget()` writes a new one whenever an admin changes
the facts. With a shared cache (Redis) a change on one host reaches every process within
`check_every`; with the per-process memory cache, within `max_age`.

When the cache or the database cannot be reached, a snapshot keeps serving the value it has and
tries again `check_every` later: pages go on rendering through an outage, and pick up changes by
themselves once it is over.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _Entry(NamedTuple, Generic[T]):
    value: T
    version: str
    check_at: float
    expires_at: float


class Snapshot(Generic[T]):
    def __init__(
        self, key: str, load: Callable[[], T], *, check_every: float = 0.5, max_age: float = 60.0
    ) -> None:
        self.key = key
        self.load = load
        self.check_every = check_every
        self.max_age = max_age
        self._entry: _Entry[T] | None = None

    def get(self) -> T:
        entry = self._entry
        if entry is not None and time.monotonic() < entry.check_at:
            return entry.value
        return self.refresh()

    def refresh(self) -> T:
        """Compare with the shared version now, reload if it changed, and return the value."""
        now = time.monotonic()
        entry = self._entry
        version = self._shared_version()
        if entry is None or now >= entry.expires_at or version not in (None, entry.version):
            try:
                entry = _Entry(self.load(), version or "", 0.0, now + self.max_age)
            except Exception:
                if entry is None:
                    raise
                # Whatever broke, the last value is better than an error page; retried next check.
                logger.warning("Keeping %s: could not reload it", self.key, exc_info=True)
        # One tuple replaced at once: threads reading meanwhile see the old entry or the new one.
        self._entry = entry._replace(check_at=now + self.check_every)
        return entry.value

    def _shared_version(self) -> str | None:
        """Return the version in the shared cache, or None when the cache cannot be reached."""
        try:
            version = cache.get(self.key)
            if version is None:
                cache.add(self.key, uuid.uuid4().hex, timeout=None)
                version = cache.get(self.key, "")
        except Exception:
            logger.warning("Cannot read %s from the cache", self.key, exc_info=True)
            return None
        return str(version)

    def due(self, within: float = 0.0) -> bool:
        """Return whether a `get()` in the next `within` seconds may read the cache or the
        database (async callers then make it from a thread first)."""
        entry = self._entry
        return entry is None or time.monotonic() + within >= entry.check_at

    def forget(self) -> None:
        """Make every process reload: now, and again when the surrounding transaction commits
        (a process that reloaded in between would otherwise keep what the commit replaced)."""
        self._bump()
        if transaction.get_connection().in_atomic_block:  # asks nothing of the database
            transaction.on_commit(self._bump)

    def _bump(self) -> None:
        self._entry = None
        try:
            cache.set(self.key, uuid.uuid4().hex, timeout=None)
        except Exception:
            # Other processes then see the change when their copy expires, within max_age.
            logger.warning("Cannot tell other processes that %s changed", self.key, exc_info=True)
