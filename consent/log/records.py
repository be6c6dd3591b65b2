"""Appending consent records: one row per decision, one INSERT (the integrator logs it)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language

from policy.models import PolicyVersion

from ..capture.state import gpc_requested
from ..categories import FIRST_PARTY, PERSISTENT, SESSION, THIRD_PARTY, normalise
from ..conf import conf
from ..models import ConsentRecord

USER_AGENT_LENGTH = 200
PATH_LENGTH = 500
_MINOR_VERSIONS = re.compile(r"(\d+)(?:\.\d+)+")
# PostgreSQL text holds neither NUL nor a lone surrogate, and a URL (%00), a header or JSON
# ("\u0000", "\ud800") can carry both.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def ip_hmac(ip: str) -> str:
    """Return a keyed hash of an IP address: it links one visitor's records but reveals no IP."""
    key = hashlib.sha256(b"iportalis.consent.ip:" + conf.CONSENT_IP_KEY.encode()).digest()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=1024)  # a browser sends the same one with every decision
def shorten_user_agent(user_agent: str) -> str:
    """Keep major versions only (`Chrome/156`, not `Chrome/156.0.8078.73`), at most 200 chars."""
    return storable(_MINOR_VERSIONS.sub(r"\1", user_agent))[:USER_AGENT_LENGTH]


def clean_path(path: str) -> str:
    return storable(path.split("?", 1)[0].split("#", 1)[0][:PATH_LENGTH]) or "/"


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def storable(text: str) -> str:
    """Return the text with each character PostgreSQL cannot store replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def append_record(
    request: HttpRequest,
    *,
    consent_id: uuid.UUID,
    event: str,
    surface: str,
    choices: Mapping[str, bool],
    policy: PolicyVersion,
    path: str,
) -> ConsentRecord:
    """Write one decision: one INSERT, no lock, no shared row updated, one round trip.

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
        gpc=gpc_requested(request),
        policy_version=policy,
        policy_sha256=policy.content_sha256,
        language=(get_language() or "")[:10],
        path=clean_path(path),
        ip_hmac=ip_hmac(request.META.get("REMOTE_ADDR", "")),
        # META, not request.headers: building that mapping costs more than this whole record.
        user_agent=shorten_user_agent(request.META.get("HTTP_USER_AGENT", "")),
    )
    record.created_at = timezone.now()
    _insert(record)
    return record


def _insert(record: ConsentRecord) -> None:
    """Insert the record in one prepared statement, and give it its ID."""
    attnames, prepare, execute = _statements()
    # The values as they are: psycopg2 adapts each of these field types (UUID, aware datetime,
    # bool, int, str) exactly as the fields' own get_db_prep_save would, at a tenth of the cost.
    params = [getattr(record, name) for name in attnames]
    with connection.cursor() as cursor:
        # Prepared once per connection, so PostgreSQL plans it once rather than for each record:
        # that was a third of what the statement cost the server. PREPARE outlives a rollback.
        raw = connection.connection
        if getattr(connection, "_consent_append_prepared_on", None) is not raw:
            cursor.execute(prepare)
            connection._consent_append_prepared_on = raw  # type: ignore[attr-defined]
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
