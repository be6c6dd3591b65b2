"""The README's production commands: collectstatic, then gunicorn with the production settings."""

import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent

# The gunicorn process reads what migrations committed to the test database (the seed policy),
# so this runs with the non-transactional tests, before any transactional test empties tables.
pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def production_site(tmp_path):
    db = connection.settings_dict
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "iportalis.settings.production",
        "SECRET_KEY": "production-test-key-that-is-long-and-random-enough-4b1f2c3d5e",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}:{db['PORT']}/{db['NAME']}"
        ),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "iportalis.wsgi", "--bind", f"127.0.0.1:{port}"]
    with log.open("wb") as log_file:
        server = subprocess.Popen(command, cwd=BASE_DIR, env=env, stderr=log_file)
        wait_for_port(port, server, log)
        yield f"http://127.0.0.1:{port}"
        server.terminate()
        server.wait(timeout=10)


def wait_for_port(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start: {log.read_text()}")
            time.sleep(0.1)


def test_gunicorn_serves_the_policy_and_hashed_compressed_static_files(production_site):
    status, headers, body = get(f"{production_site}/cookie-policy/")
    html = body.decode()

    assert status == 200
    assert "Version 1" in html
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"

    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html)
    assert stylesheet, "the page links the stylesheet by its hashed name"
    status, headers, _ = get(f"{production_site}{stylesheet[1]}", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
