"""Appending consent records: one row per decision, linked into its hash chain."""

from __future__ import annotations

import functools
import hashlib
import hmac
import random
import re
import uuid
from collections.abc import Mapping
from typing import NamedTuple

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language

from policy.models import PolicyVersion

from . import integrity
from .categories import FIRST_PARTY, PERSISTENT, SESSION, THIRD_PARTY, normalise
from .conf import conf
from .models import ChainHead, ConsentRecord
from .state import gpc_requested

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


MAX_ATTEMPTS = 20


class _Head(NamedTuple):
    """Where a chain ends: its last record's seq and hash (0 and the genesis when empty)."""

    chain: int
    seq: int
    hash: str


# The heads this process last wrote, one per writer that has written: a writer takes one for its
# write and puts the new head back. Lists pop and append atomically, so threads never share one.
_free_heads: list[_Head] = []


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
    """Append one decision to the log, linked to the end of a hash chain.

    The record goes to a chain whose end this process remembers from its last write, in one
    statement that moves the chain's head on only if it is still where it was remembered: no lock,
    no transaction of our own, one round trip. When the head has moved (another process appended
    to that chain, or nothing is remembered yet), the record goes nowhere, and the writer reads the
    head of a chain picked at random and tries there.
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
    try:
        head: _Head | None = _free_heads.pop()
    except IndexError:  # this is the process's first write, or other threads hold its heads
        head = None
    for _attempt in range(MAX_ATTEMPTS):
        if head is None:
            head = _read_head(random.randrange(integrity.CHAINS))
        record.chain, record.seq, record.prev_hash = head.chain, head.seq + 1, head.hash
        # Taken after the head was read: a chain's records are in time order too.
        record.created_at = timezone.now()
        record.hash = integrity.record_hash([getattr(record, f) for f in integrity.HASHED_FIELDS])
        if _insert_after(record):
            # Remembered even inside a transaction that may yet roll back: if it does, the next
            # write finds the head elsewhere and moves on.
            _free_heads.append(_Head(record.chain, record.seq, record.hash))
            record._state.adding = False
            return record
        head = None
    raise RuntimeError(
        f"No chain took the record in {MAX_ATTEMPTS} attempts: more writers than the "
        f"{integrity.CHAINS} chains are competing for them."
    )


def _read_head(chain: int) -> _Head:
    head = ChainHead.objects.filter(chain=chain).values_list("seq", "hash").first()
    if head is None:
        ChainHead.objects.bulk_create(
            [ChainHead(chain=chain, seq=0, hash=integrity.GENESIS)], ignore_conflicts=True
        )
        return _read_head(chain)
    return _Head(chain, *head)


def _insert_after(record: ConsentRecord) -> bool:
    """Insert the record and move its chain's head to it, if the head is still the record's
    predecessor (`seq - 1`, `prev_hash`).

    A concurrent writer of the same chain waits for the head's row lock, then finds the head
    moved: exactly one record follows each link, and the (chain, seq) constraint stands behind it.
    """
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
        row = cursor.fetchone()
    if row is None:
        return False
    record.pk = row[0]
    return True


@functools.cache
def _statements() -> tuple[list[str], str, str]:
    """Return the record's attribute names in column order, and the SQL that prepares and runs
    the append, whose parameters are those columns."""
    fields = [f for f in ConsentRecord._meta.concrete_fields if f.name != "id"]
    param = {f.attname: f"${n}" for n, f in enumerate(fields, 1)}
    prepare = f"""
        PREPARE {APPEND} AS
        WITH head AS (
            UPDATE {ChainHead._meta.db_table} SET seq = {param["seq"]}, hash = {param["hash"]}
            WHERE chain = {param["chain"]} AND seq = {param["seq"]} - 1
                AND hash = {param["prev_hash"]}
            RETURNING chain
        )
        INSERT INTO {ConsentRecord._meta.db_table} ({", ".join(f.column for f in fields)})
        SELECT {", ".join(param.values())} FROM head
        RETURNING id
    """
    execute = f"EXECUTE {APPEND} ({', '.join(['%s'] * len(fields))})"
    return list(param), prepare, execute


APPEND = "consent_append_record"
