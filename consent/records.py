"""Appending consent records: one row per decision, linked into its hash chain."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping

from django.db import transaction
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


def ip_hmac(ip: str) -> str:
    """Return a keyed hash of an IP address: it links one visitor's records but reveals no IP."""
    key = hashlib.sha256(b"iportalis.consent.ip:" + conf.CONSENT_IP_KEY.encode()).digest()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


def shorten_user_agent(user_agent: str) -> str:
    """Keep major versions only (`Chrome/156`, not `Chrome/156.0.8078.73`), at most 200 chars."""
    return _MINOR_VERSIONS.sub(r"\1", user_agent)[:USER_AGENT_LENGTH]


def clean_path(path: str) -> str:
    return path.split("?", 1)[0].split("#", 1)[0][:PATH_LENGTH] or "/"


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
    with transaction.atomic():
        # Only this chain's head is locked: writers on the other chains go on in parallel.
        head = _lock_head(record.chain)
        record.seq = head.seq + 1
        record.prev_hash = head.hash
        record.created_at = timezone.now()
        record.hash = integrity.record_hash([getattr(record, f) for f in integrity.HASHED_FIELDS])
        record.save(force_insert=True)
        ChainHead.objects.filter(chain=record.chain).update(seq=record.seq, hash=record.hash)
    return record


def _lock_head(chain: int) -> ChainHead:
    """Lock a chain's head row, creating it for the chain's first record."""
    try:
        return ChainHead.objects.select_for_update().get(chain=chain)
    except ChainHead.DoesNotExist:
        ChainHead.objects.bulk_create(
            [ChainHead(chain=chain, seq=0, hash=integrity.GENESIS)], ignore_conflicts=True
        )
        return ChainHead.objects.select_for_update().get(chain=chain)
