"""The log in PostgreSQL: reading tiles and proofs, and appending entries with a checkpoint.

The log knows nothing of what its entries mean: consent.log.integration feeds it leaf hashes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone

from ..conf import conf
from . import merkle, note, tiles
from .models import Cosignature, LogCheckpoint, LogLeaf, LogTile


@functools.lru_cache(maxsize=4)
def _parse_signer(key: str) -> note.Signer:
    return note.parse_signer(key)


def signer() -> note.Signer:
    """Return the log's signing key, from CONSENT_LOG_SIGNING_KEY."""
    return _parse_signer(conf.CONSENT_LOG_SIGNING_KEY)


def verifier() -> note.Verifier:
    return signer().verifier


def latest(using: str = DEFAULT_DB_ALIAS) -> LogCheckpoint | None:
    """Return the largest checkpoint, of the database `using` (a replica's may be older)."""
    checkpoint = LogCheckpoint.objects.using(using).order_by("-size").first()
    if checkpoint is not None:
        checkpoint.root = bytes(checkpoint.root)  # psycopg2 gives a memoryview
    return checkpoint


def cosigned_note(checkpoint: LogCheckpoint) -> str:
    """Return the checkpoint's signed note with the cosignatures of active witnesses added: a
    signed note still, which a verifier that knows only the log's key reads unchanged."""
    lines = (
        Cosignature.objects.filter(checkpoint=checkpoint, witness__active=True)
        .order_by("witness__name")
        .values_list("line", flat=True)
    )
    return checkpoint.note + "".join(line.rstrip("\n") + "\n" for line in lines)


# Plain SQL: a proof reads a handful of tiles, and building each query through the ORM cost
# more than running it (bench/log.py; the figures are in docs/benchmarks.md).
_FULL_TILE = f"SELECT hashes FROM {LogTile._meta.db_table} WHERE level = %s AND index = %s"
_LEAVES = (
    f"SELECT hash FROM {LogLeaf._meta.db_table} WHERE index >= %s AND index < %s ORDER BY index"
)
_ROOTS = (
    f"SELECT root FROM {LogTile._meta.db_table} "
    "WHERE level = %s AND index >= %s AND index < %s ORDER BY index"
)


def read_tile(level: int, index: int, width: int, using: str = DEFAULT_DB_ALIAS) -> bytes:
    """Return at least `width` hashes of tile (level, index): a full tile's, or else the
    leaves' (level 0) or the roots of the full tiles below (higher levels), as many as there
    are so far, so that one read answers for every width."""
    first = index * tiles.WIDTH
    with connections[using].cursor() as cursor:
        cursor.execute(_FULL_TILE, [level, index])
        full = cursor.fetchone()
        if full is not None:
            return bytes(full[0])
        if level == 0:
            cursor.execute(_LEAVES, [first, first + tiles.WIDTH])
        else:
            cursor.execute(_ROOTS, [level - 1, first, first + tiles.WIDTH])
        found = [bytes(hash) for (hash,) in cursor.fetchall()]
    if len(found) < width:
        raise LookupError(f"tile {tiles.tile_path(level, index, width)} is not in the log")
    return b"".join(found)


def tile(level: int, index: int, width: int, size: int) -> bytes | None:
    """Return the `width` hashes of a tile in the tree of `size` leaves, or None if that tree
    has no such tile (C2SP tlog-tiles: a full tile also answers for its partial widths)."""
    if width > tiles.available_width(level, index, size):
        return None
    return read_tile(level, index, width)[: width * merkle.HASH_SIZE]


def hash_reader(using: str = DEFAULT_DB_ALIAS) -> merkle.HashAt:
    """Return a `hash_at` reading the stored tree, each tile read once: a proof asks for one
    tile at several widths, and each query costs more than the hashing (bench/log.py)."""
    read: dict[tuple[int, int], bytes] = {}

    def read_once(level: int, index: int, width: int) -> bytes:
        data = read.get((level, index), b"")
        if len(data) < width * merkle.HASH_SIZE:
            data = read[level, index] = read_tile(level, index, width, using)
        return data

    return tiles.hash_reader(read_once)


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return merkle.inclusion_proof(index, size, hash_reader())


def consistency_proof(old: int, new: int) -> list[bytes]:
    return merkle.consistency_proof(old, new, hash_reader())


def edge(size: int) -> tiles.Edge:
    """Return the right edge of the stored tree of `size` leaves."""
    partial = []
    for level in range(tiles.levels(size)):
        width = tiles.width_at(level, size)
        index = (size >> (tiles.HEIGHT * level)) // tiles.WIDTH
        data = read_tile(level, index, width) if width else b""
        partial.append(tiles.split_hashes(data[: width * merkle.HASH_SIZE]))
    return tiles.Edge(size, partial)


def append(leaves: Sequence[tuple[str, int, bytes]], cursor: tuple[int, int]) -> LogCheckpoint:
    """Add `(source, ref, leaf hash)` entries to the tree and sign a checkpoint of it.

    The caller holds the integrator's lock, in a transaction: leaves, tiles and checkpoint
    commit together or not at all.
    """
    head = latest()
    size = head.size if head is not None else 0
    grown = edge(size)
    full = grown.grow(leaf for _source, _ref, leaf in leaves)
    _copy_leaves(size, leaves)
    LogTile.objects.bulk_create(
        LogTile(level=t.level, index=t.index, hashes=t.hashes, root=t.root) for t in full
    )
    root = grown.root()
    key = signer()
    body = note.Checkpoint(key.name, grown.size, root).body()
    return LogCheckpoint.objects.create(
        size=grown.size,
        root=root,
        note=note.sign_note(body, key),
        created_at=timezone.now(),
        cursor=cursor[0],
        cursor_id=cursor[1],
    )


def _copy_leaves(first: int, leaves: Sequence[tuple[str, int, bytes]]) -> None:
    # COPY: a backlog of a million leaves goes in several times faster than through INSERTs.
    buffer = io.StringIO()
    for offset, (source, ref, leaf) in enumerate(leaves):
        buffer.write(f"{first + offset}\t\\\\x{leaf.hex()}\t{source}\t{ref}\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {LogLeaf._meta.db_table} (index, hash, source, ref) FROM STDIN", buffer
        )
