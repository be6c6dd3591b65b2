"""The consent records' monthly partitions (consent.partitions, migration 0011): a write never
fails for want of a partition, `consent_partitions` makes the months ahead and moves what went
to the DEFAULT partition, the checks say when either is due, and an existing database migrates
into the partitioned table with its records and their leaves intact."""

from __future__ import annotations

import io
from datetime import timedelta

import psycopg2
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from consent.log.integration import integrate
from consent.log.models import LogLeaf
from consent.partitions import (
    DEFAULT,
    add_months,
    check_partitions,
    month_of,
    name_of,
    partitions,
    start_of,
)
from consent.roles import RUNTIME_ROLE
from tests.consent.test_verify import verify
from tests.factories import make_record
from tests.helpers import manage_on
from tests.test_migrations import empty_database  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

THIS_MONTH = month_of(timezone.now())
# Beyond the three months migration 0011 makes ahead.
LATER = start_of(add_months(THIS_MONTH, 8)) + timedelta(days=3, hours=5)


def made_at(monkeypatch, moment):
    monkeypatch.setattr(timezone, "now", lambda: moment)
    record = make_record()
    monkeypatch.undo()
    return record


def partition_of(record) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM consent_consentrecord WHERE id = %s", [record.pk]
        )
        return cursor.fetchone()[0]


def warnings() -> list[str]:
    return [message.msg for message in check_partitions(databases=["default"])]


def run(**options) -> str:
    out = io.StringIO()
    with connection.cursor() as cursor:  # DDL refuses to run over the test's pending checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("consent_partitions", stdout=out, **options)
    return out.getvalue()


def test_the_migration_made_this_month_and_three_ahead_and_a_default():
    months = [p.start for p in partitions() if p.start is not None]

    assert months[-4:] == [start_of(add_months(THIS_MONTH, n)) for n in range(4)]
    assert partitions()[-1].name == DEFAULT and partitions()[-1].start is None
    assert warnings() == []


def test_a_write_in_a_month_without_a_partition_lands_in_the_default(monkeypatch):
    record = made_at(monkeypatch, LATER)

    assert partition_of(record) == DEFAULT
    (warning,) = warnings()
    assert "The DEFAULT partition of the consent records holds 1 records" in warning


def test_consent_partitions_moves_it_out_and_it_still_verifies(monkeypatch):
    record = made_at(monkeypatch, LATER)
    integrate()
    leaf = LogLeaf.objects.get(source="record", ref=record.pk)

    output = run()

    assert f"Made the partition {name_of(month_of(LATER))}." in output
    assert partition_of(record) == name_of(month_of(LATER))
    assert warnings() == []
    assert LogLeaf.objects.get(source="record", ref=record.pk).hash == leaf.hash
    verified, passed = verify()
    assert passed, verified
    assert "OK" in verified
    assert "Every partition up to 3 months ahead exists." in run()  # idempotent


def test_a_record_moved_before_it_is_in_the_log_still_goes_in(monkeypatch):
    """Moved out of DEFAULT before the integrator took it, the record is not lost to the log.
    (That the move keeps each row's transaction ID, the integrator's cursor, the migration's
    test shows: here the test's one transaction wrote and moved it.)"""
    record = made_at(monkeypatch, LATER)

    run()
    integrate()

    assert partition_of(record) == name_of(month_of(LATER))
    assert LogLeaf.objects.filter(source="record", ref=record.pk).exists()
    verified, passed = verify()
    assert passed, verified


def test_a_missing_month_ahead_is_reported_and_made(settings):
    settings.CONSENT_PARTITIONS_AHEAD = 6

    (warning,) = warnings()
    assert f"{add_months(THIS_MONTH, 6):%Y-%m}" in warning

    output = run()

    assert output.count("Made the partition") == 3
    assert warnings() == []
    newest = name_of(add_months(THIS_MONTH, 6))
    assert partitions()[-2].name == newest
    # Guarded as the migration's own: nothing for the runtime, TRUNCATE refused but to the owner.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(%s, %s, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'),"
            " (SELECT array_agg(tgname::text ORDER BY tgname) FROM pg_trigger"
            "  WHERE tgrelid = %s::regclass AND NOT tgisinternal)",
            [RUNTIME_ROLE, newest, newest],
        )
        assert cursor.fetchone() == (False, [f"{newest}_no_truncate", "consent_record_append_only"])


def test_a_bad_ahead_is_refused():
    with pytest.raises(CommandError, match="--ahead must be a number of months from 1 to 24"):
        call_command("consent_partitions", ahead=0)


def test_migrating_a_database_with_records_into_partitions(empty_database):  # noqa: F811
    """A database at 0010 with records a year old and more, all in the log, migrates to 0011:
    the same rows (IDs and transaction IDs too), each in its month's partition, the same
    leaves, verify_consents passing, and the next ID after the last."""

    def manage(*args: str) -> str:
        result = manage_on(empty_database, *args)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    manage("migrate", "consent", "0010_runtime_role", "--noinput")
    fresh = psycopg2.connect(empty_database)
    fresh.autocommit = True
    rows = "SELECT *, txid::text FROM consent_consentrecord ORDER BY id"
    with fresh.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO consent_consentrecord (consent_id, created_at, event, surface, necessary,
                first_party, third_party, session, persistent, gpc, policy_version_id,
                policy_sha256, language, path, ip_hmac, user_agent)
            SELECT gen_random_uuid(), now() - n * interval '3 days', 'accept_all', 'banner',
                true, n % 2 = 0, n % 3 = 0, true, n % 5 = 0, false, p.id, p.content_sha256,
                'en', '/', repeat('0', 64), 'ua ' || n
            FROM generate_series(0, 199) n,
                (SELECT id, content_sha256 FROM policy_policyversion
                 WHERE status = 'published' ORDER BY id LIMIT 1) p
            """
        )
        manage("integrate_log", "--once")
        cursor.execute(rows)
        before = cursor.fetchall()
        cursor.execute("SELECT index, hash, source, ref FROM consent_logleaf ORDER BY index")
        leaves = cursor.fetchall()

        manage("migrate", "--noinput")

        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'consent_consentrecord'")
        assert cursor.fetchone() == ("p",)
        cursor.execute(rows)
        assert cursor.fetchall() == before
        cursor.execute("SELECT index, hash, source, ref FROM consent_logleaf ORDER BY index")
        assert cursor.fetchall() == leaves
        cursor.execute(
            "SELECT DISTINCT tableoid::regclass::text,"
            " to_char(created_at AT TIME ZONE 'UTC', 'YYYYMM') FROM consent_consentrecord"
        )
        placed = cursor.fetchall()
        assert len(placed) >= 20  # 600 days: about twenty months
        assert all(table == f"consent_consentrecord_p{month}" for table, month in placed)
        cursor.execute(
            "INSERT INTO consent_consentrecord (consent_id, created_at, event, surface, necessary,"
            " first_party, third_party, session, persistent, gpc, policy_version_id,"
            " policy_sha256, language, path, ip_hmac, user_agent)"
            " SELECT consent_id, now(), event, surface, necessary, first_party, third_party,"
            " session, persistent, gpc, policy_version_id, policy_sha256, language, path,"
            " ip_hmac, user_agent FROM consent_consentrecord ORDER BY id LIMIT 1 RETURNING id"
        )
        assert cursor.fetchone()[0] == before[-1][0] + 1
    fresh.close()
    output = manage("verify_consents")
    assert "OK: " in output and f"{len(before)} records match their leaves" in output
