"""The app's runtime role cannot erase what it writes (issue 14, consent.roles).

A session of the runtime role tries, with raw SQL, every way we know to remove or change consent
records and the log: each is refused. The privileges the migrations grant are checked table by
table, so a table added later without the right grants fails here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from django.core.management import call_command
from django.db import ProgrammingError, connection, transaction
from django.utils import timezone
from psycopg2 import errors
from psycopg2 import sql as psql

from consent.audit.purge import PurgeError, oldest_allowed, purge
from consent.roles import (
    CREDENTIALS,
    RUNTIME_ROLE,
    as_owner,
    check_runtime_role,
    may_erase,
    owns_records,
)
from tests.conftest import RUNTIME_LOGIN
from tests.factories import make_record

pytestmark = pytest.mark.django_db

RECORDS = "consent_consentrecord"
EVIDENCE = (
    RECORDS,
    "consent_logleaf",
    "consent_logtile",
    "consent_logcheckpoint",
    "consent_cosignature",
)
READ_ONLY = ("consent_consentpurge", "django_migrations")
# A column of each table to UPDATE.
COLUMN = {
    RECORDS: "third_party",
    "consent_logleaf": "hash",
    "consent_logtile": "root",
    "consent_logcheckpoint": "note",
    "consent_cosignature": "line",
    "consent_consentpurge": "count",
}
TEST_LOGIN = "iportalis_test_runtime"


def attempts(table: str) -> list[str]:
    """What a runtime session might try, to make `table` forget."""
    return [
        f"DELETE FROM {table}",
        f"UPDATE {table} SET {COLUMN[table]} = {COLUMN[table]}",
        f"TRUNCATE {table}",
        f"TRUNCATE {table} CASCADE",
        f"ALTER TABLE {table} DISABLE TRIGGER USER",
        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
        f"ALTER TABLE {table} OWNER TO {RUNTIME_ROLE}",
        f"DROP TABLE {table}",
        f"DROP TABLE {table} CASCADE",
        f"ALTER TABLE {table} RENAME TO {table}_gone",
        f"CREATE RULE forget AS ON INSERT TO {table} DO INSTEAD NOTHING",
        # The escape hatches of the first version, which any session could set.
        f"SET LOCAL consent.purge = 'on'; DELETE FROM {table}",
        f"SET LOCAL consent.allow_truncate = 'on'; TRUNCATE {table}",
        # What only a superuser may do: switch every trigger off for the session.
        f"SET LOCAL session_replication_role = replica; DELETE FROM {table}",
    ]


@pytest.fixture(scope="module")
def runtime_login(django_db_setup, django_db_blocker) -> dict[str, Any]:
    """Return how to log in as a member of the runtime role that owns nothing: the app's own
    runtime login when the settings name an owner, otherwise one made for the test run."""
    if RUNTIME_LOGIN:
        return dict(RUNTIME_LOGIN)
    password = secrets.token_urlsafe(16)
    with django_db_blocker.unblock(), as_owner(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [TEST_LOGIN])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(
            psql.SQL(verb + " ROLE {} LOGIN PASSWORD {}")
            .format(psql.Identifier(TEST_LOGIN), psql.Literal(password))
            .as_string(cursor.connection)
        )
        cursor.execute(f"GRANT {RUNTIME_ROLE} TO {TEST_LOGIN}")
    return {
        **{k: connection.settings_dict.get(k) for k in ("HOST", "PORT")},
        "USER": TEST_LOGIN,
        "PASSWORD": password,
    }


@pytest.fixture
def runtime(runtime_login) -> Iterator[Any]:
    """Yield a cursor of a new session logged in as the runtime role."""
    session = psycopg2.connect(
        dbname=connection.settings_dict["NAME"],
        user=runtime_login["USER"],
        password=runtime_login.get("PASSWORD") or None,
        host=runtime_login.get("HOST") or None,
        port=runtime_login.get("PORT") or None,
    )
    try:
        with session.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # never wait on the test's own locks
            session.commit()
            yield cursor
    finally:
        session.close()


def refuse_all(runtime: Any, statements: list[str]) -> int:
    """Run each statement in the runtime session, each refused for want of privilege or by the
    append-only rules; return how many were."""
    for statement in statements:
        with pytest.raises(psycopg2.Error) as raised:
            runtime.execute(statement)
        runtime.connection.rollback()
        assert isinstance(raised.value, errors.InsufficientPrivilege | errors.RestrictViolation), (
            f"{statement}: {raised.value}"
        )
    return len(statements)


@pytest.mark.parametrize("table", EVIDENCE + ("consent_consentpurge",))
def test_the_runtime_role_cannot_remove_or_change_records_or_the_log(runtime, table, figures):
    refused = refuse_all(runtime, attempts(table))
    runtime.execute(f"SELECT count(*) FROM {table}")  # it may still read
    figures("statements refused", refused)


def test_the_runtime_role_owns_nothing_and_may_create_nothing(runtime):
    runtime.execute("SELECT current_user, session_user")
    ((user, login),) = runtime.fetchall()
    assert user == login  # a real login, not a role taken and given back
    runtime.execute(
        "SELECT count(*) FROM pg_class WHERE pg_has_role(current_user, relowner, 'USAGE')"
        " AND relnamespace = current_schema()::regnamespace"
    )
    assert runtime.fetchone() == (0,)
    runtime.execute(f"SELECT tableowner FROM pg_tables WHERE tablename = '{RECORDS}'")
    (owner,) = runtime.fetchone()
    for attempt in (
        "CREATE TABLE consent_shadow (id int)",
        "CREATE FUNCTION consent_forget() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        f'SET ROLE "{owner}"',
    ):
        with pytest.raises(psycopg2.Error):
            runtime.execute(attempt)
        runtime.connection.rollback()


PARTITIONS = (f"{RECORDS}_default", f"{RECORDS}_p{timezone.now():%Y%m}")


def partition_attempts(partition: str) -> list[str]:
    """What a runtime session might try on one partition of the records, beside the table."""
    row = f"SELECT * FROM {RECORDS} LIMIT 1"
    return [
        f"SELECT count(*) FROM {partition}",
        f"INSERT INTO {partition} {row}",
        f"DELETE FROM {partition}",
        f"UPDATE {partition} SET third_party = third_party",
        f"TRUNCATE {partition}",
        f"ALTER TABLE {partition} DISABLE TRIGGER USER",
        f"ALTER TABLE {partition} DISABLE TRIGGER ALL",
        f"ALTER TABLE {RECORDS} DETACH PARTITION {partition}",
        f"ALTER TABLE {partition} NO INHERIT {RECORDS}",
        f"DROP TABLE {partition}",
        f"ALTER TABLE {partition} RENAME TO {partition}_gone",
        f"ALTER TABLE {partition} OWNER TO {RUNTIME_ROLE}",
        f"CREATE RULE forget AS ON INSERT TO {partition} DO INSTEAD NOTHING",
        # Through the table: an ID or a transaction ID of the runtime's choosing (a duplicate
        # ID, a record the integrator would never take).
        f"INSERT INTO {RECORDS} SELECT * FROM {RECORDS} LIMIT 1",
        f"INSERT INTO {RECORDS} (id, {INSERTED}) SELECT id + 1000000, {INSERTED} FROM ({row}) r",
        f"INSERT INTO {RECORDS} (txid, {INSERTED}) SELECT '1', {INSERTED} FROM ({row}) r",
    ]


# The columns the runtime role may INSERT: all but `id` and `txid`, which their defaults give.
INSERTED = (
    "consent_id, created_at, event, surface, necessary, first_party, third_party, session, "
    "persistent, gpc, policy_version_id, policy_sha256, language, path, ip_hmac, user_agent"
)


@pytest.mark.parametrize("partition", PARTITIONS, ids=("default", "this month"))
def test_the_runtime_role_can_do_nothing_to_a_partition(migrated_db, runtime, partition, figures):
    """It reads and appends through the partitioned table only; a partition is the owner's."""
    make_record()  # committed, for the statements to copy
    refused = refuse_all(runtime, partition_attempts(partition))
    # What the app does, it still may: append without naming the ID, and read.
    runtime.execute(
        f"INSERT INTO {RECORDS} ({INSERTED}) SELECT {INSERTED} FROM {RECORDS} LIMIT 1"
        " RETURNING id, txid = pg_current_xact_id()"
    )
    assert runtime.fetchone()[1] is True
    runtime.connection.rollback()
    figures("statements refused", refused)


def test_the_runtime_role_may_read_and_append_the_evidence_and_nothing_more():
    """The grants, table by table: any table a later migration adds without them fails here."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname,
                   array_agg(p.privilege_type ORDER BY p.privilege_type)
            FROM pg_class c
            CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                    'REFERENCES', 'TRIGGER']) AS p(privilege_type)
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
              AND has_table_privilege(%s, c.oid, p.privilege_type)
            GROUP BY c.relname
            """,
            [RUNTIME_ROLE],
        )
        granted = dict(cursor.fetchall())
        cursor.execute(
            "SELECT relname, relispartition FROM pg_class WHERE relkind IN ('r', 'p')"
            " AND relnamespace = current_schema()::regnamespace"
        )
        tables = dict(cursor.fetchall())
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped AND has_column_privilege(%s, attrelid, attnum, 'INSERT')",
            [RECORDS, RUNTIME_ROLE],
        )
        inserted = {name for (name,) in cursor.fetchall()}

    assert inserted == set(INSERTED.split(", "))  # every column but id and txid
    assert {name for name, partition in tables.items() if partition} >= set(PARTITIONS)
    for table, partition in tables.items():
        privileges = set(granted.get(table, ()))
        if partition:  # a partition of the records: only through the table
            assert privileges == set(), table
        elif table == RECORDS:  # INSERT by column
            assert privileges == {"SELECT"}, table
        elif table in EVIDENCE:
            assert privileges == {"SELECT", "INSERT"}, table
        elif table in READ_ONLY:
            assert privileges == {"SELECT"}, table
        else:
            assert privileges == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table


def test_the_app_runs_as_the_runtime_role():
    make_record()

    assert not may_erase() and not owns_records()
    assert check_runtime_role(databases=["default"]) == []
    with (
        pytest.raises(ProgrammingError, match="permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {RECORDS}")
    with pytest.raises(PurgeError, match="owner role"):
        purge(oldest_allowed())


def test_as_the_owner_the_check_warns_that_the_app_could_erase():
    with as_owner():
        assert owns_records()
        (warning,) = check_runtime_role(databases=["default"])
    assert warning.id == "consent.W010"
    assert check_runtime_role(databases=None) == []  # only with --database


def test_flush_empties_the_tables_as_the_owner(migrated_db):
    make_record()

    call_command("flush", "--noinput", verbosity=0)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {RECORDS}")
        assert cursor.fetchone() == (0,)


def test_the_check_passes_on_a_database_not_migrated_yet(django_db_blocker):
    """`migrate` runs the database checks before it creates the records' table."""
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA empty_schema")
        cursor.execute("SET LOCAL search_path = empty_schema")
        assert check_runtime_role(databases=["default"]) == []
        assert not may_erase()


@pytest.mark.django_db(transaction=True)
def test_as_owner_logs_in_as_the_owner_and_back_as_in_production(runtime_login, settings):
    """Production's way: the app logs in as the runtime role, and `migrate`, `flush` and the
    purge log in again as DATABASE_OWNER for their block."""
    suite = connection.settings_dict
    options = {k: v for k, v in suite.get("OPTIONS", {}).items() if k != "assume_role"}
    settings.DATABASE_OWNER = {key: suite.get(key) for key in CREDENTIALS}
    connection.close()
    connection.settings_dict = {**suite, **runtime_login, "OPTIONS": options}

    def who() -> tuple[str, bool]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            (user,) = cursor.fetchone()
        return user, owns_records()

    try:
        assert who() == (runtime_login["USER"], False)
        with as_owner():
            user, owner = who()
        assert owner and user != runtime_login["USER"]
        assert who() == (runtime_login["USER"], False)
    finally:
        connection.close()
        connection.settings_dict = suite


def test_a_partition_refuses_truncate_even_to_a_role_granted_it(migrated_db, runtime):
    """The second guard: should anyone grant the runtime TRUNCATE on a partition, the
    partition's own trigger still lets only the owner empty it."""
    make_record()  # committed, in this month's partition
    partition = PARTITIONS[1]
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(f"GRANT SELECT, TRUNCATE ON {partition} TO {RUNTIME_ROLE}")
    try:
        with pytest.raises(errors.RestrictViolation, match="append-only: TRUNCATE refused"):
            runtime.execute(f"TRUNCATE {partition}")
        runtime.connection.rollback()
        runtime.execute(f"SELECT count(*) FROM {partition}")
        assert runtime.fetchone() == (1,)
        (warning,) = check_runtime_role(databases=["default"])  # and the check says so
        assert warning.id == "consent.W010"
    finally:
        with as_owner(), connection.cursor() as cursor:
            cursor.execute(f"REVOKE ALL ON {partition} FROM {RUNTIME_ROLE}")
