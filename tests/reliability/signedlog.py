"""The signed log as the reliability tests see it from outside: the servers' workers integrate in
background threads (iportalis/wsgi.py starts consent.log.integration's Integrator in each), and the
tests read what they committed.

    missing = wait_integrated(acknowledged)          # [] once every record has its leaf
    delays = merge_delays(acknowledged)               # seconds, one a record
    verified = verify_log(server.env)                 # "OK: ..." or fails
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

from consent.log.integration import LOCK
from iportalis.embedded_db import autocommit_cursor

from .servers import manage

CATCH_UP_SECONDS = 30  # after the load: far more than a batch, far less than "never"


def integrated(records: Sequence[int]) -> set[int]:
    """Return which of these records have a leaf in the log."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ref FROM consent_logleaf WHERE source = 'record' AND ref = ANY(%s)",
            [list(records)],
        )
        return {ref for (ref,) in cursor.fetchall()}


def wait_integrated(records: Sequence[int], seconds: float = CATCH_UP_SECONDS) -> list[int]:
    """Wait until every one of these records has its leaf, for at most `seconds`; return those
    still without one (none, if the integrators keep up)."""
    deadline = time.monotonic() + seconds
    while True:
        missing = sorted(set(records) - integrated(records))
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(0.2)


def merge_delays(records: Sequence[int]) -> list[float]:
    """Return each integrated record's merge delay, in seconds: from its created_at to the
    created_at of the first checkpoint whose tree holds its leaf."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT extract(epoch FROM c.created_at - r.created_at)::float8
            FROM consent_consentrecord r
            JOIN consent_logleaf l ON l.source = 'record' AND l.ref = r.id
            CROSS JOIN LATERAL (
                SELECT created_at FROM consent_logcheckpoint
                WHERE size > l.index ORDER BY size LIMIT 1
            ) c
            WHERE r.id = ANY(%s)
            """,
            [list(records)],
        )
        return [delay for (delay,) in cursor.fetchall()]


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def delay_figures(delays: Sequence[float]) -> str:
    return (
        f"p50 {percentile(delays, 0.5):.2f} s, p99 {percentile(delays, 0.99):.2f} s, "
        f"max {max(delays):.2f} s ({len(delays):,} records)"
    )


def verify_log(env: Mapping[str, str]) -> str:
    """Return the last line of `manage.py verify_consents` (with the servers' settings), which
    rebuilds the whole log from the database; it fails the test unless the log verifies."""
    return manage(env, "verify_consents").stdout.strip().splitlines()[-1]


# Who holds the integrator's lock ----------------------------------------------------------

# Advisory locks are per database: other databases of the cluster have integrators of their own.
HOLDERS = f"""
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid::bigint = {LOCK >> 32} AND objid::bigint = {LOCK & 0xFFFFFFFF}
"""
CLIENT_PORT = "SELECT client_port FROM pg_stat_activity WHERE pid = %s"


@dataclass
class LockWatch:
    """Samples of which database backends held the integrator's lock, and their client ports
    (the app process's end of the connection): `(monotonic time, [(pid, port)])`."""

    samples: list[tuple[float, list[tuple[int, int | None]]]]

    @property
    def most_at_once(self) -> int:
        return max((len(holders) for _at, holders in self.samples), default=0)

    @property
    def ports(self) -> set[int]:
        return {port for _at, holders in self.samples for _pid, port in holders if port}


def watch_lock(database_url: str, seconds: float, every: float = 0.002) -> LockWatch:
    """Sample the lock's holders for `seconds`, on a connection of its own."""
    samples = []
    with autocommit_cursor(database_url) as cursor:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            cursor.execute(HOLDERS)
            holders = []
            for (pid,) in cursor.fetchall():
                cursor.execute(CLIENT_PORT, [pid])
                row = cursor.fetchone()
                holders.append((pid, row[0] if row else None))
            samples.append((time.monotonic(), holders))
            time.sleep(every)
    return LockWatch(samples)


def wait_for_holder(database_url: str, ports: set[int], seconds: float) -> bool:
    """Return as soon as a connection from one of these client ports holds the integrator's
    lock (True), or False after `seconds`."""
    with autocommit_cursor(database_url) as cursor:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            cursor.execute(
                f"SELECT a.client_port FROM ({HOLDERS}) h JOIN pg_stat_activity a USING (pid)"
            )
            if {port for (port,) in cursor.fetchall()} & ports:
                return True
    return False


# The integrator takes records below PostgreSQL's xmin horizon, which is the whole cluster's:
# a write transaction open in any database holds back the integration of records in all.
OLDEST_WRITER = """
    SELECT datname, extract(epoch FROM now() - xact_start)::float8 FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 1
"""


@dataclass
class HorizonWatch:
    """Samples of the oldest open write transaction on the cluster: (its database, its age)."""

    samples: list[tuple[str, float]]
    stop: threading.Event

    def summary(self, own_database: str) -> str:
        if not self.samples:
            return "no samples"
        oldest = max(age for _db, age in self.samples)
        over = [(db, age) for db, age in self.samples if age > 1]
        others = sorted({db for db, _age in over if db != own_database})
        return (
            f"oldest {oldest:.1f} s; older than 1 s in {len(over)} of {len(self.samples)} "
            f"samples" + (f", from other databases: {', '.join(others)}" if others else "")
        )


@contextmanager
def watch_horizon(database_url: str, every: float = 0.25) -> Iterator[HorizonWatch]:
    """Sample the oldest write transaction on the cluster, on a connection of its own, until the
    block ends: what holds back the merge delay besides the integrator itself."""
    watch = HorizonWatch([], threading.Event())
    with autocommit_cursor(database_url) as cursor:

        def sample() -> None:
            while not watch.stop.wait(every):
                cursor.execute(OLDEST_WRITER)
                row = cursor.fetchone()
                watch.samples.append((row[0], row[1]) if row else ("", 0.0))

        thread = threading.Thread(target=sample)
        thread.start()
        try:
            yield watch
        finally:
            watch.stop.set()
            thread.join()
