"""Measure the signed consent log: integrating a backlog, and proofs in a large tree, in one run.

  (a) Backlog: --records realistic consent records (bench/exports.py's) are loaded with COPY FROM
      as plain rows, the log emptied; then a fresh process times
      consent.log.integration.integrate_all(), which gives them leaves, tiles and checkpoints.
      Goal: 1,000,000 records in at most 20 s. Also its records/s and peak RSS.
  (b) Tree: a log of --leaves leaves is built directly (leaf hashes of SYNTHETIC entries, COPY into
      consent_logleaf; full tiles from consent.log.tiles.Edge, COPY into consent_logtile; a
      signed checkpoint at 90% of the size), then the last 10% go in through
      consent.log.store.append, the site's own path, which signs the final checkpoint. A fresh
      process then times store.consistency_proof between sizes and store.inclusion_proof (a
      receipt's proof) at random indexes, counting the tiles each reads, and its RSS before
      and after. Goals, with 10,000,000 leaves: a consistency proof in at most 50 ms reading
      O(log n) tiles, an inclusion proof in at most 5 ms, memory flat. Also the log tables'
      size on disk.

The database named by DATABASE_URL is created if missing and migrated; its name must contain
"bench", because its records and log are replaced: (a) leaves N integrated records there, which
bench/exports.py reuses. (b) builds its tree in a database of its own, the same name with
"_tree" appended, and reuses a tree of the same size left there by an earlier run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/iportalis_bench \\
        .venv/bin/python bench/log.py [--records 1000000] [--leaves 10000000] [--proofs 300]

A quick run: --records 50000 --leaves 300000 --proofs 200. --skip backlog or --skip tree leaves
out a part.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GOAL_BACKLOG_S, GOAL_CONSISTENCY_MS, GOAL_INCLUSION_MS = 20.0, 50.0, 5.0
SYNTHETIC = "synthetic"  # the leaves' source: not records, and said so in the output
CHUNK = 1 << 16  # leaves per COPY: one level-1 tile's worth
OLD_SHARE = 0.9  # the first checkpoint signed over this share of the leaves


def rss_mb() -> float:
    """Return this process's resident memory now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child(part: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run one part of the measurements in a fresh process (its memory is its own); return the
    JSON it prints."""
    done = subprocess.run(
        [PYTHON, __file__, "--child", part, *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,  # progress and errors go to stderr, shown as they come
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"bench/log.py --child {part} failed (see above)")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# (a) The backlog --------------------------------------------------------------------------


def time_integration() -> dict[str, Any]:
    """In the child: integrate everything pending, timed."""
    from consent.log import store
    from consent.log.integration import integrate_all

    before = rss_mb()
    started = time.perf_counter()
    count = integrate_all()
    seconds = time.perf_counter() - started
    head = store.latest()
    return {
        "seconds": seconds,
        "entries": count,
        "size": head.size if head else 0,
        "rss_before": before,
        "peak_rss": peak_rss_mb(),
    }


def backlog(records: int, env: dict[str, str]) -> dict[str, Any]:
    from django.db import connection
    from exports import load_records

    started = time.perf_counter()
    load_records(records)
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT txid) FROM consent_consentrecord")
        (transactions,) = cursor.fetchone() or (0,)
    connection.close()
    print(f"(a) Loaded {records:,} records with COPY in {loaded:.0f} s ({transactions} txids).")
    result = child("integrate", env)
    result["transactions"] = transactions
    return result


# (b) The tree -----------------------------------------------------------------------------


def synthetic_leaves(first: int, count: int) -> list[bytes]:
    """Return the leaf hashes of synthetic entries `first` to `first + count - 1`."""
    prefix = b"\x00" + b'{"n":'
    return [
        hashlib.sha256(b'%s%d,"type":"bench"}' % (prefix, n)).digest()
        for n in range(first, first + count)
    ]


def copy_rows(table: str, columns: str, rows: Iterator[str]) -> None:
    from django.db import connection

    buffer = io.StringIO()
    buffer.writelines(rows)
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def build_tree(leaves: int) -> tuple[float, int]:
    """Build a log of `leaves` synthetic leaves; return the seconds it took and the size of its
    first checkpoint."""
    from django.db import connection, transaction
    from django.utils import timezone
    from exports import empty_log

    from consent.log import note, store, tiles
    from consent.log.models import LogCheckpoint

    started = time.perf_counter()
    empty_log(records=True)
    old = int(leaves * OLD_SHARE)
    edge = tiles.Edge(0, [])
    for first in range(0, old, CHUNK):
        hashes = synthetic_leaves(first, min(CHUNK, old - first))
        full = edge.grow(hashes)
        copy_rows(
            "consent_logleaf",
            "index, hash, source, ref",
            (
                f"{first + n}\t\\\\x{h.hex()}\t{SYNTHETIC}\t{first + n}\n"
                for n, h in enumerate(hashes)
            ),
        )
        copy_rows(
            "consent_logtile",
            "level, index, hashes, root",
            (f"{t.level}\t{t.index}\t\\\\x{t.hashes.hex()}\t\\\\x{t.root.hex()}\n" for t in full),
        )
        if first // CHUNK % 16 == 0:
            done = f"{first + len(hashes):,} leaves, {time.perf_counter() - started:.0f} s"
            print(f"    {done}", file=sys.stderr, flush=True)
    key = store.signer()
    root = edge.root()
    LogCheckpoint.objects.create(
        size=old,
        root=root,
        note=note.sign_note(note.Checkpoint(key.name, old, root).body(), key),
        created_at=timezone.now(),
        cursor=0,
    )
    # The rest through the store, as the integrator appends: it reads the tree's edge back from
    # the tables just written, so its root must be the one the whole tree has in memory.
    with transaction.atomic():
        rest = synthetic_leaves(old, leaves - old)
        checkpoint = store.append(
            [(SYNTHETIC, old + n, h) for n, h in enumerate(rest)], cursor=(0, 0)
        )
    edge.grow(rest)
    if bytes(checkpoint.root) != edge.root() or checkpoint.size != leaves:
        raise SystemExit("The tree appended through the store has another root: a bug.")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE consent_logleaf, consent_logtile, consent_logcheckpoint")
    connection.close()
    return time.perf_counter() - started, old


def tree(leaves: int) -> dict[str, Any]:
    """In the child: build the tree unless the database holds it already; return how long that
    took (None if reused) and the log tables' sizes on disk."""
    seconds = None
    if reusable_tree(leaves):
        print("    reusing the tree built by an earlier run", file=sys.stderr)
    else:
        seconds, _old = build_tree(leaves)
    return {"seconds": seconds, "sizes": disk_sizes()}


def reusable_tree(leaves: int) -> bool:
    from consent.log import store
    from consent.log.models import LogLeaf

    head = store.latest()
    return (
        head is not None
        and head.size == leaves
        and LogLeaf.objects.filter(index=0, source=SYNTHETIC).exists()
    )


ReadTile = Callable[..., bytes]  # (level, index, width[, using])


def counting(read_tile: ReadTile, seen: set[tuple[int, int]]) -> ReadTile:
    """Return `read_tile` noting each tile (level, index) it reads in `seen`."""

    def read(level: int, index: int, width: int, *using: str) -> bytes:
        seen.add((level, index))
        return read_tile(level, index, width, *using)

    return read


def time_proofs(proofs: int) -> dict[str, Any]:
    """In the child: time consistency and inclusion proofs in the stored tree, at random sizes
    and indexes (the same each run), verify them, and count the tiles they read."""
    from django.db import connection

    from consent.log import merkle, note, store, tiles
    from consent.log.models import LogCheckpoint

    head = store.latest()
    assert head is not None
    size = head.size
    checkpoints = list(LogCheckpoint.objects.order_by("size").values_list("size", flat=True))
    random.seed(12)
    old_sizes = [random.randrange(1, size) for _ in range(proofs)]
    indexes = [random.randrange(size) for _ in range(proofs)]
    store.inclusion_proof(0, size)  # the first query of a connection costs its own setup
    rss_start = rss_mb()

    consistency_ms, inclusion_ms = [], []
    for old in old_sizes:
        started = time.perf_counter()
        store.consistency_proof(old, size)
        consistency_ms.append((time.perf_counter() - started) * 1000)
    for index in indexes:
        started = time.perf_counter()
        store.inclusion_proof(index, size)
        inclusion_ms.append((time.perf_counter() - started) * 1000)
    rss_end = rss_mb()

    # Untimed: what the proofs read (tiles and SQL queries), and that they verify.
    queries = 0

    def count_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    real_read_tile = store.read_tile
    tiles_read: dict[str, list[int]] = {"consistency": [], "inclusion": []}
    queries_made: dict[str, list[int]] = {"consistency": [], "inclusion": []}
    lengths: dict[str, list[int]] = {"consistency": [], "inclusion": []}
    verifier = store.verifier()
    checkpoint, _ = note.open_checkpoint(head.note, verifier)
    sample = 50
    with connection.execute_wrapper(count_query):
        for old, index in zip(old_sizes[:sample], indexes[:sample], strict=True):
            for kind in ("consistency", "inclusion"):
                seen: set[tuple[int, int]] = set()
                store.read_tile = counting(real_read_tile, seen)
                queries = 0
                if kind == "consistency":
                    proof = store.consistency_proof(old, size)
                else:
                    proof = store.inclusion_proof(index, size)
                store.read_tile = real_read_tile
                tiles_read[kind].append(len(seen))
                queries_made[kind].append(queries)
                lengths[kind].append(len(proof))
                if kind == "consistency":
                    old_root = merkle.root(old, store.hash_reader())
                    merkle.verify_consistency(old, size, old_root, checkpoint.root, proof)
                else:
                    offset = index % tiles.WIDTH
                    data = store.read_tile(0, index // tiles.WIDTH, offset + 1)
                    leaf = data[offset * merkle.HASH_SIZE : (offset + 1) * merkle.HASH_SIZE]
                    merkle.verify_inclusion(index, size, leaf, proof, checkpoint.root)

    # Between the two signed checkpoints, as an auditor asks.
    between: list[float] = []
    for _ in range(20):
        started = time.perf_counter()
        store.consistency_proof(checkpoints[0], checkpoints[-1])
        between.append((time.perf_counter() - started) * 1000)

    return {
        "size": size,
        "checkpoints": checkpoints,
        "consistency_ms": consistency_ms,
        "inclusion_ms": inclusion_ms,
        "between_ms": between,
        "tiles": tiles_read,
        "queries": queries_made,
        "lengths": lengths,
        "rss_start": rss_start,
        "rss_end": rss_end,
        "peak_rss": peak_rss_mb(),
    }


def disk_sizes() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT relname, pg_total_relation_size(oid) FROM pg_class
               WHERE relname IN ('consent_logleaf', 'consent_logtile', 'consent_logcheckpoint')"""
        )
        return dict(cursor.fetchall())


# Output -----------------------------------------------------------------------------------


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(len(ordered) * 0.99) - 1)]


def spread(values: list[float]) -> str:
    median, top = statistics.median(values), max(values)
    return f"median {median:.2f}, p99 {p99(values):.2f}, max {top:.2f} ms"


def report_backlog(records: int, result: dict[str, Any]) -> list[tuple[str, bool]]:
    seconds, entries = result["seconds"], result["entries"]
    print(f"\n(a) Integrating a backlog of {records:,} records")
    print(f"    loaded by COPY in {result['transactions']} transactions, the log empty")
    print(f"    integrate_all():  {seconds:.2f} s for {entries:,} entries")
    print(f"    rate:             {entries / seconds:,.0f} entries/s")
    print(f"    tree size after:  {result['size']:,} (the records and the policy publications)")
    before, peak = result["rss_before"], result["peak_rss"]
    print(f"    RSS:              {before:.0f} MB before, {peak:.0f} MB peak")
    goal = f"{records:,}-record backlog integrated in <= {GOAL_BACKLOG_S:.0f} s"
    return [(goal, seconds <= GOAL_BACKLOG_S)]


def report_tree(
    built: float | None, result: dict[str, Any], sizes: dict[str, int]
) -> list[tuple[str, bool]]:
    size, count = result["size"], len(result["consistency_ms"])
    log_n = math.ceil(math.log2(size))
    checkpoints = ", ".join(f"{s:,}" for s in result["checkpoints"])
    print(f"\n(b) Proofs in a tree of {size:,} leaves")
    print('    SYNTHETIC entries, not records: the leaf hashes of {"n":N,"type":"bench"}, loaded')
    print("    with COPY, full tiles from tiles.Edge; the last 10% appended by store.append")
    print(f"    checkpoints at sizes {checkpoints}")
    if built is not None:
        print(f"    built in {built:.0f} s ({size / built:,.0f} leaves/s)")
    else:
        print("    reused from an earlier run")
    print(f"    consistency proof, random old size to {size:,} ({count}):")
    print(f"        {spread(result['consistency_ms'])}")
    print(f"    consistency proof between the two checkpoints: {spread(result['between_ms'])}")
    print(f"    inclusion proof, random index ({count}): {spread(result['inclusion_ms'])}")
    for kind in ("consistency", "inclusion"):
        tiles, queries = result["tiles"][kind], result["queries"][kind]
        lengths = result["lengths"][kind]
        print(
            f"    a {kind} proof reads {min(tiles)}-{max(tiles)} tiles in "
            f"{min(queries)}-{max(queries)} SQL queries, for {min(lengths)}-{max(lengths)} hashes"
        )
    print(f"    (log2 of the size: {log_n})")
    print(
        f"    RSS of the proving process: {result['rss_start']:.0f} MB before the proofs, "
        f"{result['rss_end']:.0f} MB after {2 * count:,} of them, {result['peak_rss']:.0f} MB peak"
    )
    total = sum(sizes.values())
    print(f"    on disk, tables with TOAST and indexes: {total / 2**20:,.0f} MB,", end=" ")
    print(f"{total / size:.0f} bytes a leaf")
    for table, nbytes in sorted(sizes.items()):
        print(f"        {table:<24}{nbytes / 2**20:>10,.1f} MB")
    growth = result["rss_end"] - result["rss_start"]
    return [
        (
            f"consistency proof p99 <= {GOAL_CONSISTENCY_MS:.0f} ms",
            p99(result["consistency_ms"]) <= GOAL_CONSISTENCY_MS,
        ),
        (
            f"a consistency proof reads O(log n) tiles (at most log2 n = {log_n})",
            max(result["tiles"]["consistency"]) <= log_n,
        ),
        (
            f"inclusion proof p99 <= {GOAL_INCLUSION_MS:.0f} ms",
            p99(result["inclusion_ms"]) <= GOAL_INCLUSION_MS,
        ),
        ("memory flat (less than 5 MB more after the proofs)", growth < 5),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--proofs", type=int, default=300)
    parser.add_argument("--skip", choices=("backlog", "tree"), action="append", default=[])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    for folder in (str(REPO), str(REPO / "bench")):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    from exports import bench_database_url

    url = bench_database_url()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "iportalis.settings.dev", "DEBUG": "0"}
    os.environ.update(env)
    import django
    from django.core.management import call_command

    from iportalis.embedded_db import create_database
    from iportalis.env import database_from_url

    if args.child:
        if args.child == "tree":
            create_database(database_from_url(url))
        django.setup()
        if args.child == "integrate":
            print(json.dumps(time_integration()))
        elif args.child == "tree":
            call_command("migrate", interactive=False, verbosity=0)
            print(json.dumps(tree(args.leaves)))
        else:
            print(json.dumps(time_proofs(args.proofs)))
        return

    create_database(database_from_url(url))
    from django.db import connection

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version')")
        (server,) = cursor.fetchone() or ("?",)

    from exports import machine

    goals: list[tuple[str, bool]] = []
    if "backlog" not in args.skip:
        goals += report_backlog(args.records, backlog(args.records, env))
    if "tree" not in args.skip:
        # A database of its own: the synthetic leaves' statistics would mislead the planner on
        # the records' queries, and (a) leaves what bench/exports.py reuses.
        connection.close()
        tree_env = {**env, "DATABASE_URL": f"{url}_tree"}
        print(f"(b) A tree of {args.leaves:,} synthetic leaves in {url.rsplit('/', 1)[-1]}_tree")
        built = child("tree", tree_env, "--leaves", str(args.leaves))
        result = child("proofs", tree_env, "--proofs", str(args.proofs))
        goals += report_tree(built["seconds"], result, built["sizes"])
    print(f"\nMachine: {machine(server)}\n")
    for goal, met in goals:
        print(f"{'PASS' if met else 'FAIL'}  {goal}")


if __name__ == "__main__":
    main()
