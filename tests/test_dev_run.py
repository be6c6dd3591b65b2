"""`./dev run`'s server and its embedded PostgreSQL: closing the terminal stops both.

The server runs from a copy of the project in a temporary folder, so that its embedded database
(in the copy's .pgdata/) is a private one the test may stop, whatever else is running.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
PROJECT = [
    *("iportalis", "common", "policy", "consent", "staff", "ops"),
    *("templates", "static", "locale"),
]
START_SECONDS = 120  # initdb on a loaded machine
STOP_SECONDS = 30


def copy_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT:
        shutil.copytree(REPO / name, target / name, ignore=ignore)
    shutil.copy(REPO / "manage.py", target / "manage.py")
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postmaster(pgdata: Path) -> psutil.Process | None:
    """Return the embedded server's postmaster, from its postmaster.pid, if it is running."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
    except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
        return None
    return process if process.is_running() and process.status() != psutil.STATUS_ZOMBIE else None


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def serving(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_closing_the_terminal_stops_runserver_and_its_embedded_database(tmp_path):
    project = copy_project(tmp_path / "project")
    pgdata = project / ".pgdata"
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_REPLICA_URL")
    }
    env.update(DJANGO_SETTINGS_MODULE="iportalis.settings.dev", CONSENT_LOG_INTEGRATOR="false")
    log = (tmp_path / "runserver.log").open("wb")

    def output() -> str:
        return (tmp_path / "runserver.log").read_text(errors="replace")

    # A session of its own, as a terminal gives the command it runs: closing the terminal sends
    # SIGHUP to that whole process group (the reloader and the server it restarts).
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    database = None
    try:
        assert wait_for(lambda: serving(port), START_SECONDS), (
            tmp_path / "runserver.log"
        ).read_text()
        database = postmaster(pgdata)
        assert database is not None, "the embedded database runs in the copy's .pgdata/"

        os.killpg(server.pid, signal.SIGHUP)

        server.wait(STOP_SECONDS)
        assert wait_for(lambda: not database.is_running(), STOP_SECONDS), (
            "the embedded PostgreSQL outlived the closed terminal: "
            f"{(pgdata / '.handle_pids.json').read_text()}\n{output()}"
        )
        assert postmaster(pgdata) is None
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        if database is not None and database.is_running():
            database.terminate()
            psutil.wait_procs([database], timeout=10)
        log.close()
