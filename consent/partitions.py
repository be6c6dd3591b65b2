"""The consent records' monthly partitions (migration 0011, docs/operations.md "Partitions").

The records' table is partitioned by RANGE of `created_at`, one partition a calendar month in
UTC, named `consent_consentrecord_pYYYYMM`, plus `consent_consentrecord_default`, which takes
any row whose month has no partition yet, so a write never fails for want of one.

`ensure` makes the months ahead (`CONSENT_PARTITIONS_AHEAD`) and a partition for every month
the DEFAULT partition holds rows of, moving those rows into it. Only the owner role may create
or drop partitions: `manage.py consent_partitions` and `migrate` call it inside
`consent.roles.as_owner`. Each new partition gets the same guards as the ones 0011 made: the
row trigger comes from the partitioned table, the TRUNCATE trigger is made on it, and the
runtime role gets nothing on it (it reads and appends through the partitioned table alone).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from psycopg2 import sql

from .conf import conf
from .roles import RUNTIME_ROLE

TABLE = "consent_consentrecord"
DEFAULT = f"{TABLE}_default"
# Taken while partitions are made, so that two runs never make the same one.
LOCK = 0x70617274  # "part"
# The most months ahead CONSENT_PARTITIONS_AHEAD may ask for (consent.E010).
MAX_AHEAD = 24
_BOUNDS = re.compile(r"FOR VALUES FROM \('([^']+)'\) TO \('([^']+)'\)")


@dataclass(frozen=True)
class Partition:
    """One partition of the records: its table and the month it holds (None: the DEFAULT)."""

    name: str
    start: datetime | None
    end: datetime | None


def valid_ahead(value: object) -> bool:
    """Return whether `value` is a usable CONSENT_PARTITIONS_AHEAD."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_AHEAD


def month_of(moment: datetime) -> date:
    """Return the first day of the UTC month `moment` falls in."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def start_of(month: date) -> datetime:
    """Return the first moment of `month` (a first day of a month) in UTC."""
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def add_months(month: date, count: int) -> date:
    """Return the first day of the month `count` months after `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def name_of(month: date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def is_partitioned(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Return whether the records' table is partitioned (migration 0011 has run)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def partitions(using: str = DEFAULT_DB_ALIAS) -> list[Partition]:
    """Return the records' partitions, oldest month first, the DEFAULT last."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass(%s)
            """,
            [TABLE],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound in rows:
        match = _BOUNDS.fullmatch(bound)
        if match is None:
            found.append(Partition(name, None, None))
        else:
            start, end = (datetime.fromisoformat(value) for value in match.groups())
            found.append(Partition(name, start, end))
    return sorted(found, key=lambda p: (p.start is None, p.start or timezone.now()))


def outside(using: str = DEFAULT_DB_ALIAS) -> tuple[str, list[datetime]]:
    """Return a condition on `created_at` that holds for the rows no month's partition takes,
    the DEFAULT's, and its parameters. A query of the partitioned table with it reads the
    DEFAULT partition alone (PostgreSQL prunes the others), and the runtime role may run it."""
    ranges: list[tuple[datetime, datetime]] = []
    for p in partitions(using):
        if p.start is None or p.end is None:
            continue
        if ranges and p.start <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], p.end))
        else:
            ranges.append((p.start, p.end))
    if not ranges:
        return "true", []
    terms = ["created_at < %s"]
    params = [ranges[0][0]]
    for (_start, end), (following, _end) in zip(ranges, ranges[1:], strict=False):
        terms.append("(created_at >= %s AND created_at < %s)")
        params += [end, following]
    terms.append("created_at >= %s")
    params.append(ranges[-1][1])
    return " OR ".join(terms), params


def default_months(using: str = DEFAULT_DB_ALIAS) -> list[date]:
    """Return the months the DEFAULT partition holds rows of."""
    condition, params = outside(using)
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC')::date"
            f" FROM {TABLE} WHERE {condition} ORDER BY 1",
            params,
        )
        return [month for (month,) in cursor.fetchall()]


def wanted(ahead: int, now: datetime | None = None) -> list[date]:
    """Return the months that should have a partition: this one and `ahead` more."""
    this = month_of(now or timezone.now())
    return [add_months(this, n) for n in range(ahead + 1)]


def ensure(ahead: int, now: datetime | None = None, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Make the partitions of this month, the `ahead` months after it, and every month the
    DEFAULT partition holds rows of (moving those rows in); return the names made.

    Idempotent. Run it as the owner role (consent.roles.as_owner): only the owner may."""
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        have = {p.start for p in partitions(using) if p.start is not None}
        months = sorted(set(wanted(ahead, now)) | set(default_months(using)))
        made = []
        for month in months:
            if start_of(month) not in have:
                create(month, using=using)
                made.append(name_of(month))
        return made


def create(month: date, using: str = DEFAULT_DB_ALIAS) -> None:
    """Make the partition of `month`, taking its rows out of the DEFAULT partition.

    PostgreSQL refuses a new partition while the DEFAULT holds rows of its range, so the
    partition is made as a table of its own, those rows are moved into it, and it is attached;
    the DEFAULT is locked meanwhile, so a write of that month waits rather than fails."""
    start, end = start_of(month), start_of(add_months(month, 1))
    name = name_of(month)
    ident = {
        "table": sql.Identifier(TABLE),
        "default": sql.Identifier(DEFAULT),
        "part": sql.Identifier(name),
        "trigger": sql.Identifier(f"{name}_no_truncate"),
        "runtime": sql.Identifier(RUNTIME_ROLE),
    }
    statements = [
        "LOCK TABLE {default} IN EXCLUSIVE MODE",
        "CREATE TABLE {part} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
        "INSERT INTO {part} SELECT * FROM {default} WHERE created_at >= %(start)s"
        " AND created_at < %(end)s",
        # The owner may DELETE: the append-only trigger lets it through for the owner alone.
        "DELETE FROM {default} WHERE created_at >= %(start)s AND created_at < %(end)s",
        "ALTER TABLE {table} ATTACH PARTITION {part} FOR VALUES FROM (%(start)s) TO (%(end)s)",
        "CREATE TRIGGER {trigger} BEFORE TRUNCATE ON {part}"
        " FOR EACH STATEMENT EXECUTE FUNCTION consent_record_append_only()",
        "REVOKE ALL ON {part} FROM {runtime}",
    ]
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        for statement in statements:
            cursor.execute(sql.SQL(statement).format(**ident), {"start": start, "end": end})


def drop(partition: Partition, using: str = DEFAULT_DB_ALIAS) -> None:
    """Detach and drop a month's partition (the retention purge; the owner role only)."""
    with connections[using].cursor() as cursor:
        name = sql.Identifier(partition.name)
        cursor.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(sql.Identifier(TABLE), name)
        )
        cursor.execute(sql.SQL("DROP TABLE {}").format(name))


def default_rows(using: str = DEFAULT_DB_ALIAS) -> int:
    """Return how many rows the DEFAULT partition holds."""
    condition, params = outside(using)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE {condition}", params)
        (count,) = cursor.fetchone()
    return int(count)


def missing(ahead: int, now: datetime | None = None, using: str = DEFAULT_DB_ALIAS) -> list[date]:
    """Return the months of `wanted` that have no partition."""
    have = {p.start for p in partitions(using)}
    return [month for month in wanted(ahead, now) if start_of(month) not in have]


@register(Tags.database)
def check_partitions(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """With `check --database default`: warn when a month ahead has no partition, or rows went
    to the DEFAULT partition for want of one (`manage.py consent_partitions` fixes both)."""
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    ahead = conf.CONSENT_PARTITIONS_AHEAD
    if not valid_ahead(ahead) or not is_partitioned():
        return []  # consent.E010; or `migrate` has not made the partitions yet
    hint = (
        "Run `manage.py consent_partitions` as the owner role, daily from cron "
        "(docs/operations.md, 'Partitions')."
    )
    warnings: list[CheckMessage] = []
    if months := missing(ahead):
        warnings.append(
            CheckWarning(
                "These months have no partition of the consent records yet: "
                + ", ".join(f"{month:%Y-%m}" for month in months)
                + f" (CONSENT_PARTITIONS_AHEAD is {ahead}); their records would go to the "
                "DEFAULT partition.",
                hint=hint,
                id="consent.W011",
            )
        )
    if rows := default_rows():
        warnings.append(
            CheckWarning(
                f"The DEFAULT partition of the consent records holds {rows} records, written "
                "in months that had no partition; a purge removes them row by row, not by "
                "dropping their month.",
                hint=hint,
                id="consent.W011",
            )
        )
    return warnings
