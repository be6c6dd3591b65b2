"""Verifying the consent log: whole or by time range, in one pass, shared between processes.

The hash format and the check of one chain are in integrity.py; this module reads the records
and reports the first break of each chain (docs/integrity.md, "Verifying").
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Max, Min, Q

from .integrity import (
    CHAINS,
    FORGED,
    FORMAT,
    GENESIS,
    HASHED_FIELDS,
    Break,
    checkpoint_signature,
    encode_json,
    integrity_key,
    iso_utc_sql,
    verify_chain,
)
from .models import ChainCheckpoint, ChainHead, ConsentRecord


@dataclass(frozen=True)
class ChainReport:
    """What verifying one chain found: the records checked lie after `start_seq` up to `end_seq`."""

    chain: int
    checked: int
    start_seq: int
    end_seq: int
    end_hash: str
    problem: Break | None


@dataclass(frozen=True)
class Report:
    """What verifying the log (or the part of it between `since` and `until`) found."""

    chains: tuple[ChainReport, ...]
    since: datetime | None
    until: datetime | None
    seconds: float

    @property
    def checked(self) -> int:
        return sum(chain.checked for chain in self.chains)

    @property
    def breaks(self) -> list[Break]:
        return [chain.problem for chain in self.chains if chain.problem is not None]

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        """Return the break at the oldest record; breaks at no record (removals) come last."""
        return min(
            self.breaks,
            key=lambda b: (b.record_id is None, b.record_id or 0, b.chain),
            default=None,
        )


def verify_log(
    since: datetime | None = None, until: datetime | None = None, processes: int = 1
) -> Report:
    """Verify every chain, whole or for the records created from `since` until before `until`.

    One pass reads the records in id order, which in an untouched log is each chain's order
    too, and checks every chain's links and hashes as they come. With several processes, forked
    workers share that pass by id range, all reading this process's snapshot. A chain that does
    not check out in one pass is read again in seq order, which says where and how it breaks.
    Inside a transaction all stays in this process: no other connection sees its own rows.
    """
    started = time.monotonic()
    key = integrity_key()
    parallel = processes > 1 and not connection.in_atomic_block
    with snapshot():
        chains = _chains()
        ends = {chain: _ends(chain, since, until, key) for chain in chains}
        ranges = _id_ranges(since, until, 4 * processes if parallel else 1)
        if parallel:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                shared = cursor.fetchone()[0]
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(processes, context, initializer=_own_connections) as pool:
                scans = list(pool.map(_scan, repeat(shared), ranges, repeat(since), repeat(until)))
        else:
            scans = [_scan(None, ids, since, until) for ids in ranges]
        reports = tuple(
            _stitch(chain, ends[chain], [scan[chain] for scan in scans if chain in scan])
            or _verify_in_order(chain, ends[chain], key)
            for chain in chains
        )
    return Report(reports, since, until, time.monotonic() - started)


_inherited: list[Any] = []


def _own_connections() -> None:
    """Give a forked worker database connections of its own.

    The parent's are set aside, neither used nor closed: closing one would end the parent's
    session, whose socket they share.
    """
    for alias in connections:
        _inherited.append(connections[alias])
        connections[alias] = connections.create_connection(alias)


@contextmanager
def snapshot(read_only: bool = True) -> Iterator[None]:
    """Run a block in a transaction that reads heads, checkpoints and records as of one moment.

    Otherwise a record appended while a chain is read would look inserted past the head read
    before it, or a head would run ahead of the records read. Inside a caller's transaction, the
    caller's snapshot applies.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            mode = ", READ ONLY" if read_only else ""
            with connection.cursor() as cursor:
                cursor.execute(f"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ{mode}")
        yield


def _chains() -> list[int]:
    """Return every chain, and any other chain number a forged record claims."""
    strays = (
        ConsentRecord.objects.filter(Q(chain__lt=0) | Q(chain__gte=CHAINS))
        .values_list("chain", flat=True)
        .distinct()
    )
    return sorted(set(range(CHAINS)) | set(strays))


@dataclass(frozen=True)
class _Ends:
    """Where verifying a chain starts and must end, and the seqs of the rows in between."""

    start: tuple[int, str]
    end: tuple[int, str]
    after_seq: int | None
    up_to_seq: int | None
    forged: Break | None = None


def _ends(chain: int, since: datetime | None, until: datetime | None, key: bytes) -> _Ends:
    records = ConsentRecord.objects.filter(chain=chain)
    start = None
    if since is not None:
        # By time, not seq: the created_at index finds it at once.
        before = records.filter(created_at__lt=since).order_by("-created_at", "-seq")
        start = before.values_list("seq", "hash").first()
    after_seq = start[0] if start is not None else None
    forged = None
    if start is None:
        # From the chain's beginning: the genesis, or where the last purge cut it. Rows below
        # that are read too, so that a record slipped in under a checkpoint shows.
        start, forged = _chain_start(chain, key)
    following = None
    if until is not None:
        after = records.filter(created_at__gte=until).order_by("created_at", "seq")
        following = after.values_list("seq", "prev_hash").first()
    if following is not None:
        end = (following[0] - 1, following[1])
    else:
        head = ChainHead.objects.filter(chain=chain).values_list("seq", "hash").first()
        end = head or (0, GENESIS)
    return _Ends(start, end, after_seq, end[0] if following is not None else None, forged)


def _chain_start(chain: int, key: bytes) -> tuple[tuple[int, str], Break | None]:
    """Return where a chain begins: the genesis, or its latest purge checkpoint if genuine."""
    checkpoint = ChainCheckpoint.objects.filter(chain=chain).order_by("-seq").first()
    if checkpoint is None:
        return (0, GENESIS), None
    start = (checkpoint.seq, checkpoint.hash)
    expected = checkpoint_signature(
        chain,
        checkpoint.seq,
        checkpoint.hash,
        checkpoint.purged_before,
        checkpoint.purged_at,
        checkpoint.records,
        key,
    )
    if hmac.compare_digest(expected, checkpoint.signature):
        return start, None
    return start, Break(
        chain, checkpoint.seq, None, FORGED, "not signed with the integrity key: not a purge"
    )


def _id_ranges(since: datetime | None, until: datetime | None, parts: int) -> list[tuple[int, int]]:
    """Return `parts` ranges of ids, `[low, high)`, that share out the records of the period."""
    records = ConsentRecord.objects.all()
    if since is not None:
        records = records.filter(created_at__gte=since)
    if until is not None:
        records = records.filter(created_at__lt=until)
    ids = records.aggregate(low=Min("id"), high=Max("id"))
    low, high = ids["low"] or 0, (ids["high"] or 0) + 1
    step = -(-(high - low) // parts)
    return [(n, min(n + step, high)) for n in range(low, high, step)]


@dataclass(slots=True)
class _Segment:
    """What one chain looks like in a stretch of the log read in id order."""

    first_seq: int
    first_prev: str
    last_seq: int
    last_hash: str
    count: int = 0
    ok: bool = True


def _scan(
    shared: str | None, ids: tuple[int, int], since: datetime | None, until: datetime | None
) -> dict[int, _Segment]:
    """Read the records with ids in `[low, high)` and in the period once, in id order, and
    return each chain's segment of them. `shared` is a snapshot to read, from a worker.
    """
    if shared is None:
        return _read_segments(ids, since, until)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [shared])
            return _read_segments(ids, since, until)
    finally:
        connections.close_all()


def _read_segments(
    ids: tuple[int, int], since: datetime | None, until: datetime | None
) -> dict[int, _Segment]:
    where, params = ["id >= %s AND id < %s"], list[Any](ids)
    if since is not None:
        where.append("created_at >= %s")
        params.append(since)
    if until is not None:
        where.append("created_at < %s")
        params.append(until)
    keyed = hmac.new(integrity_key(), digestmod=hashlib.sha256)
    segments: dict[int, _Segment] = {}
    with connection.chunked_cursor() as cursor:
        cursor.cursor.itersize = 5000
        cursor.execute(
            f"SELECT {_ROW_COLUMNS} FROM {ConsentRecord._meta.db_table}"
            f" WHERE {' AND '.join(where)} ORDER BY id",
            params,
        )
        for row in cursor:
            chain, seq, prev_hash, stored = row[1], row[2], row[3], row[-1]
            segment = segments.get(chain)
            if segment is None:
                segment = segments[chain] = _Segment(seq, prev_hash, seq - 1, prev_hash)
            elif not segment.ok:
                continue  # read again in seq order anyway
            digest = keyed.copy()
            digest.update(encode_json([FORMAT, *row[1:-1]]).encode())
            if (
                seq != segment.last_seq + 1
                or prev_hash != segment.last_hash
                or not hmac.compare_digest(digest.hexdigest(), stored)
            ):
                segment.ok = False
                continue
            segment.last_seq, segment.last_hash = seq, stored
            segment.count += 1
    return segments


def _stitch(chain: int, ends: _Ends, segments: list[_Segment]) -> ChainReport | None:
    """Return the chain's report if its segments join up from its start to its end."""
    if ends.forged is not None:
        return ChainReport(chain, 0, ends.start[0], *ends.start, ends.forged)
    (seq, hash), count = ends.start, 0
    for segment in segments:
        if not segment.ok or (segment.first_seq, segment.first_prev) != (seq + 1, hash):
            return None
        seq, hash, count = segment.last_seq, segment.last_hash, count + segment.count
    if (seq, hash) != ends.end:
        return None
    return ChainReport(chain, count, ends.start[0], seq, hash, None)


def _verify_in_order(chain: int, ends: _Ends, key: bytes) -> ChainReport:
    """Verify one chain reading it in seq order: slower, and exact about any break."""
    where, params = ["chain = %s"], [chain]
    if ends.after_seq is not None:
        where.append("seq > %s")
        params.append(ends.after_seq)
    if ends.up_to_seq is not None:
        where.append("seq <= %s")
        params.append(ends.up_to_seq)
    with connection.chunked_cursor() as cursor:
        cursor.cursor.itersize = 5000
        cursor.execute(
            f"SELECT {_ROW_COLUMNS} FROM {ConsentRecord._meta.db_table}"
            f" WHERE {' AND '.join(where)} ORDER BY seq",
            params,
        )
        checked, problem = verify_chain(chain, cursor, ends.end, key, start=ends.start)
    return ChainReport(chain, checked, ends.start[0], *ends.end, problem)


# Rows as verify_chain takes them: consent_id and created_at come as the text that was hashed.
_ROW_COLUMNS = ", ".join(
    [
        "id",
        *(
            {"consent_id": "consent_id::text", "created_at": iso_utc_sql("created_at")}.get(f, f)
            for f in HASHED_FIELDS
        ),
        "hash",
    ]
)
