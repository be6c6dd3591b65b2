"""Appending consent records: one row per decision, one INSERT (the integrator logs it)."""

from __future__ import annotations

import functools
import uuid
import weakref
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.utils import timezone

from policy.models import PolicyVersion

from ..categories import FIRST_PARTY, PERSISTENT, SESSION, THIRD_PARTY, normalise
from ..models import ConsentRecord
from ..sanitise import clean_path, ip_hmac, shorten_user_agent


def append_record(
    *,
    consent_id: uuid.UUID,
    event: str,
    surface: str,
    choices: Mapping[str, bool],
    policy: PolicyVersion,
    path: str,
    gpc: bool,
    language: str,
    ip: str,
    user_agent: str,
) -> ConsentRecord:
    """Write one decision: one INSERT, no lock, no shared row updated, one round trip.

    Plain values, no request: `ip` is the client's address (kept only as its HMAC), `path`,
    `language` and `user_agent` as the request gave them (cut and cleaned here).

    The integrator (consent.log.integration) adds it to the signed log within about a second.
    """
    choices = normalise(choices)
    record = ConsentRecord(
        consent_id=consent_id,
        event=event,
        surface=surface,
        necessary=True,
        first_party=choices[FIRST_PARTY],
        third_party=choices[THIRD_PARTY],
        session=choices[SESSION],
        persistent=choices[PERSISTENT],
        gpc=gpc,
        policy_version=policy,
        policy_sha256=policy.content_sha256,
        language=language[:10],
        path=clean_path(path),
        ip_hmac=ip_hmac(ip),
        user_agent=shorten_user_agent(user_agent),
    )
    record.created_at = timezone.now()
    _insert(record)
    return record


# The driver connections the insert is prepared on; one that closes leaves the set by itself.
_prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()


def _insert(record: ConsentRecord) -> None:
    """Insert the record in one prepared statement, and give it its ID."""
    attnames, prepare, execute = _statements()
    # The values as they are: psycopg2 adapts each of these field types (UUID, aware datetime,
    # bool, int, str) exactly as the fields' own get_db_prep_save would, at a tenth of the cost.
    params = [getattr(record, name) for name in attnames]
    with connection.cursor() as cursor:
        # Prepared once per connection, so PostgreSQL plans it once rather than for each record:
        # that was a third of what the statement cost the server. PREPARE outlives a rollback.
        if connection.connection not in _prepared_on:
            cursor.execute(prepare)
            _prepared_on.add(connection.connection)
        cursor.execute(execute, params)
        record.pk = cursor.fetchone()[0]
    record._state.adding = False


@functools.cache
def _statements() -> tuple[list[str], str, str]:
    """Return the record's attribute names in column order, and the SQL that prepares and runs
    the insert, whose parameters are those columns. The row's `txid` is the column's default."""
    fields = [f for f in ConsentRecord._meta.concrete_fields if f.name != "id"]
    param = {f.attname: f"${n}" for n, f in enumerate(fields, 1)}
    prepare = f"""
        PREPARE {APPEND} AS
        INSERT INTO {ConsentRecord._meta.db_table} ({", ".join(f.column for f in fields)})
        VALUES ({", ".join(param.values())})
        RETURNING id
    """
    execute = f"EXECUTE {APPEND} ({', '.join(['%s'] * len(fields))})"
    return list(param), prepare, execute


APPEND = "consent_append_record"
