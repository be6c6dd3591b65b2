"""The retention purge: the one documented way to remove consent records (docs/integrity.md).

Only the owner role may run it (`manage.py purge_consents` connects as DATABASE_OWNER_URL): the
app's runtime role may not DELETE a record (consent.roles).

It removes the rows of records created before a date, and only of records already in the log:
their leaves stay, so the tree, every checkpoint and every receipt still verify. The purge
itself becomes a row of ConsentPurge and an entry of the log, committing to every record leaf
whose record is gone (their count, and the SHA-256 of their indexes as 8-byte big-endian
numbers, ascending). Verification recomputes both from the leaves: a record removed any other
way shows as removed, not as purged.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from ..conf import conf
from ..log import store
from ..log.entries import RECORD_SQL, leaf_hash_sql
from ..log.integration import LOCK, RECORD, integrate
from ..log.models import LogLeaf
from ..models import ConsentPurge, ConsentRecord
from ..roles import owns_records

_RECORDS = ConsentRecord._meta.db_table
_LEAVES = LogLeaf._meta.db_table

# Every record leaf whose record is gone, in index order.
GONE_SQL = f"""
    SELECT l.index FROM {_LEAVES} l
    WHERE l.source = '{RECORD}'
      AND NOT EXISTS (SELECT FROM {_RECORDS} r WHERE r.id = l.ref)
    ORDER BY l.index
"""
# The integrated records a purge of `before` removes.
_PURGEABLE = f"""
    FROM {_RECORDS} r JOIN {_LEAVES} l ON l.source = '{RECORD}' AND l.ref = r.id
    WHERE r.created_at < %(before)s
"""
_CHANGED = f"""
    SELECT l.index, r.id
    FROM {_RECORDS} r
    JOIN {_LEAVES} l ON l.source = '{RECORD}' AND l.ref = r.id
    JOIN policy_policyversion p ON p.id = r.policy_version_id
    WHERE r.created_at < %(before)s AND l.hash <> {leaf_hash_sql(RECORD_SQL)}
    ORDER BY l.index LIMIT 1
"""


class PurgeError(Exception):
    """The purge was refused and nothing was removed."""


def oldest_allowed(now: datetime | None = None) -> datetime:
    """Return the latest `before` a purge accepts: younger records may prove a consent in force."""
    return (now or timezone.now()) - timedelta(seconds=conf.CONSENT_MAX_AGE)


def gone_digest(indexes: list[int] | None = None) -> tuple[int, str]:
    """Return how many record leaves have lost their record, and the SHA-256 (hex) of their
    indexes; from the database, or from `indexes` (ascending) if given."""
    digest = hashlib.sha256()
    count = 0
    if indexes is None:
        with connection.cursor() as cursor:
            cursor.execute(GONE_SQL)
            while rows := cursor.fetchmany(10_000):
                for (index,) in rows:
                    digest.update(index.to_bytes(8, "big"))
                count += len(rows)
    else:
        for index in indexes:
            digest.update(index.to_bytes(8, "big"))
        count = len(indexes)
    return count, digest.hexdigest()


def purge(before: datetime, *, dry_run: bool = False) -> ConsentPurge:
    """Remove the integrated records created before `before`; return the purge (unsaved with
    `dry_run`, which removes nothing).

    Refused, with nothing removed, if a record to purge no longer matches its leaf or a record
    is already missing that no earlier purge accounts for: a purge must not erase or bless
    the evidence of tampering.
    """
    if before > oldest_allowed():
        raise PurgeError(
            f"Records created after {oldest_allowed():%Y-%m-%d %H:%M} UTC may still prove a "
            f"consent in force (CONSENT_MAX_AGE is {conf.CONSENT_MAX_AGE} seconds)."
        )
    if not owns_records():
        raise PurgeError(
            "The retention purge runs as the owner role: set DATABASE_OWNER_URL (README, "
            "'Database roles'). Nothing was removed."
        )
    with transaction.atomic(), connection.cursor() as cursor:
        # The integrator's lock: no batch adds leaves while the purge counts them.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        head = store.latest()
        last = ConsentPurge.objects.order_by("-id").first()
        expected = (last.purged_total, last.purged_sha256) if last else gone_digest([])
        if gone_digest() != expected:
            raise PurgeError(
                "Records are missing from the database that no purge removed; run "
                "verify_consents. Nothing was removed."
            )
        cursor.execute(_CHANGED, {"before": before})
        changed = cursor.fetchone()
        if changed is not None:
            raise PurgeError(
                f"Record {changed[1]} (leaf {changed[0]}) no longer matches its leaf; run "
                "verify_consents. Nothing was removed."
            )
        cursor.execute(f"SELECT count(*), max(r.id) {_PURGEABLE}", {"before": before})
        count, highest = cursor.fetchone()
        if not count:
            raise PurgeError("No integrated record was created before that time.")
        if not dry_run:
            # Only the tables' owner may DELETE, and the append-only trigger lets it through
            # for the owner alone (consent.roles).
            cursor.execute(
                f"DELETE FROM {_RECORDS} WHERE id IN (SELECT r.id {_PURGEABLE})",
                {"before": before},
            )
            deleted = cursor.rowcount
            if deleted != count:  # cannot happen under the lock; never purge a guess
                raise PurgeError(f"{deleted} records matched instead of {count}.")
            total, digest = gone_digest()
        else:
            total, digest = expected[0] + count, ""
        record = ConsentPurge(
            before=before,
            purged_at=timezone.now(),
            count=count,
            highest_id=max(highest, last.highest_id if last else 0),
            tree_size=head.size if head is not None else 0,
            purged_total=total,
            purged_sha256=digest,
        )
        if dry_run:
            return record
        record.save()
        integrate()  # the purge's own entry goes into the log with it
    return record
