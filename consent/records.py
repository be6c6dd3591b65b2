"""Appending consent records: one row per decision, linked into its hash chain."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
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
    """Append one decision to the log, linked to the end of its visitor's chain."""
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
        user_agent=shorten_user_agent(request.headers.get("User-Agent", "")),
        chain=integrity.chain_for(consent_id),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Only this chain's head is locked: writers on the other chains go on in parallel.
        record.seq, record.prev_hash = _advance_head(cursor, record.chain)
        record.created_at = timezone.now()
        record.hash = integrity.record_hash([getattr(record, f) for f in integrity.HASHED_FIELDS])
        # The record and the head's new hash in one statement: one round trip fewer per decision.
        fields = [f for f in ConsentRecord._meta.concrete_fields if f.name != "id"]
        cursor.execute(
            f"""
            WITH record AS (
                INSERT INTO {ConsentRecord._meta.db_table} ({", ".join(f.column for f in fields)})
                VALUES ({", ".join(["%s"] * len(fields))}) RETURNING id
            )
            UPDATE {ChainHead._meta.db_table} SET hash = %s WHERE chain = %s
            RETURNING (SELECT id FROM record)
            """,
            [f.get_db_prep_save(f.pre_save(record, True), connection) for f in fields]
            + [record.hash, record.chain],
        )
        (record.pk,) = cursor.fetchone()
    record._state.adding = False
    return record


def _advance_head(cursor: CursorWrapper, chain: int) -> tuple[int, str]:
    """Lock a chain's head row and move it on by one, creating it for the chain's first record;
    return the new record's seq and the hash it links to."""
    advance = (
        f"UPDATE {ChainHead._meta.db_table} SET seq = seq + 1 WHERE chain = %s RETURNING seq, hash"
    )
    cursor.execute(advance, [chain])
    row = cursor.fetchone()
    if row is None:
        ChainHead.objects.bulk_create(
            [ChainHead(chain=chain, seq=0, hash=integrity.GENESIS)], ignore_conflicts=True
        )
        cursor.execute(advance, [chain])
        row = cursor.fetchone()
    seq, prev_hash = row
    return int(seq), str(prev_hash)
