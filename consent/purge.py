"""The retention purge: the one documented way to remove consent records (docs/integrity.md).

It removes the oldest part of each hash chain and leaves a signed checkpoint where it cut, so
the remaining log still verifies, and a deletion by anyone without the integrity key does not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from .conf import conf
from .integrity import checkpoint_signature, integrity_key
from .models import ChainCheckpoint, ConsentRecord
from .verification import snapshot, verify_log


class PurgeError(Exception):
    """The purge was refused and nothing was removed."""


def oldest_allowed(now: datetime | None = None) -> datetime:
    """Return the latest `before` a purge accepts: younger records may prove a consent in force."""
    return (now or timezone.now()) - timedelta(seconds=conf.CONSENT_MAX_AGE)


def purge(before: datetime, *, dry_run: bool = False) -> list[ChainCheckpoint]:
    """Remove the records created before `before` and return the checkpoints left in their place.

    Each chain loses the records before the first one created at or after `before` (a prefix, so
    it stays a chain) and gains a checkpoint with the last removed record's seq and hash. The
    records removed are verified first, in the same snapshot: a purge must not erase the
    evidence of tampering. With `dry_run`, verify and return the checkpoints unsaved.
    """
    if before > oldest_allowed():
        raise PurgeError(
            f"Records created after {oldest_allowed():%Y-%m-%d %H:%M} UTC may still prove a "
            f"consent in force (CONSENT_MAX_AGE is {conf.CONSENT_MAX_AGE} seconds)."
        )
    with snapshot(read_only=False), connection.cursor() as cursor:
        # One purge at a time. Reading (verification, exports) is not held up.
        cursor.execute(f"LOCK TABLE {ChainCheckpoint._meta.db_table} IN EXCLUSIVE MODE")
        report = verify_log(until=before)
        if not report.ok:
            raise PurgeError(f"The records to purge do not verify: {report.first_break}")
        purged_at, key = timezone.now(), integrity_key()
        checkpoints = [
            ChainCheckpoint(
                chain=chain.chain,
                seq=chain.end_seq,
                hash=chain.end_hash,
                purged_before=before,
                purged_at=purged_at,
                records=chain.checked,
                signature=checkpoint_signature(
                    chain.chain,
                    chain.end_seq,
                    chain.end_hash,
                    before,
                    purged_at,
                    chain.checked,
                    key,
                ),
            )
            for chain in report.chains
            if chain.checked
        ]
        if dry_run:
            return checkpoints
        # The append-only trigger lets DELETE through while this is on; it is switched off again
        # straight after, so that it covers these DELETEs only, even inside a caller's transaction.
        cursor.execute("SET LOCAL consent.purge = 'on'")
        for checkpoint in checkpoints:
            cursor.execute(
                f"DELETE FROM {ConsentRecord._meta.db_table}"
                " WHERE chain = %s AND seq <= %s AND created_at < %s",
                [checkpoint.chain, checkpoint.seq, before],
            )
            # The verified records, no more and no fewer; none created on or after `before`,
            # even if the clock once went back.
            if cursor.rowcount != checkpoint.records:
                raise PurgeError(
                    f"Chain {checkpoint.chain}: of its {checkpoint.records} records up to seq "
                    f"{checkpoint.seq}, {checkpoint.records - cursor.rowcount} were created on or "
                    "after that date (the clock went back?); nothing was removed."
                )
        cursor.execute("SET LOCAL consent.purge = 'off'")
        ChainCheckpoint.objects.bulk_create(checkpoints)
    return checkpoints
