"""The integrator: puts committed consent records and policy publications into the log.

Writing a decision is one INSERT; nothing on the request path touches the log. Each record's
row carries the ID of the transaction that wrote it (`txid`, a column default). Every
transaction with an ID below PostgreSQL's snapshot `xmin` has ended, so the records below it are
all there will ever be: a batch takes those from its cursor up, in (txid, id) order, gives them
the next leaf indexes, and signs a checkpoint that remembers the new cursor. Nothing is skipped
and nothing is taken twice, whatever order writers commit in (docs/integrity.md, "Writing").

One batch runs at a time across all servers, under a PostgreSQL advisory lock held for its
transaction: a batch that dies rolls back whole and frees the lock, and the next integrator to
try takes over where the last checkpoint left off.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from ..models import ConsentPurge, ConsentRecord
from . import store
from .entries import PUBLICATION_SQL, PURGE_SQL, RECORD_SQL, leaf_hash_sql
from .models import LogCheckpoint, LogLeaf

logger = logging.getLogger(__name__)

RECORD, POLICY, PURGE = "record", "policy", "purge"
LOCK = 0x636F6E73656E74  # "consent": the integrator's advisory lock
BATCH = 100_000
INTERVAL = 1.0


def not_in_log(source: str, ref: str) -> str:
    """Return SQL that holds for a row (its ID in SQL `ref`) no leaf of `source` encodes yet."""
    return (
        f"NOT EXISTS (SELECT FROM {LogLeaf._meta.db_table} l"
        f" WHERE l.source = '{source}' AND l.ref = {ref})"
    )


_PENDING_RECORDS = f"""
    SELECT r.id, r.txid::text, {leaf_hash_sql(RECORD_SQL)}
    FROM {ConsentRecord._meta.db_table} r
    JOIN policy_policyversion p ON p.id = r.policy_version_id
    WHERE (r.txid, r.id) > (%(txid)s::xid8, %(id)s) AND r.txid < %(horizon)s::xid8
       -- The calling transaction's own records, not committed yet, unless already integrated.
       OR r.txid = pg_current_xact_id_if_assigned() AND {not_in_log(RECORD, "r.id")}
    ORDER BY r.txid, r.id
    LIMIT %(limit)s
"""
_PENDING_PUBLICATIONS = f"""
    SELECT p.id, {leaf_hash_sql(PUBLICATION_SQL)}
    FROM policy_policyversion p
    WHERE p.status = 'published' AND {not_in_log(POLICY, "p.id")}
    ORDER BY p.published_at, p.id
"""
_PENDING_PURGES = f"""
    SELECT g.id, {leaf_hash_sql(PURGE_SQL)}
    FROM {ConsentPurge._meta.db_table} g
    WHERE {not_in_log(PURGE, "g.id")}
    ORDER BY g.id
"""

# The first record still waiting, in the order the integrator takes them: one step into the
# (txid, id) index, however long the backlog.
_OLDEST_PENDING = f"""
    SELECT created_at FROM {ConsentRecord._meta.db_table}
    WHERE (txid, id) > (%s::xid8, %s)
    ORDER BY txid, id
    LIMIT 1
"""


def oldest_pending(head: LogCheckpoint | None) -> datetime | None:
    """Return when the first record not yet in the log (whose latest checkpoint is `head`) was
    written, or None when every committed record is in: how far the integrator lags."""
    start = (head.cursor, head.cursor_id) if head is not None else (0, 0)
    with connection.cursor() as cursor:
        cursor.execute(_OLDEST_PENDING, [str(start[0]), start[1]])
        row = cursor.fetchone()
    return row[0] if row is not None else None


def integrate(limit: int = BATCH, not_within: float = 0.0) -> LogCheckpoint | None:
    """Integrate one batch of pending entries; return its checkpoint, or None if another
    integrator holds the lock, nothing was pending, or the latest checkpoint is younger than
    `not_within` seconds. The checkpoint's `full_batch` says whether more may be pending.

    Inside a transaction that wrote records itself, those records are integrated too, within it:
    rolled back, they leave no leaf. One that committed would have its records offered again by
    a later batch, so the integrator never runs inside a transaction that writes records.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK])
        if not cursor.fetchone()[0]:
            return None
        head = store.latest()
        age = (timezone.now() - head.created_at).total_seconds() if head is not None else None
        if age is not None and age < not_within:
            return None
        # Read before the records: every transaction below it had ended by then.
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        horizon = int(cursor.fetchone()[0])
        cursor.execute(_PENDING_PUBLICATIONS)
        leaves = [(POLICY, ref, bytes(leaf)) for ref, leaf in cursor.fetchall()]
        cursor.execute(_PENDING_PURGES)
        leaves += [(PURGE, ref, bytes(leaf)) for ref, leaf in cursor.fetchall()]
        start = (head.cursor, head.cursor_id) if head is not None else (0, 0)
        cursor.execute(
            _PENDING_RECORDS,
            {"txid": str(start[0]), "id": start[1], "horizon": str(horizon), "limit": limit},
        )
        rows = cursor.fetchall()
        leaves += [(RECORD, ref, bytes(leaf)) for ref, _txid, leaf in rows]
        # A full batch may have left records of its last transaction behind: start there.
        if len(rows) == limit:
            cursor_after = (int(rows[-1][1]), rows[-1][0])
        else:
            cursor_after = max(start, (horizon, 0))
        if not leaves and head is not None:
            return None
        checkpoint = store.append(leaves, cursor_after)
        checkpoint.full_batch = len(rows) == limit
        return checkpoint


def integrate_all() -> int:
    """Integrate until nothing is pending; return how many entries went in."""
    head = store.latest()
    before = head.size if head is not None else 0
    while (checkpoint := integrate()) is not None:
        head = checkpoint
    return (head.size if head is not None else 0) - before


class Integrator(threading.Thread):
    """Integrate a batch every INTERVAL seconds, in the background of an app process.

    Every process may run one: the lock lets one batch run at a time, and whichever process
    gets it next carries on after a process dies. A database error is logged and retried.
    """

    def __init__(self, interval: float = INTERVAL) -> None:
        super().__init__(name="consent-log-integrator", daemon=True)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import close_old_connections

        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                # One checkpoint an interval across all processes, however many try; a full
                # batch means a backlog, which goes on without waiting.
                checkpoint = integrate(not_within=self.interval)
                while checkpoint is not None and checkpoint.full_batch:
                    if self.stopping.is_set():
                        break
                    checkpoint = integrate()
            except Exception:
                logger.exception("The consent log integrator failed; retrying.")
                close_old_connections()
                connection.close()
            self.stopping.wait(max(0.0, self.interval - (time.monotonic() - started)))
        connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join()


_started: Integrator | None = None
_start_lock = threading.Lock()


def start_in_background() -> Integrator:
    """Start this process's integrator thread, once."""
    global _started
    with _start_lock:
        if _started is None or not _started.is_alive():
            _started = Integrator()
            _started.start()
        return _started


def start_if_enabled() -> None:
    """Start the integrator thread unless CONSENT_LOG_INTEGRATOR is off (the WSGI and ASGI
    entry points call this, so runserver and every gunicorn worker integrate)."""
    from ..conf import conf

    if conf.CONSENT_LOG_INTEGRATOR:
        start_in_background()
