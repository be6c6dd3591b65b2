"""Checking an export offline, with the log's public key alone: no Django, no database.

An export (consent.audit.export, docs/export-columns.md) is CSV with a sidecar proof
(FILE.proof.json), a ZIP archive holding both (the admin's CSV), or JSON Lines whose last line is
the proof. For every row with a leaf index, its entry is rebuilt from its columns and hashed; those
leaves, the proof's purge entry and the hashes of the subtrees the export leaves out must make the
root that the proof's checkpoint signs. So an edited, removed, added or renumbered row breaks the
root, and rows must come in ID order, as exported. The leaf indexes listed as purged must be exactly
those the signed purge entry committed to. A CSV's text cells are read back unescaped first
(`unescape_cell`).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import zipfile
from array import array
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import entries, merkle, note

PROOF_FORMAT = "iportalis-consent-export-proof/1"
PROOF_SUFFIX = ".proof.json"
MAX_LISTED = 50

# The CSV columns whose text a visitor sends (the others hold numbers, booleans, times, UUIDs,
# hex and fixed names, which begin with none of the characters below).
ESCAPED_COLUMNS = ("language", "path", "user_agent")
# A spreadsheet runs a cell that begins with one of these as a formula (OWASP's CSV injection
# list, with LF and the apostrophe itself, so that escaping can be undone)...
FORMULA_STARTS = "=+-@\t\r\n'"
# ... and starts a cell after each of these, if it splits lines on another separator than
# the comma (a semicolon in German or French Excel, a tab) or ignores the quotes.
CELL_BREAKS = ",;\t\r\n"
_ESCAPE = re.compile(rf"(?:^|(?<=[{CELL_BREAKS}]))(?=[{re.escape(FORMULA_STARTS)}])")
_UNESCAPE = re.compile(rf"(?:^|(?<=[{CELL_BREAKS}]))'")


def escape_cell(text: str) -> str:
    """Return a CSV cell's text with an apostrophe before each character of FORMULA_STARTS
    that begins it or follows one of CELL_BREAKS: no part of it can start a formula.

    The apostrophe is one of FORMULA_STARTS, so an apostrophe at such a place is always one
    escaping added, and `unescape_cell` removes exactly those.
    """
    return _ESCAPE.sub("'", text)


def unescape_cell(text: str) -> str:
    """Return the text `escape_cell` was given: without each apostrophe that begins the cell
    or follows one of CELL_BREAKS."""
    return _UNESCAPE.sub("", text)


@dataclass
class ExportCheck:
    """What checking an export found; `problems` is empty when it verifies."""

    problems: list[str] = field(default_factory=list)
    rows: int = 0
    proved: int = 0  # rows whose entry is proved to be in the tree
    pending: int = 0  # rows not yet in the log when exported: nothing proves them
    checkpoint: note.Checkpoint | None = None
    purged: list[tuple[int, int]] = field(default_factory=list)  # [lo, hi) runs of leaf indexes

    def add(self, problem: str) -> None:
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        elif len(self.problems) == MAX_LISTED:
            self.problems.append("… and more")


def verify_export(path: Path, verifier: note.Verifier) -> list[str]:
    """Return what does not verify in an export (empty: it verifies)."""
    return check_export(path, verifier).problems


def check_export(path: Path, verifier: note.Verifier) -> ExportCheck:
    """Check an export and its proof against the log's key; return what was found."""
    check = ExportCheck()
    with ExitStack() as files:
        try:
            rows, proof = _open(Path(path), files)
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            check.add(f"cannot read the export: {error}")
            return check
        _check_rows(check, rows, proof, verifier)
    return check


def _check_rows(check: ExportCheck, rows: Any, proof: Any, verifier: note.Verifier) -> None:
    leaves = _Leaves()
    previous_id = None
    for number, row in enumerate(rows, 1):
        check.rows += 1
        try:
            entry = entries.record_entry_from_row(row)
            index = row.get("leaf_index")
        except (KeyError, ValueError, TypeError) as error:
            check.add(f"row {number}: not a record of this export's columns ({error})")
            continue
        if previous_id is not None and entry["id"] <= previous_id:
            check.add(f"row {number} (record {entry['id']}): out of order: rows come in ID order")
        previous_id = entry["id"]
        if index in (None, ""):
            check.pending += 1
            continue
        leaves.add(int(index), merkle.leaf_hash(entries.encode(entry)))
    proof = proof if proof is not None else _read_proof_line(rows)
    if proof is None:
        check.add("the export has no proof")
        return
    _check_proof(check, proof, leaves, verifier)


class _Leaves:
    """The exported rows' leaves, kept compactly: an index array and their hashes."""

    def __init__(self) -> None:
        self.indexes = array("q")
        self.hashes = bytearray()

    def add(self, index: int, leaf: bytes) -> None:
        self.indexes.append(index)
        self.hashes += leaf

    def __len__(self) -> int:
        return len(self.indexes)

    def sorted(self) -> Iterator[tuple[int, int, bytes]]:
        order = sorted(range(len(self.indexes)), key=self.indexes.__getitem__)
        for n in order:
            yield self.indexes[n], self.indexes[n] + 1, bytes(self.hashes[32 * n : 32 * n + 32])


def _check_proof(check: ExportCheck, proof: Any, leaves: _Leaves, verifier: note.Verifier) -> None:
    if not isinstance(proof, dict) or proof.get("format") != PROOF_FORMAT:
        check.add("the proof is not an iportalis export proof")
        return
    check.proved = len(leaves)
    if proof.get("checkpoint") is None:
        if len(leaves):
            check.add("the proof has no checkpoint, yet rows name leaf indexes")
        return
    try:
        checkpoint, _others = note.open_checkpoint(str(proof["checkpoint"]), verifier)
    except note.NoteError as error:
        check.add(f"the proof's checkpoint does not verify with the log's key: {error}")
        return
    check.checkpoint = checkpoint
    if proof.get("size") != checkpoint.size:
        check.add("the proof's size is not its checkpoint's")
    if proof.get("records") != len(leaves):
        check.add(
            f"the proof covers {proof.get('records')} exported records, the export has "
            f"{len(leaves)} rows with a leaf index: rows were removed or added"
        )
    items: list[tuple[int, int, bytes]] = []
    try:
        items += [(int(lo), int(hi), base64.b64decode(h)) for lo, hi, h in proof["subtrees"]]
        purge = _purge(proof.get("purge"))
        if purge is not None:
            index, entry_bytes, purge_entry = purge
            items.append((index, index + 1, merkle.leaf_hash(entry_bytes)))
        check.purged = [(int(lo), int(hi)) for lo, hi in proof.get("purged", [])]
    except (KeyError, TypeError, ValueError) as error:
        check.add(f"the proof is malformed: {error}")
        return
    merged = sorted([*items, *leaves.sorted()], key=lambda item: item[0])
    try:
        root = _root(merged, checkpoint.size)
    except _Uncovered as error:
        check.add(str(error))
        return
    if root != checkpoint.root:
        check.add(
            "the rows and the proof do not make the root the checkpoint signs: a row was "
            "edited, removed, added or given another leaf index"
        )
    if purge is not None:
        _check_purged(check, purge_entry, leaves)
    elif check.purged:
        check.add("the proof lists purged leaves but no purge")


def _purge(entry: Any) -> tuple[int, bytes, dict[str, Any]] | None:
    if entry is None:
        return None
    data = base64.b64decode(entry["entry"])
    parsed = json.loads(data)
    if parsed.get("type") != entries.PURGE:
        raise ValueError("the purge entry is not a purge")
    return int(entry["index"]), data, parsed


def _check_purged(check: ExportCheck, purge: dict[str, Any], leaves: _Leaves) -> None:
    digest, count = hashlib.sha256(), 0
    for lo, hi in check.purged:
        for index in range(lo, hi):
            digest.update(index.to_bytes(8, "big"))
        count += hi - lo
    if (count, digest.hexdigest()) != (purge.get("purged_total"), purge.get("purged_sha256")):
        check.add(
            f"the {count} leaf indexes listed as purged are not the {purge.get('purged_total')} "
            f"the purge of {str(purge.get('purged_at'))[:10]} removed"
        )
    runs = check.purged
    for index in leaves.indexes:
        if any(lo <= index < hi for lo, hi in runs):
            check.add(f"leaf {index}: exported, yet listed as purged")


class _Uncovered(ValueError):
    pass


def _root(items: list[tuple[int, int, bytes]], size: int) -> bytes:
    """Return the root of a tree of `size` leaves from subtrees `(lo, hi, hash)` that cover it
    exactly, in order; raise _Uncovered where they do not."""
    if size == 0:
        if items:
            raise _Uncovered("the proof's tree is empty, yet the export names leaves")
        return merkle.EMPTY_ROOT
    position = 0

    def mth(lo: int, hi: int) -> bytes:
        nonlocal position
        if position < len(items):
            first, end, digest = items[position]
            if first == lo and end == hi:
                position += 1
                return digest
            if first < lo:
                raise _Uncovered(f"leaf {first}: named twice, or its subtree overlaps another")
        if hi - lo == 1:
            raise _Uncovered(f"leaf {lo}: neither in the export nor in the proof")
        k = merkle.split(hi - lo)
        return merkle.node_hash(mth(lo, lo + k), mth(lo + k, hi))

    root = mth(0, size)
    if position < len(items):
        raise _Uncovered(f"leaf {items[position][0]}: beyond the tree, or named twice")
    return root


# Reading the files ---------------------------------------------------------------------------


def _open(path: Path, files: ExitStack) -> tuple[Iterable[dict[str, Any]], Any]:
    """Return the rows of an export and its proof (None: the last line of JSON Lines)."""
    if zipfile.is_zipfile(path):
        archive = files.enter_context(zipfile.ZipFile(path))
        names = archive.namelist()
        data = [n for n in names if not n.endswith(PROOF_SUFFIX)]
        proofs = [n for n in names if n.endswith(PROOF_SUFFIX)]
        if len(data) != 1 or len(proofs) != 1:
            raise ValueError("the archive must hold one export and its proof")
        proof = json.loads(archive.read(proofs[0]))
        member = files.enter_context(archive.open(data[0]))
        text = io.TextIOWrapper(member, encoding="utf-8", newline="")
        return _rows(text), proof
    file = files.enter_context(open(path, encoding="utf-8", newline=""))  # noqa: SIM115
    if file.read(1) == "{":
        file.seek(0)
        return _JsonLines(file), None
    file.seek(0)
    sidecar = Path(f"{path}{PROOF_SUFFIX}")
    proof = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else None
    return _rows(file), proof


def _rows(text: Any) -> Iterator[dict[str, Any]]:
    """Yield the rows of a CSV export, their text cells unescaped."""
    for row in csv.DictReader(text):
        for column in ESCAPED_COLUMNS:
            if isinstance(row.get(column), str):
                row[column] = unescape_cell(row[column])
        yield row


class _JsonLines:
    """The rows of JSON Lines, holding back the last line: the proof."""

    def __init__(self, file: Any) -> None:
        self.file = file
        self.last: str | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for line in self.file:
            if self.last is not None:
                try:
                    yield json.loads(self.last)
                except ValueError:
                    yield {}  # reported as a row that is not a record
            self.last = line

    def proof(self) -> Any:
        return json.loads(self.last) if self.last else None


def _read_proof_line(rows: Any) -> Any:
    return rows.proof() if isinstance(rows, _JsonLines) else None
