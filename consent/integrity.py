"""The hash chains that make consent records tamper-evident (design: docs/integrity.md).

Records are spread over `CHAINS` independent chains by consent ID. Appending to a chain locks only
its head row, so writers on different chains never wait for each other. Each record's hash is an
HMAC, keyed with a secret the database does not hold, over its content and the previous hash: an
edited, removed or inserted record breaks its chain, and whoever can write to the database still
cannot forge a valid chain without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .conf import conf

CHAINS = 16
GENESIS = "0" * 64
FORMAT = "v1"

# The record fields that are hashed, in this order. Adding a field means a new FORMAT.
HASHED_FIELDS = (
    "chain",
    "seq",
    "prev_hash",
    "consent_id",
    "created_at",
    "event",
    "surface",
    "necessary",
    "first_party",
    "third_party",
    "session",
    "persistent",
    "gpc",
    "policy_version_id",
    "policy_sha256",
    "language",
    "path",
    "ip_hmac",
    "user_agent",
)


def chain_for(consent_id: Any) -> int:
    """Return the chain a visitor's records go to: all of one visitor's history is in one chain."""
    return int(consent_id.int % CHAINS)


def canonical(values: Sequence[Any]) -> bytes:
    """Return the bytes that are hashed for a record's HASHED_FIELDS values."""
    parts: list[Any] = [FORMAT]
    for value in values:
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif not isinstance(value, str | int | bool):
            value = str(value)  # UUID
        parts.append(value)
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()


def record_hash(values: Sequence[Any], key: bytes | None = None) -> str:
    key = key if key is not None else integrity_key()
    return hmac.new(key, canonical(values), hashlib.sha256).hexdigest()


def integrity_key() -> bytes:
    # A derived key, so the raw setting is never used for two purposes.
    return hashlib.sha256(
        b"iportalis.consent.integrity:" + conf.CONSENT_INTEGRITY_KEY.encode()
    ).digest()


@dataclass(frozen=True)
class Break:
    """Where a chain stops being valid, and how."""

    chain: int
    seq: int
    record_id: int | None
    kind: str  # "changed", "missing", "inserted"
    detail: str

    def __str__(self) -> str:
        where = (
            f"record {self.record_id}" if self.record_id is not None else "after the last record"
        )
        return f"chain {self.chain}, seq {self.seq} ({where}): {self.kind}: {self.detail}"


def verify_chain(
    chain: int, rows: Iterable[Sequence[Any]], head: tuple[int, str], key: bytes | None = None
) -> tuple[int, Break | None]:
    """Check one chain's rows, each `(id, *HASHED_FIELDS values, hash)` in seq order.

    Return how many rows were checked and the first break, if any. A record whose hash does not
    match its content counts as changed when the next link still points at it, and as inserted
    when nothing does.
    """
    key = key if key is not None else integrity_key()
    head_seq, head_hash = head
    expected_seq, expected_prev = 1, GENESIS
    count = 0
    for row, following in _with_next(rows):
        record_id, values, stored = row[0], row[1:-1], row[-1]
        seq, prev_hash = values[_SEQ], values[_PREV]
        count += 1
        if seq > head_seq:
            return count, Break(
                chain, seq, record_id, "inserted", f"past the head (seq {head_seq})"
            )
        if seq != expected_seq:
            return count, Break(
                chain, expected_seq, record_id, "missing", f"no record with seq {expected_seq}"
            )
        if not hmac.compare_digest(record_hash(values, key), stored):
            pointed_at = following[1 + _PREV] if following is not None else head_hash
            if pointed_at == stored:
                return count, Break(chain, seq, record_id, "changed", "content does not match hash")
            return count, Break(chain, seq, record_id, "inserted", "not part of the chain")
        if prev_hash != expected_prev:
            return count, Break(chain, seq, record_id, "missing", "chained to a record not there")
        expected_seq, expected_prev = seq + 1, stored
    if expected_seq <= head_seq:
        return count, Break(
            chain, expected_seq, None, "missing", f"the head is at seq {head_seq}: records removed"
        )
    if head_seq and head_hash != expected_prev:
        return count, Break(chain, head_seq, None, "changed", "last record does not match the head")
    return count, None


_SEQ = HASHED_FIELDS.index("seq")
_PREV = HASHED_FIELDS.index("prev_hash")


def _with_next(
    rows: Iterable[Sequence[Any]],
) -> Iterator[tuple[Sequence[Any], Sequence[Any] | None]]:
    iterator = iter(rows)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, following
        current = following


def iter_chain_rows(queryset: Any, chain: int) -> Iterator[Sequence[Any]]:
    fields = ("id", *HASHED_FIELDS, "hash")
    rows: Iterator[Sequence[Any]] = (
        queryset.filter(chain=chain).order_by("seq").values_list(*fields).iterator(chunk_size=5000)
    )
    return rows
