"""Exports of the consent log as CSV or JSON Lines, streamed at constant memory.

Each row holds every field of a record's entry and its leaf index, and every export comes with
its proof (consent.log.exportproof): the signed checkpoint that covers it, the hashes of the parts
of the tree it leaves out, and the leaves whose records were purged, so that the export and the
log's public key suffice to check it (docs/export-columns.md). JSON Lines carries the proof as
its last line; CSV, which a spreadsheet must open as it is, in a sidecar file.

PostgreSQL formats the rows: the management command copies them out with COPY; the pages read
them through a server-side cursor, chunk by chunk.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol, cast

from asgiref.sync import sync_to_async
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header

from ..categories import CATEGORIES, field_of
from ..log import entries, merkle, store
from ..log.exportproof import ESCAPED_COLUMNS
from ..log.integration import PURGE, RECORD
from ..log.models import LogCheckpoint, LogLeaf
from ..models import ConsentPurge, ConsentRecord

FORMATS = ("csv", "jsonl")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
CHUNK_ROWS = 2000
PROOF_FORMAT = "iportalis-consent-export-proof/1"
# The checkpoint an export or proof download is proved against, named in its headers.
SIZE_HEADER = "Consent-Log-Size"
ROOT_HEADER = "Consent-Log-Root"

# Each export column and the queryset field it comes from, in export order.
_SOURCES = (
    ("id", "id"),
    ("consent_id", "consent_id"),
    ("created_at", "created_at"),
    ("event", "event"),
    ("surface", "surface"),
    *((slug, field_of(slug)) for slug in CATEGORIES),
    ("gpc", "gpc"),
    ("policy_version", "policy_version__number"),
    ("policy_language", "policy_version__language"),
    ("policy_version_id", "policy_version_id"),
    ("policy_sha256", "policy_sha256"),
    ("language", "language"),
    ("path", "path"),
    ("ip_hmac", "ip_hmac"),
    ("user_agent", "user_agent"),
)
COLUMNS = (*(column for column, _source in _SOURCES), "leaf_index")
_BOOLEANS = (*CATEGORIES, "gpc")


def records(
    since: datetime | None = None,
    until: datetime | None = None,
    consent_id: uuid.UUID | None = None,
    policy_version: int | None = None,
) -> QuerySet[ConsentRecord]:
    """Return the records created from `since` (included) until `until` (excluded).

    `policy_version` is a version number, matched in every language.
    """
    queryset = ConsentRecord.objects.all()
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    if consent_id is not None:
        queryset = queryset.filter(consent_id=consent_id)
    if policy_version is not None:
        queryset = queryset.filter(policy_version__number=policy_version)
    return queryset


def export_sql(
    queryset: QuerySet[ConsentRecord], fmt: str, size: int, with_index: bool = False
) -> str:
    """Return the SELECT giving the queryset's records as export rows, in the order of their IDs,
    each with its leaf index in the tree of `size` leaves (null if not in it yet: pending).

    CSV gets one column per field, booleans as `true`/`false`; JSON Lines one JSON object a row
    (`with_index`: and the leaf index beside it, for the proof).
    """
    sources = [source for _column, source in _SOURCES]
    inner, params = _select(
        queryset.order_by().values_list(*sources),
        ConsentRecord.objects.order_by().values_list(*sources),
    )
    db = connections[queryset.db]
    quote = db.ops.quote_name
    names = ", ".join(quote(column) for column, _source in _SOURCES)
    select = ", ".join(f"{_render(column, fmt, db)} AS {quote(column)}" for column, _ in _SOURCES)
    # The size bound is in the SELECT, not the join, so that PostgreSQL merges the records
    # with the leaves in the order of their (source, ref) index instead of sorting the leaves.
    sql = (
        f"SELECT {select}, CASE WHEN l.index < {int(size)} THEN l.index END AS leaf_index"
        f" FROM ({inner}) AS r({names})"
        f" LEFT JOIN {LogLeaf._meta.db_table} l ON l.source = '{RECORD}' AND l.ref = r.id"
        " ORDER BY r.id"
    )
    if fmt == "jsonl":
        # row_to_json keeps the columns' names, order and types. PostgreSQL never flattens a
        # subquery that has an ORDER BY, so its rows come out in that order.
        index = ", e.leaf_index" if with_index else ""
        sql = f"SELECT row_to_json(e)::text{index} FROM ({sql}) AS e"
    return _compose(sql, params, db)


def _select(queryset: QuerySet[Any], unfiltered: QuerySet[Any]) -> tuple[str, Any]:
    """Return the SQL of a queryset and its parameters.

    Django writes no SQL for filters it knows to match nothing (`none()`, or a number beyond
    its column's range, as a typed-in filter may hold) and raises EmptyResultSet instead: the
    same columns then come from no row, and the export is empty rather than a 500.
    """
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        sql, params = unfiltered.query.sql_with_params()
        return f"{sql} LIMIT 0", params


def _compose(sql: str, params: Any, db: BaseDatabaseWrapper) -> str:
    """Return the SQL with its parameters quoted by `db`, the connection that will run it."""
    operations: Any = db.ops  # compose_sql() is the PostgreSQL backend's own
    return str(operations.compose_sql(sql, params))


def _render(column: str, fmt: str, db: BaseDatabaseWrapper) -> str:
    name = f"r.{db.ops.quote_name(column)}"
    if column == "created_at":
        # PostgreSQL's own output in UTC (see _session), made ISO 8601: 2026-01-31T12:00:00.5+00:00.
        # As cheap as it gets: to_char is slower (docs/benchmarks.md).
        return f"replace({name}::text, ' ', 'T') || ':00'"
    if column in _BOOLEANS and fmt == "csv":
        return f"{name}::text"  # COPY would write t/f
    if column in ESCAPED_COLUMNS and fmt == "csv":
        return f"regexp_replace({name}, {_FORMULA_START}, '''', 'g')"
    return name


# consent.log.exportproof.escape_cell in PostgreSQL's regular expressions (which read \t, \r and \n
# in a bracket as the characters): an apostrophe goes before each of = + - @ TAB CR LF ' that
# begins the cell or follows one of , ; TAB CR LF, so that a spreadsheet runs no formula a
# visitor wrote, whichever separator it splits the line on.
_FORMULA_START = r"'(^|(?<=[,;\t\r\n]))(?=[=+@\t\r\n''-])'"


# The proof ----------------------------------------------------------------------------------


def proof_chunks(
    proved: Proved, checkpoint: LogCheckpoint | None, using: str = DEFAULT_DB_ALIAS
) -> Iterator[str]:
    """Yield the proof of an export against `checkpoint`, whose rows' leaves are `proved`:
    JSON on one line, read from the database `using` (the one that gave the rows).

    It holds the checkpoint's signed note; the hash of every maximal subtree of RFC 9162's
    recursion that holds none of the leaves the export proves, so that those leaves and these
    hashes make the checkpoint's root (O(log n) hashes for a contiguous range); the latest
    purge's entry, one of the leaves it proves; and the runs of leaf indexes whose records that
    purge removed. consent.log.exportproof checks it. Read in the export's snapshot.
    """
    size = checkpoint.size if checkpoint is not None else 0
    purge, purge_index = _latest_purge(size, using)
    yield (
        f'{{"format":{json.dumps(PROOF_FORMAT)},'
        f'"checkpoint":{json.dumps(checkpoint.note if checkpoint else None)},'
        f'"size":{size},"subtrees":['
    )
    hash_at = store.hash_reader(using)
    gaps = proved.gaps()
    for n, (lo, hi) in enumerate(missing_subtrees(_without(gaps, purge_index), size)):
        digest = base64.b64encode(merkle.range_hash(lo, hi, hash_at)).decode()
        yield f'{"," if n else ""}[{lo},{hi},"{digest}"]'
    entry = None
    if purge is not None:
        encoded = base64.b64encode(entries.encode(entries.purge_entry(purge))).decode()
        entry = {"index": purge_index, "entry": encoded}
    yield f'],"records":{proved.count},"purge":{json.dumps(entry)},"purged":['
    if purge is not None:
        runs = _purged_runs(min(size, purge.tree_size), purge.highest_id, using)
        yield ",".join(f"[{lo},{hi}]" for lo, hi in runs)
    yield "]}"


def missing_subtrees(gaps: Iterable[tuple[int, int]], size: int) -> Iterator[tuple[int, int]]:
    """Yield, left to right, the maximal subtrees `[lo, hi)` of RFC 9162's recursion over a tree
    of `size` leaves that lie within the `gaps` (ascending, disjoint `[first, end)` ranges)."""
    for first, end in gaps:
        yield from _within(0, size, first, end)


def _within(lo: int, hi: int, first: int, end: int) -> Iterator[tuple[int, int]]:
    """Yield the maximal subtrees of [lo, hi) inside [first, end), visiting O(log n) nodes."""
    if end <= lo or hi <= first:
        return
    if first <= lo and hi <= end:
        yield lo, hi
        return
    k = merkle.split(hi - lo)
    yield from _within(lo, lo + k, first, end)
    yield from _within(lo + k, hi, first, end)


def _without(gaps: Iterable[tuple[int, int]], index: int | None) -> Iterator[tuple[int, int]]:
    """Yield the gaps with one more leaf taken out of them (the purge's entry)."""
    for first, end in gaps:
        if index is not None and first <= index < end:
            yield from ((a, b) for a, b in ((first, index), (index + 1, end)) if a < b)
        else:
            yield first, end


class Proved(Protocol):
    """The leaves an export proves: how many, and the gaps between them below the tree size."""

    @property
    def count(self) -> int: ...

    def gaps(self) -> Iterator[tuple[int, int]]: ...


class LeafSet:
    """The leaf indexes of the rows an export wrote, gathered as they pass: a bitmap of the tree
    (125 kB for a million leaves), so that the proof needs no second query."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.bits = bytearray((size + 7) // 8)

    def add(self, index: int) -> None:
        if 0 <= index < self.size:
            self.bits[index >> 3] |= 1 << (index & 7)

    @property
    def count(self) -> int:
        return int.from_bytes(self.bits, "little").bit_count()

    def gaps(self) -> Iterator[tuple[int, int]]:
        position = 0
        while (first := self._next(position, False)) < self.size:
            position = self._next(first, True)
            yield first, position

    def _next(self, position: int, set_bit: bool) -> int:
        """Return the first index from `position` whose bit is `set_bit` (or the size)."""
        bits, size = self.bits, self.size
        while position < size and position & 7:
            if bool(bits[position >> 3] >> (position & 7) & 1) == set_bit:
                return position
            position += 1
        if position >= size:
            return size
        # Whole bytes of the other kind are skipped at C speed.
        found = (_ANY_SET if set_bit else _ANY_CLEAR).search(bits, position >> 3)
        if found is None:
            return size
        position = found.start() * 8
        while position < size:
            if bool(bits[position >> 3] >> (position & 7) & 1) == set_bit:
                return position
            position += 1
        return size


_ANY_SET = re.compile(rb"[^\x00]")
_ANY_CLEAR = re.compile(rb"[^\xff]")


class _ExportedGaps:
    """The runs of leaf indexes below `size` that hold no leaf of the exported records, found
    by PostgreSQL (for a sidecar proof, made apart from its rows); `count` the leaves."""

    def __init__(self, queryset: QuerySet[ConsentRecord], size: int) -> None:
        self.size = size
        self.using = queryset.db
        ids, params = _select(
            queryset.order_by().values("pk"), ConsentRecord.objects.order_by().values("pk")
        )
        self.sql = _compose(
            f"""
            SELECT index, next, n FROM (
                SELECT l.index, lead(l.index) OVER w AS next, row_number() OVER w AS n
                FROM {LogLeaf._meta.db_table} l
                WHERE l.source = '{RECORD}' AND l.index < {int(size)} AND l.ref IN ({ids})
                WINDOW w AS (ORDER BY l.index)
            ) AS e
            WHERE n = 1 OR next IS NULL OR next > index + 1
            ORDER BY index
            """,
            params,
            connections[self.using],
        )
        self.count = 0

    def gaps(self) -> Iterator[tuple[int, int]]:
        after = 0
        with connections[self.using].chunked_cursor() as cursor:
            cursor.execute(self.sql)
            while rows := cursor.fetchmany(10_000):
                for index, following, n in rows:
                    if n == 1 and index > 0:
                        yield 0, index
                    if following is None:
                        self.count = n
                    elif following > index + 1:
                        yield index + 1, following
                    after = index + 1
        if after < self.size:
            yield after, self.size


def _latest_purge(size: int, using: str) -> tuple[ConsentPurge | None, int | None]:
    """Return the latest purge whose entry is in the tree of `size` leaves, and its index."""
    leaves = LogLeaf.objects.using(using).filter(source=PURGE, index__lt=size).order_by("-index")
    leaf = leaves.values_list("ref", "index").first()
    if leaf is None:
        return None, None
    return ConsentPurge.objects.using(using).get(pk=leaf[0]), leaf[1]


def _purged_runs(below: int, highest_id: int, using: str) -> Iterator[tuple[int, int]]:
    """Yield the runs `[lo, hi)` of record leaves below `below` whose records are gone and that
    the purges account for (consent.audit.purge)."""
    sql = f"""
        SELECT min(index), max(index) + 1 FROM (
            SELECT l.index, l.index - row_number() OVER (ORDER BY l.index) AS run
            FROM {LogLeaf._meta.db_table} l
            WHERE l.source = '{RECORD}' AND l.index < {int(below)} AND l.ref <= {int(highest_id)}
              AND NOT EXISTS (SELECT FROM {ConsentRecord._meta.db_table} r WHERE r.id = l.ref)
        ) AS gone
        GROUP BY run ORDER BY 1
    """
    with connections[using].chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(10_000):
            yield from rows


# Writing an export --------------------------------------------------------------------------


class Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...


def copy_to(
    queryset: QuerySet[ConsentRecord], fmt: str, file: Writable, proof: Writable | None = None
) -> tuple[int, LogCheckpoint | None]:
    """Write the export to `file` with PostgreSQL's COPY, one row per write, and its proof: as
    the last line of JSON Lines, or to `proof` for CSV. Return the count of records and the
    checkpoint they are proved against."""
    if fmt == "csv":
        options = "FORMAT csv, HEADER"
    else:
        # Text format would double the JSON's backslashes. CSV with a delimiter and a quote
        # character that JSON never holds unescaped passes each line through untouched.
        options = "FORMAT csv, DELIMITER e'\\x01', QUOTE e'\\x02'"
    with snapshot(queryset.db) as cursor:
        checkpoint = store.latest(queryset.db)
        proved = LeafSet(checkpoint.size if checkpoint else 0)
        sql = export_sql(queryset, fmt, proved.size)
        gathering = _Gathering(file, proved, b"," if fmt == "csv" else b":")
        cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH ({options})", gathering)
        count = int(cursor.rowcount)
        target = file if fmt == "jsonl" else proof
        if target is not None:
            for chunk in proof_chunks(proved, checkpoint, queryset.db):
                target.write(chunk.encode())
            target.write(b"\n")
    return count, checkpoint


class _Gathering:
    """Passes on what COPY writes, a row at a time, and gathers the leaf index it ends with
    (CSV: the last field; JSON Lines: the last key's value). Called a million times for a
    million rows, so all is inline."""

    def __init__(self, target: Writable, proved: LeafSet, separator: bytes) -> None:
        self.target_write = target.write
        self.bits, self.size = proved.bits, proved.size
        self.separator = separator

    def write(self, data: bytes) -> None:
        self.target_write(data)
        tail = data.rpartition(self.separator)[2].rstrip(b"}\r\n")
        if tail.isdigit() and (index := int(tail)) < self.size:  # not empty, null or a header
            self.bits[index >> 3] |= 1 << (index & 7)


@contextmanager
def snapshot(using: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """Run a block in one REPEATABLE READ snapshot of the database `using`, so that the rows and
    their proof agree; inside a caller's transaction, the caller's snapshot applies. Yield a
    cursor."""
    db = connections[using]
    outermost = not db.in_atomic_block
    with transaction.atomic(using), db.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _session(cursor)
        yield cursor


def stream(
    queryset: QuerySet[ConsentRecord],
    fmt: str,
    checkpoint: LogCheckpoint | None,
    proved: LeafSet | None = None,
) -> Iterator[bytes]:
    """Yield an export in chunks of CHUNK_ROWS rows, with leaf indexes in the tree of
    `checkpoint`, and for JSON Lines its proof as the last line. The rows' leaves are gathered
    into `proved` (for a CSV's proof, made once the rows are out).

    The server-side cursor lives in a transaction: outside one it would need WITH HOLD, and
    PostgreSQL would then compute the whole result before sending the first row.
    """
    proved = proved or LeafSet(checkpoint.size if checkpoint else 0)
    sql = export_sql(queryset, fmt, proved.size, with_index=True)
    with snapshot(queryset.db):
        with connections[queryset.db].chunked_cursor() as cursor:
            cursor.execute(sql)
            if fmt == "csv":
                yield (",".join(COLUMNS) + "\n").encode()
            while rows := cursor.fetchmany(CHUNK_ROWS):
                for row in rows:
                    if row[-1] is not None:
                        proved.add(row[-1])
                yield _format(rows, fmt)
        if fmt == "jsonl":
            yield from _proof_bytes(proved, checkpoint, queryset.db)


def _proof_bytes(proved: Proved, checkpoint: LogCheckpoint | None, using: str) -> Iterator[bytes]:
    pieces: list[str] = []
    for piece in proof_chunks(proved, checkpoint, using):
        pieces.append(piece)
        if len(pieces) >= 1000:  # subtree hashes: about 60 kB
            yield "".join(pieces).encode()
            pieces.clear()
    yield ("".join(pieces) + "\n").encode()


def _session(cursor: Any) -> None:
    # Times print in UTC, in ISO style, whatever the server's defaults. Compiling a single pass
    # over the rows to machine code (JIT) costs more than it saves. The leaves' index is sorted
    # in memory, not on disk (docs/benchmarks.md says how much a million leaves take).
    cursor.execute(
        "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'; SET LOCAL jit = off;"
        " SET LOCAL work_mem = '64MB'"
    )


def _format(rows: Sequence[Sequence[Any]], fmt: str) -> bytes:
    if fmt == "jsonl":
        return "".join(f"{row[0]}\n" for row in rows).encode()
    buffer = io.StringIO()
    plain = csv.writer(buffer, lineterminator="\n")
    # Python's writer quotes a value that holds its line end (LF) but not a lone CR, which
    # readers take for the end of a line: every value of a row with one is quoted.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        if any("\r" in row[i] for i in _TEXT_INDEXES):
            quoted.writerow(row)
        else:
            plain.writerow(row)
    return buffer.getvalue().encode()


_TEXT_INDEXES = [COLUMNS.index(column) for column in ESCAPED_COLUMNS]


class ExportResponse(StreamingHttpResponse):
    """A streamed export that stays streamed when served over ASGI.

    Django reads a synchronous iterator whole before serving it over ASGI. This pulls one chunk
    at a time instead, each in the request's own thread, which holds the database cursor.
    """

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = iter(cast(Iterator[bytes], self.streaming_content))
        pull = sync_to_async(_next_chunk, thread_sensitive=True)
        while (chunk := await pull(chunks)) is not None:
            yield chunk


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _download(
    content: Iterator[bytes], content_type: str, filename: str, checkpoint: LogCheckpoint | None
) -> ExportResponse:
    response = ExportResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    add_never_cache_headers(response)  # personal data: no copies in caches
    # Read from a replica, the checkpoint may be older than the primary's latest: say which.
    response[SIZE_HEADER] = str(checkpoint.size if checkpoint else 0)
    root = bytes(checkpoint.root) if checkpoint else merkle.EMPTY_ROOT
    response[ROOT_HEADER] = base64.b64encode(root).decode()
    return response


def streaming_response(
    queryset: QuerySet[ConsentRecord],
    fmt: str,
    filename: str,
    proof_url: str | None = None,
) -> StreamingHttpResponse:
    """Return the queryset's records as a download in `fmt` ("csv" or "jsonl").

    JSON Lines ends with its proof. A CSV's proof is a sidecar: at `proof_url` (given the size
    of the checkpoint the CSV was made against, named in a `Link` header and in the file's
    name), or, without one, inside a ZIP archive that holds both (the admin's actions).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    checkpoint = store.latest(queryset.db)
    size = checkpoint.size if checkpoint else 0
    if fmt == "csv" and proof_url is None:
        zipped = _zipped(queryset, checkpoint, filename)
        return _download(zipped, "application/zip", f"{filename}.zip", checkpoint)
    if fmt == "csv":
        filename = filename.replace(".csv", f"-size-{size}.csv")
    response = _download(
        stream(queryset, fmt, checkpoint), CONTENT_TYPES[fmt], filename, checkpoint
    )
    if fmt == "csv" and proof_url is not None:
        link = f"{proof_url}{'&' if '?' in proof_url else '?'}size={size}"
        response["Link"] = f'<{link}>; rel="describedby"; type="application/json"'
    return response


def proof_response(
    queryset: QuerySet[ConsentRecord], checkpoint: LogCheckpoint | None, filename: str
) -> StreamingHttpResponse:
    """Return the sidecar proof of a CSV export of `queryset` made against `checkpoint`."""

    def content() -> Iterator[bytes]:
        with snapshot(queryset.db):
            size = checkpoint.size if checkpoint else 0
            yield from _proof_bytes(_ExportedGaps(queryset, size), checkpoint, queryset.db)

    return _download(content(), "application/json", filename, checkpoint)


class _Pipe(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (for a streamed ZIP)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def _zipped(
    queryset: QuerySet[ConsentRecord], checkpoint: LogCheckpoint | None, filename: str
) -> Iterator[bytes]:
    """Yield a ZIP archive of the CSV export and its proof, made in one snapshot."""
    pipe = _Pipe()
    proved = LeafSet(checkpoint.size if checkpoint else 0)
    with snapshot(queryset.db), zipfile.ZipFile(pipe, "w", zipfile.ZIP_STORED) as archive:
        with archive.open(filename, "w", force_zip64=True) as member:
            for chunk in stream(queryset, "csv", checkpoint, proved):
                member.write(chunk)
                if pipe.chunks:
                    yield pipe.take()
        with archive.open(f"{filename}.proof.json", "w") as member:
            for chunk in _proof_bytes(proved, checkpoint, queryset.db):
                member.write(chunk)
    yield pipe.take()
