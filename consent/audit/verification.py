"""Verifying the consent log from the database, with the public key alone (docs/integrity.md).

Two passes read one snapshot of the database:

- the entries: every leaf's hash is recomputed in SQL from the row it encodes (a record, a
  policy publication, a purge) and compared with the stored one; a leaf whose record is gone
  must be accounted for by the purges; a record with no leaf must be newer than the
  integrator's cursor; every published policy's text must match its SHA-256;
- the tree: the stored leaf hashes are read in index order and grown into the tree again:
  every full tile is compared with the stored one, every checkpoint's signature, origin and
  root with the tree of its size, and every checkpoint kept elsewhere likewise.

Outside a transaction the first pass runs on a second connection that shares this one's
snapshot, while this one reads the tree: PostgreSQL builds entries as Python grows the tree.
Memory stays flat: rows are streamed, problems beyond MAX_LISTED are only counted.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from policy.rendering import content_sha256

from ..log import merkle, note, store, tiles
from ..log.entries import PUBLICATION_SQL, PURGE_SQL, RECORD_SQL, leaf_hash_sql
from ..log.integration import POLICY, PURGE, RECORD, not_in_log
from ..log.models import LogCheckpoint, LogLeaf, LogTile
from ..models import ConsentPurge, ConsentRecord
from .replica import describe

CHUNK = 1 << 16  # leaves per read: whole tiles, 2 MB of hashes
MAX_LISTED = 100

CHANGED = "changed"
REMOVED = "removed"
NOT_INTEGRATED = "not integrated"
TREE = "tree"
TILE = "tile"
CHECKPOINT = "checkpoint"
POLICY_TEXT = "policy text"
KEPT = "kept checkpoint"

_LEAVES = LogLeaf._meta.db_table
_RECORDS = ConsentRecord._meta.db_table
_PURGES = ConsentPurge._meta.db_table

# Record leaves whose record no longer makes them, and those whose record is gone. The first
# is the longest part of a verification: an inner join lets PostgreSQL share it out among
# parallel workers.
_CHANGED_RECORDS = f"""
    SELECT l.index, l.ref
    FROM {_RECORDS} r
    JOIN {_LEAVES} l ON l.source = '{RECORD}' AND l.ref = r.id
    LEFT JOIN policy_policyversion p ON p.id = r.policy_version_id
    WHERE l.hash IS DISTINCT FROM {leaf_hash_sql(RECORD_SQL)}
    ORDER BY l.index
"""
# The same pass, counted: the common case, where nothing broke, needs only this one. A count
# is an aggregate PostgreSQL's parallel workers can share; listing what broke takes a second
# pass, run only when something did.
_COUNT_RECORD_LEAVES = f"""
    SELECT count(*), count(*) FILTER (WHERE l.hash IS DISTINCT FROM {leaf_hash_sql(RECORD_SQL)})
    FROM {_RECORDS} r
    JOIN {_LEAVES} l ON l.source = '{RECORD}' AND l.ref = r.id
    LEFT JOIN policy_policyversion p ON p.id = r.policy_version_id
"""
_GONE_RECORDS = f"""
    SELECT l.index, l.ref
    FROM {_LEAVES} l
    WHERE l.source = '{RECORD}' AND NOT EXISTS (SELECT FROM {_RECORDS} r WHERE r.id = l.ref)
    ORDER BY l.index
"""
# Other leaves that do not match their row: (index, source, ref, whether the row is gone).
_BAD_OTHER_LEAVES = f"""
    SELECT l.index, l.source, l.ref, p.id IS NULL
    FROM {_LEAVES} l
    LEFT JOIN policy_policyversion p ON p.id = l.ref AND p.status = 'published'
    WHERE l.source = '{POLICY}'
      AND (p.id IS NULL OR l.hash IS DISTINCT FROM {leaf_hash_sql(PUBLICATION_SQL)})
    UNION ALL
    SELECT l.index, l.source, l.ref, g.id IS NULL
    FROM {_LEAVES} l
    LEFT JOIN {_PURGES} g ON g.id = l.ref
    WHERE l.source = '{PURGE}'
      AND (g.id IS NULL OR l.hash IS DISTINCT FROM {leaf_hash_sql(PURGE_SQL)})
    UNION ALL
    SELECT l.index, l.source, l.ref, true
    FROM {_LEAVES} l WHERE l.source NOT IN ('{RECORD}', '{POLICY}', '{PURGE}')
    ORDER BY 1
"""
# Records past the integrator's place without a leaf: pending.
_PENDING = f"""
    SELECT count(*) FROM {_RECORDS} r
    WHERE (r.txid, r.id) > (%(cursor)s::xid8, %(cursor_id)s)
      AND {not_in_log(RECORD, "r.id")}
"""
# Records without a leaf, and whether the integrator's cursor has passed them.
_UNINTEGRATED = f"""
    SELECT r.id, (r.txid, r.id) <= (%(cursor)s::xid8, %(cursor_id)s)
    FROM {_RECORDS} r
    WHERE {not_in_log(RECORD, "r.id")}
    ORDER BY r.id
"""
_UNINTEGRATED_POLICIES = f"""
    SELECT count(*) FROM policy_policyversion p
    WHERE p.status = 'published'
      AND {not_in_log(POLICY, "p.id")}
"""
_LEAF_CHUNK = f"""
    SELECT string_agg(hash, ''::bytea ORDER BY index), count(*), max(index)
    FROM {_LEAVES} WHERE index >= %s AND index < %s
"""
# Stored tiles in the order a growing tree fills them: by the leaf that completes each, the
# lower level first.
_TILES = f"""
    SELECT level, index, sha256(hashes), root FROM {LogTile._meta.db_table}
    ORDER BY (index + 1) * power(256::numeric, level + 1), level
"""
_CHECKPOINTS = f"""
    SELECT size, root, note, created_at FROM {LogCheckpoint._meta.db_table} ORDER BY size
"""


@dataclass(frozen=True)
class Problem:
    """One thing that does not verify, and where."""

    kind: str
    what: str
    index: int | None = None
    source: str | None = None
    ref: int | None = None

    def __str__(self) -> str:
        where = [] if self.index is None else [f"leaf {self.index}"]
        if self.source is not None:
            where.append(f"({self.source} {self.ref})")
        return f"{' '.join(where)}{': ' if where else ''}{self.kind}: {self.what}"


@dataclass
class Report:
    """What a verification found. `problems` lists the first MAX_LISTED; `unlisted` counts the
    rest."""

    size: int = 0  # leaves in the tree
    records: int = 0  # records checked against their leaves
    purged: int = 0  # record leaves whose record a purge removed
    pending: int = 0  # records and publications newer than the integrator's cursor
    tiles: int = 0
    checkpoints: int = 0
    kept: list[note.Checkpoint] = field(default_factory=list)
    root: bytes = merkle.EMPTY_ROOT
    latest: note.Checkpoint | None = None
    problems: list[Problem] = field(default_factory=list)
    unlisted: int = 0
    seconds: float = 0.0
    database: str = DEFAULT_DB_ALIAS  # the alias read: a replica's log may be behind

    @property
    def read_from(self) -> str:
        return describe(self.database)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.unlisted

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self.unlisted += 1

    def merge(self, other: Report) -> None:
        for problem in other.problems:
            self.add(problem)
        self.unlisted += other.unlisted
        self.records += other.records
        self.purged += other.purged
        self.pending += other.pending
        self.problems.sort(key=_order)


def _order(problem: Problem) -> tuple[int, int]:
    return (problem.index is None, problem.index or 0)


def verify_log(
    kept: Sequence[str] = (),
    verifier: note.Verifier | None = None,
    parallel: bool = True,
    using: str = DEFAULT_DB_ALIAS,
) -> Report:
    """Verify the whole log, and its consistency with each checkpoint note in `kept`, as the
    database `using` holds it (a replica: up to its latest checkpoint, which may be older than
    the primary's; consent.audit.replica.read_database picks one that has the kept checkpoints).

    `verifier` is the log's public key (default: the one of CONSENT_LOG_SIGNING_KEY).
    """
    started = time.monotonic()
    verifier = verifier or store.verifier()
    report = Report(database=using)
    kept_checkpoints = _open_kept(kept, verifier, report)
    parallel = parallel and not connections[using].in_atomic_block
    with _snapshot(using) as exported:
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT cursor, cursor_id FROM consent_logcheckpoint ORDER BY size DESC LIMIT 1"
            )
            integrated_below = cursor.fetchone() or (0, 0)
        entries = Report()
        if parallel:
            worker = threading.Thread(
                target=_in_snapshot,
                args=(exported, entries, integrated_below, using),
                daemon=True,
            )
            worker.start()
            _check_tree(report, kept_checkpoints, verifier, using)
            worker.join()
        else:
            _check_entries(entries, integrated_below, using)
            _check_tree(report, kept_checkpoints, verifier, using)
        report.merge(entries)
    report.seconds = time.monotonic() - started
    return report


def largest_kept(kept: Sequence[str], verifier: note.Verifier | None = None) -> int:
    """Return the largest tree size among the kept checkpoints that verify: the database a
    verification reads must hold it (a replica may not yet)."""
    sizes = [0]
    for text in kept:
        with contextlib.suppress(note.NoteError):  # verify_log reports it
            sizes.append(note.open_checkpoint(text, verifier or store.verifier())[0].size)
    return max(sizes)


def _open_kept(
    kept: Sequence[str], verifier: note.Verifier, report: Report
) -> list[note.Checkpoint]:
    opened = []
    for n, text in enumerate(kept, 1):
        try:
            checkpoint, _others = note.open_checkpoint(text, verifier)
        except note.NoteError as error:
            report.add(Problem(KEPT, f"kept checkpoint {n} does not verify: {error}"))
            continue
        opened.append(checkpoint)
    report.kept = opened
    return sorted(opened, key=lambda c: c.size)


@contextmanager
def _snapshot(using: str) -> Iterator[str | None]:
    """Run a block in one REPEATABLE READ snapshot, exported for a second connection; inside a
    caller's transaction, the caller's snapshot applies and none is exported."""
    if connections[using].in_atomic_block:
        yield None
        return
    with transaction.atomic(using), connections[using].cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SET LOCAL jit = off")  # one pass over each row: compiling costs more
        cursor.execute("SELECT pg_export_snapshot()")
        yield cursor.fetchone()[0]


def _in_snapshot(
    exported: str, report: Report, integrated_below: tuple[int, int], using: str
) -> None:
    try:
        with transaction.atomic(using), connections[using].cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SET TRANSACTION SNAPSHOT %s", [exported])
            cursor.execute("SET LOCAL jit = off")
            _check_entries(report, integrated_below, using)
    except Exception as error:  # reported, never lost with the thread
        report.add(Problem(TREE, f"the entries could not be read: {error}"))
    finally:
        connections[using].close()


# The entries ---------------------------------------------------------------------------------


def _check_entries(report: Report, integrated_below: tuple[int, int], using: str) -> None:
    """Check every leaf against the row it encodes; `integrated_below` is the integrator's
    place (transaction ID, record ID): every record up to it has a leaf."""
    with connections[using].cursor() as cursor:
        # Building a million entries is the longest part: let PostgreSQL share it out.
        cursor.execute(
            "SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0;"
            " SET LOCAL work_mem = '64MB'"  # the leaves' hash table, not spilled to disk
        )
        cursor.execute(_COUNT_RECORD_LEAVES)
        joined, changed = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {_LEAVES} WHERE source = %s", [RECORD])
        record_leaves = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {_RECORDS}")
        records = cursor.fetchone()[0]
        place: dict[str, str | int] = {
            "cursor": str(integrated_below[0]),
            "cursor_id": integrated_below[1],
        }
        cursor.execute(_PENDING, place)
        pending = cursor.fetchone()[0]
    if changed:
        for index, ref in _stream(_CHANGED_RECORDS, using):
            report.add(
                Problem(CHANGED, "the record no longer matches its leaf", index, RECORD, ref)
            )
    gone = _Gone(ConsentPurge.objects.using(using).order_by("-id").first())
    if joined < record_leaves:
        for index, ref in _stream(_GONE_RECORDS, using):
            problem = gone.add(index, ref)
            if problem is not None:
                report.add(problem)
    report.records = joined
    report.purged = gone.purged
    for problem in gone.finish():
        report.add(problem)
    for index, source, ref, missing in _stream(_BAD_OTHER_LEAVES, using):
        if source not in (POLICY, PURGE):
            what = "a leaf of no known kind"
        elif missing:
            what = "its row is missing" if source == PURGE else "no such published version"
        else:
            what = "the row no longer matches its leaf"
        report.add(Problem(REMOVED if missing else CHANGED, what, index, source, ref))
    report.pending = pending
    if joined + pending < records:  # some record the integrator passed has no leaf
        for ref, overdue in _stream(_UNINTEGRATED, using, place):
            if overdue:
                report.add(
                    Problem(NOT_INTEGRATED, "older than the integrator's cursor", None, RECORD, ref)
                )
    with connections[using].cursor() as cursor:
        cursor.execute(_UNINTEGRATED_POLICIES)
        report.pending += cursor.fetchone()[0]
    from policy.models import PolicyVersion

    published = PolicyVersion.objects.using(using).published().order_by("pk")
    for pk, number, language, html, sha in published.values_list(
        "pk", "number", "language", "rendered_html", "content_sha256"
    ).iterator():
        if content_sha256(html) != sha:
            report.add(
                Problem(
                    POLICY_TEXT,
                    f"version {number} ({language}): its text does not match its SHA-256",
                    None,
                    POLICY,
                    pk,
                )
            )


class _Gone:
    """Accounts for the record leaves whose record is gone, against the latest purge, which
    commits to all of them (consent.audit.purge): their count and the digest of their indexes."""

    def __init__(self, purge: ConsentPurge | None) -> None:
        self.purge = purge
        self.count = 0
        self.all, self.covered = hashlib.sha256(), hashlib.sha256()
        self.uncovered = 0

    def add(self, index: int, ref: int) -> Problem | None:
        self.count += 1
        self.all.update(index.to_bytes(8, "big"))
        purge = self.purge
        if purge is not None and index < purge.tree_size and ref <= purge.highest_id:
            self.covered.update(index.to_bytes(8, "big"))
            return None
        self.uncovered += 1
        why = "no purge removed it" if purge is None else "it is newer than the last purge"
        return Problem(REMOVED, f"the record is missing and {why}", index, RECORD, ref)

    @property
    def purged(self) -> int:
        return self.count - self.uncovered

    def finish(self) -> list[Problem]:
        purge = self.purge
        if purge is None:
            return []
        claimed = (purge.purged_total, purge.purged_sha256)
        if (self.count - self.uncovered, self.covered.hexdigest()) == claimed:
            return []
        return [
            Problem(
                REMOVED,
                f"{self.count - self.uncovered:,} records are missing where the purges "
                f"removed {purge.purged_total:,} (the purge of {purge.purged_at:%Y-%m-%d} "
                "lists others): records were removed besides the purges",
                None,
                RECORD,
            )
        ]


def _stream(sql: str, using: str, params: Any = None) -> Iterator[Any]:
    """Yield the rows of a query through a server-side cursor."""
    with connections[using].chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(2000):
            yield from rows


# The tree ------------------------------------------------------------------------------------


class _Tree:
    """The tree grown again from the leaf hashes, checked against stored tiles on the way."""

    def __init__(self, report: Report, using: str) -> None:
        self.report = report
        self.edge = tiles.Edge(0, [])
        self.stored = _stream(_TILES, using)
        self.next_stored = next(self.stored, None)

    def grow(self, data: bytes) -> None:
        """Add the leaf hashes in `data` (concatenated)."""
        edge, size, position = self.edge, merkle.HASH_SIZE, 0
        tile_bytes = tiles.WIDTH * size
        while position < len(data):
            at_tile_start = not edge.partial or not edge.partial[0]
            if at_tile_start and len(data) - position >= tile_bytes:
                # A whole level-0 tile at once: most of a large log, without a loop per leaf.
                hashes = data[position : position + tile_bytes]
                edge.size += tiles.WIDTH
                if not edge.partial:
                    edge.partial.append([])
                root = tiles.fold(tiles.split_hashes(hashes))
                self._compare(0, edge.size // tiles.WIDTH - 1, hashes, root)
                self._push(root, 1)
                position += tile_bytes
            else:
                edge.size += 1
                self._push(data[position : position + size], 0)
                position += size

    def _push(self, carry: bytes, level: int) -> None:
        # tiles.Edge.grow, keeping each full tile's root as it is computed.
        edge = self.edge
        while True:
            if level == len(edge.partial):
                edge.partial.append([])
            row = edge.partial[level]
            row.append(carry)
            if len(row) < tiles.WIDTH:
                return
            index = (edge.size >> (tiles.HEIGHT * level)) // tiles.WIDTH - 1
            hashes = b"".join(row)
            carry = tiles.fold(row)
            self._compare(level, index, hashes, carry)
            row.clear()
            level += 1

    def _compare(self, level: int, index: int, hashes: bytes, root: bytes) -> None:
        key = _tile_order(level, index)
        while self.next_stored is not None and _tile_order(*self.next_stored[:2]) < key:
            self._extra(self.next_stored)
        stored = self.next_stored
        path = tiles.tile_path(level, index)
        if stored is None or _tile_order(*stored[:2]) != key:
            self.report.add(Problem(TILE, f"tile {path} is not stored"))
            return
        self.next_stored = next(self.stored, None)
        self.report.tiles += 1
        if bytes(stored[2]) != hashlib.sha256(hashes).digest():
            self.report.add(Problem(TILE, f"tile {path} holds other hashes than the leaves make"))
        elif bytes(stored[3]) != root:
            self.report.add(Problem(TILE, f"tile {path} has another root than its hashes make"))

    def _extra(self, stored: Any) -> None:
        path = tiles.tile_path(stored[0], stored[1])
        self.report.add(Problem(TILE, f"tile {path} is stored but no leaves make it"))
        self.next_stored = next(self.stored, None)

    def finish(self) -> None:
        while self.next_stored is not None:
            self._extra(self.next_stored)

    def root(self) -> bytes:
        return self.edge.root() if self.edge.size else merkle.EMPTY_ROOT


def _tile_order(level: int, index: int) -> tuple[int, int]:
    return ((index + 1) << (tiles.HEIGHT * (level + 1)), level)


def _check_tree(
    report: Report, kept: list[note.Checkpoint], verifier: note.Verifier, using: str
) -> None:
    tree = _Tree(report, using)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT count(*), coalesce(max(index) + 1, 0) FROM {_LEAVES}")
        count, end = cursor.fetchone()
    if count != end:
        report.add(Problem(TREE, f"{end - count:,} leaf indexes below {end:,} are missing"))
    checkpoints = _stream(_CHECKPOINTS, using)
    stops = _Stops(checkpoints, kept)
    size = 0
    with connections[using].cursor() as cursor:
        for lo in range(0, count, CHUNK):
            cursor.execute(_LEAF_CHUNK, [lo, lo + CHUNK])
            data, found, highest = cursor.fetchone()
            data = bytes(data or b"")
            if found != min(CHUNK, count - lo) or highest != lo + found - 1:
                report.add(Problem(TREE, f"leaf indexes from {lo:,} on are not contiguous"))
                break
            if len(data) != found * merkle.HASH_SIZE:
                report.add(Problem(TREE, f"a leaf hash from index {lo:,} on is not 32 bytes"))
                break
            at = 0
            while (stop := stops.next_size()) is not None and stop <= lo + found:
                tree.grow(data[at * merkle.HASH_SIZE : (stop - lo) * merkle.HASH_SIZE])
                at = stop - lo
                stops.check(stop, tree.root(), report, verifier)
            tree.grow(data[at * merkle.HASH_SIZE :])
            size = lo + found
    while (stop := stops.next_size()) is not None and stop <= size:
        stops.check(stop, tree.root(), report, verifier)  # size 0, or past a broken read
    tree.finish()
    report.size = size
    report.root = tree.root()
    stops.finish(size, report)


class _Stops:
    """The sizes at which the growing tree's root is compared: every stored checkpoint (read in
    size order) and every kept one."""

    def __init__(self, checkpoints: Iterator[Any], kept: list[note.Checkpoint]) -> None:
        self.checkpoints = checkpoints
        self.stored = next(checkpoints, None)
        self.kept = list(kept)
        self.previous: Any = None

    def next_size(self) -> int | None:
        sizes = [c.size for c in self.kept[:1]]
        if self.stored is not None:
            sizes.append(self.stored[0])
        return min(sizes, default=None)

    def check(self, size: int, root: bytes, report: Report, verifier: note.Verifier) -> None:
        while self.kept and self.kept[0].size == size:
            kept = self.kept.pop(0)
            if kept.root != root:
                report.add(
                    Problem(
                        KEPT,
                        f"the log's first {size:,} entries are not those of the kept checkpoint: "
                        "the log was rewritten since",
                    )
                )
        if self.stored is not None and self.stored[0] == size:
            self._check_stored(self.stored, root, report, verifier)
            self.previous = self.stored
            self.stored = next(self.checkpoints, None)

    def _check_stored(
        self, stored: Any, root: bytes, report: Report, verifier: note.Verifier
    ) -> None:
        size, stored_root, text, created_at = stored
        report.checkpoints += 1
        name = f"checkpoint of size {size:,}"
        try:
            checkpoint, _others = note.open_checkpoint(text, verifier)
        except note.NoteError as error:
            report.add(Problem(CHECKPOINT, f"{name}: {error}"))
            return
        report.latest = checkpoint
        if checkpoint.size != size or checkpoint.root != bytes(stored_root):
            report.add(Problem(CHECKPOINT, f"{name}: its note signs another tree than its row"))
        elif checkpoint.root != root:
            report.add(Problem(CHECKPOINT, f"{name}: the leaves make another root"))
        if self.previous is not None and created_at < self.previous[3]:
            report.add(Problem(CHECKPOINT, f"{name}: signed before a smaller one"))

    def finish(self, size: int, report: Report) -> None:
        if self.previous is not None and self.previous[0] != size and self.stored is None:
            report.add(
                Problem(
                    CHECKPOINT,
                    f"{size - self.previous[0]:,} leaves are past the latest checkpoint "
                    f"(size {self.previous[0]:,})",
                )
            )
        if self.stored is not None:
            report.add(
                Problem(
                    CHECKPOINT,
                    f"checkpoint of size {self.stored[0]:,} is larger than the log ({size:,} "
                    "leaves)",
                )
            )
            for _rest in self.checkpoints:
                report.unlisted += 1
        for kept in self.kept:
            report.add(
                Problem(
                    KEPT,
                    f"the log has {size:,} entries, fewer than the kept checkpoint's "
                    f"{kept.size:,}: entries were removed",
                )
            )
        if size and self.previous is None and self.stored is None:
            report.add(Problem(CHECKPOINT, f"no checkpoint signs the {size:,} leaves"))
