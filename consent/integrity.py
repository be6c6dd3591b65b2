"""The hash chains that make consent records tamper-evident (design: docs/integrity.md).

Records are spread over `CHAINS` independent chains, each process appending to chains of its own
(consent.records), so writers on different chains never wait for each other. Each record's hash
is an HMAC, keyed with a secret the database does not hold, over its content and the previous
hash: an edited, removed or inserted record breaks its chain, and whoever can write to the
database still cannot forge a valid chain without the key. A retention purge leaves a signed
checkpoint where it cut each chain, and verification starts from there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .conf import conf

# More chains than processes writing on every host together: writers rarely meet on one.
CHAINS = 64
GENESIS = "0" * 64
FORMAT = "v1"
CHECKPOINT_FORMAT = "checkpoint-v1"

# How a chain can break (docs/integrity.md, "Verifying").
CHANGED, MISSING, INSERTED, FORGED = "changed", "missing", "inserted", "forged"

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


def canonical(values: Sequence[Any]) -> bytes:
    """Return the bytes that are hashed for a record's HASHED_FIELDS values."""
    parts: list[Any] = [FORMAT]
    for value in values:
        if isinstance(value, str | int):  # bool is an int
            parts.append(value)
        elif isinstance(value, datetime):
            parts.append(value.isoformat())
        else:
            parts.append(str(value))  # UUID
    return encode_json(parts).encode()


def record_hash(values: Sequence[Any], key: bytes | None = None) -> str:
    key = key if key is not None else integrity_key()
    return hmac.new(key, canonical(values), hashlib.sha256).hexdigest()


def checkpoint_signature(
    chain: int,
    seq: int,
    hash: str,
    purged_before: datetime,
    purged_at: datetime,
    records: int,
    key: bytes | None = None,
) -> str:
    """Return the HMAC that shows a purge checkpoint was written by someone holding the key.

    Its own format tag keeps a record's hash from ever passing for a checkpoint's signature.
    """
    times = [moment.astimezone(UTC).isoformat() for moment in (purged_before, purged_at)]
    payload = [CHECKPOINT_FORMAT, chain, seq, hash, *times, records]
    return _hmac(key if key is not None else integrity_key(), payload)


def _hmac(key: bytes, parts: Sequence[Any]) -> str:
    return hmac.new(key, encode_json(parts).encode(), hashlib.sha256).hexdigest()


# The JSON that is hashed: compact, non-ASCII kept. One encoder, built once: verification
# encodes a million records.
encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def iso_utc_sql(column: str) -> str:
    """Return SQL printing a timestamp exactly as Python's isoformat() does in UTC, as hashed.

    Python leaves out the fraction of a second when it is zero, so this does too.
    """
    return (
        f"to_char({column} AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', {column}) = {column}"
        """ THEN 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"' END)"""
    )


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
    kind: str  # CHANGED, MISSING, INSERTED or FORGED
    detail: str

    def __str__(self) -> str:
        if self.record_id is not None:
            where = f"record {self.record_id}"
        elif self.kind == FORGED:
            where = "purge checkpoint"
        else:
            where = "after the last record"
        return f"chain {self.chain}, seq {self.seq} ({where}): {self.kind}: {self.detail}"


def verify_chain(
    chain: int,
    rows: Iterable[Sequence[Any]],
    end: tuple[int, str],
    key: bytes | None = None,
    start: tuple[int, str] = (0, GENESIS),
) -> tuple[int, Break | None]:
    """Check one chain's rows, each `(id, *HASHED_FIELDS values, hash)` in seq order.

    The values are JSON types, `consent_id` and `created_at` as the text that was hashed. `start`
    is the `(seq, hash)` the rows follow (the genesis, a purge checkpoint, or the record before a
    range) and `end` the one they must reach (the chain's head, or where the record after a range
    points). Return how many rows were checked and the first break, if any. A record whose hash
    does not match its content counts as changed when the next link still points at it, and as
    inserted when nothing does.
    """
    keyed = hmac.new(key if key is not None else integrity_key(), digestmod=hashlib.sha256)
    end_seq, end_hash = end
    expected_seq, expected_prev = start[0] + 1, start[1]
    count = 0
    for row, following in _with_next(rows):
        record_id, values, stored = row[0], row[1:-1], row[-1]
        seq, prev_hash = values[_SEQ], values[_PREV]
        count += 1
        if seq < expected_seq:
            return count, Break(
                chain, seq, record_id, INSERTED, f"before the chain's start (seq {start[0]} purged)"
            )
        if seq > end_seq:
            return count, Break(chain, seq, record_id, INSERTED, f"past the head (seq {end_seq})")
        if seq != expected_seq:
            return count, Break(
                chain, expected_seq, record_id, MISSING, f"no record with seq {expected_seq}"
            )
        digest = keyed.copy()  # the key's part of HMAC is done once, not once per record
        digest.update(encode_json([FORMAT, *values]).encode())
        if not hmac.compare_digest(digest.hexdigest(), stored):
            pointed_at = following[1 + _PREV] if following is not None else end_hash
            if pointed_at == stored:
                return count, Break(chain, seq, record_id, CHANGED, "content does not match hash")
            return count, Break(chain, seq, record_id, INSERTED, "not part of the chain")
        if prev_hash != expected_prev:
            return count, Break(chain, seq, record_id, MISSING, "chained to a record not there")
        expected_seq, expected_prev = seq + 1, stored
    if expected_seq <= end_seq:
        return count, Break(
            chain,
            expected_seq,
            None,
            MISSING,
            f"the chain goes on to seq {end_seq}: records removed",
        )
    if end_seq and end_hash != expected_prev:
        return count, Break(
            chain, end_seq, None, CHANGED, "last record does not match what follows"
        )
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
