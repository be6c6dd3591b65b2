"""What the log holds: each consent record and each policy publication as one entry.

An entry is the RFC 8785 (JCS) canonical JSON of one object, UTF-8 encoded: keys sorted,
no whitespace, strings escaped only where JSON must. Our values are strings, booleans and
integers below 2**53, for which `json.dumps` with sorted keys and compact separators writes
exactly what RFC 8785 does (tests/consent/test_entries.py checks it against the `rfc8785`
package). The integrator has PostgreSQL build the same bytes and hash them, so a million
records are hashed without a round trip each; offline tools rebuild them from an export in
Python (docs/auditing.md gives the fields).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

RECORD = "consent-record"
PUBLICATION = "policy-publication"
PURGE = "consent-purge"

# Each consent record field in the entry, and its column; in the entry's (sorted) key order.
RECORD_FIELDS = (
    "consent_id",
    "created_at",
    "event",
    "first_party",
    "gpc",
    "id",
    "ip_hmac",
    "language",
    "necessary",
    "path",
    "persistent",
    "policy_language",
    "policy_sha256",
    "policy_version",
    "session",
    "surface",
    "third_party",
    "type",
    "user_agent",
)
PUBLICATION_FIELDS = (
    "effective_date",
    "language",
    "number",
    "published_at",
    "sha256",
    "type",
)
PURGE_FIELDS = (
    "before",
    "count",
    "highest_id",
    "id",
    "purged_at",
    "purged_sha256",
    "purged_total",
    "tree_size",
    "type",
)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # always six digits of fraction, always UTC
_TIME_SQL = """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"""

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode


def encode(entry: Mapping[str, Any]) -> bytes:
    """Return the canonical bytes of an entry (str, bool and int values)."""
    return _encode(entry).encode()


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def record_entry(record: Any) -> dict[str, Any]:
    """Return the entry of a ConsentRecord (its policy_version loaded)."""
    return {
        "consent_id": str(record.consent_id),
        "created_at": utc_text(record.created_at),
        "event": record.event,
        "first_party": record.first_party,
        "gpc": record.gpc,
        "id": record.pk,
        "ip_hmac": record.ip_hmac,
        "language": record.language,
        "necessary": record.necessary,
        "path": record.path,
        "persistent": record.persistent,
        "policy_language": record.policy_version.language,
        "policy_sha256": record.policy_sha256,
        "policy_version": record.policy_version.number,
        "session": record.session,
        "surface": record.surface,
        "third_party": record.third_party,
        "type": RECORD,
        "user_agent": record.user_agent,
    }


def publication_entry(version: Any) -> dict[str, Any]:
    """Return the entry of a published PolicyVersion."""
    effective: date = version.effective_date
    return {
        "effective_date": effective.isoformat(),
        "language": version.language,
        "number": version.number,
        "published_at": utc_text(version.published_at),
        "sha256": version.content_sha256,
        "type": PUBLICATION,
    }


def purge_entry(purge: Any) -> dict[str, Any]:
    """Return the entry of a ConsentPurge."""
    return {
        "before": utc_text(purge.before),
        "count": purge.count,
        "highest_id": purge.highest_id,
        "id": purge.pk,
        "purged_at": utc_text(purge.purged_at),
        "purged_sha256": purge.purged_sha256,
        "purged_total": purge.purged_total,
        "tree_size": purge.tree_size,
        "type": PURGE,
    }


_BOOLEAN_FIELDS = ("first_party", "gpc", "necessary", "persistent", "session", "third_party")
_INTEGER_FIELDS = ("id", "policy_version")


def record_entry_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return the entry of a consent record from an export row (consent.audit.export's columns).

    CSV gives text only, so booleans and integers are read back from their text; a time may be
    written in any ISO 8601 form (an export leaves out trailing zeros of the fraction).
    """
    entry: dict[str, Any] = {}
    for field in RECORD_FIELDS:
        if field == "type":
            entry[field] = RECORD
            continue
        value = row[_EXPORT_COLUMN.get(field, field)]
        if field in _BOOLEAN_FIELDS:
            value = value if isinstance(value, bool) else _boolean_text(value)
        elif field in _INTEGER_FIELDS:
            value = int(value)
        elif field == "created_at":
            value = utc_text(datetime.fromisoformat(str(value)))
        else:
            value = str(value)
        entry[field] = value
    return entry


# The export names the party categories by their slugs.
_EXPORT_COLUMN = {"first_party": "first-party", "third_party": "third-party"}


def _boolean_text(value: Any) -> bool:
    if value not in ("true", "false"):
        raise ValueError(f"not a boolean: {value!r}")
    return bool(value == "true")


def _sql_object(pairs: list[tuple[str, str]]) -> str:
    """Return SQL concatenating a JSON object from (key, SQL of its JSON value), its keys sorted
    as RFC 8785 sorts them (the keys are ASCII)."""
    parts = [
        f"""'{"{" if n == 0 else ","}"{key}":' || {value}"""
        for n, (key, value) in enumerate(sorted(pairs))
    ]
    return "(" + " || ".join(parts) + " || '}')"


def _text(column: str) -> str:
    return f"to_json({column}::text)::text"  # PostgreSQL escapes exactly as RFC 8785 does


def _boolean(column: str) -> str:
    return f"{column}::text"  # true, false


def _time(column: str) -> str:
    return f"to_json(to_char({column} AT TIME ZONE 'UTC', {_TIME_SQL}))::text"


# Over consent_consentrecord r joined to policy_policyversion p.
_RECORD_TEXTS = [
    "consent_id",
    "event",
    "ip_hmac",
    "language",
    "path",
    "policy_sha256",
    "surface",
    "user_agent",
]
_RECORD_BOOLEANS = ["first_party", "gpc", "necessary", "persistent", "session", "third_party"]
RECORD_SQL = _sql_object(
    [
        *((column, _text(f"r.{column}")) for column in _RECORD_TEXTS),
        *((column, _boolean(f"r.{column}")) for column in _RECORD_BOOLEANS),
        ("created_at", _time("r.created_at")),
        ("id", "r.id::text"),
        ("policy_language", _text("p.language")),
        ("policy_version", "p.number::text"),
        ("type", f"'\"{RECORD}\"'"),
    ]
)
# Over consent_consentpurge g.
PURGE_SQL = _sql_object(
    [
        ("before", _time("g.before")),
        ("count", "g.count::text"),
        ("highest_id", "g.highest_id::text"),
        ("id", "g.id::text"),
        ("purged_at", _time("g.purged_at")),
        ("purged_sha256", _text("g.purged_sha256")),
        ("purged_total", "g.purged_total::text"),
        ("tree_size", "g.tree_size::text"),
        ("type", f"'\"{PURGE}\"'"),
    ]
)
# Over policy_policyversion p.
PUBLICATION_SQL = _sql_object(
    [
        ("effective_date", "to_json(to_char(p.effective_date, 'YYYY-MM-DD'))::text"),
        ("language", _text("p.language")),
        ("number", "p.number::text"),
        ("published_at", _time("p.published_at")),
        ("sha256", _text("p.content_sha256")),
        ("type", f"'\"{PUBLICATION}\"'"),
    ]
)


def leaf_hash_sql(entry_sql: str) -> str:
    """Return SQL for RFC 9162's leaf hash of an entry built by `entry_sql`."""
    return f"sha256('\\x00'::bytea || convert_to({entry_sql}, 'UTF8'))"
