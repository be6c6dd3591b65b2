"""The README's production commands: collectstatic, then gunicorn with the production settings."""

import http.client
import re
import socket
import subprocess
import sys
import time
import urllib.request
from base64 import b32decode
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import psycopg2
import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django_otp.oath import TOTP

from consent.log.note import generate_signer

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
def production_site(tmp_path, production_env):
    env = production_env
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = tmp_path / "gunicorn.log"
    # The rest of gunicorn's settings come from gunicorn.conf.py, which it reads from BASE_DIR.
    command = [
        *(sys.executable, "-m", "gunicorn", "iportalis.wsgi"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "2"),
    ]
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
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
    assert "Version 2" in html
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"

    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html)
    assert stylesheet, "the page links the stylesheet by its hashed name"
    status, headers, _ = get(f"{production_site}{stylesheet[1]}", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]


def test_gunicorn_takes_its_settings_from_gunicorn_conf_py(production_site, tmp_path):
    get(f"{production_site}/cookie-policy/")

    # Access lines, with the time taken, are gunicorn.conf.py's: gunicorn's default logs none.
    log = tmp_path / "gunicorn.log"
    access_line = re.compile(r'"GET /cookie-policy/ HTTP/1\.1" 200 \d+ .* \d+ms$', re.MULTILINE)
    deadline = time.monotonic() + 5  # the worker writes the line after sending the response
    while not access_line.search(log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert access_line.search(log.read_text()), log.read_text()


def fetch(site: str, path: str, headers: dict[str, str], method: str = "GET", body: str = ""):
    """Return the status, headers and body of one request, following no redirect."""
    url = urlsplit(site)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, response.msg, response.read().decode()
    finally:
        conn.close()


def set_cookies(headers) -> dict[str, Morsel]:
    cookies: dict[str, Morsel] = {}
    for header in headers.get_all("Set-Cookie", []):
        jar = SimpleCookie()
        jar.load(header)
        cookies.update(jar)
    return cookies


def committed(sql: str, params: list) -> list[tuple]:
    """Run SQL in a transaction of its own, which gunicorn sees (the test's own it does not)."""
    db = connection.settings_dict
    conn = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


@pytest.fixture
def production_env(tmp_path):
    db = connection.settings_dict
    return {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "iportalis.settings.production",
        "SECRET_KEY": "production-test-key-that-is-long-and-random-enough-4b1f2c3d5e",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}:{db['PORT']}/{db['NAME']}"
        ),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
        "STATIC_ROOT": str(tmp_path / "static"),
        "CONSENT_LOG_SIGNING_KEY": str(generate_signer("127.0.0.1/consent-log")),
        # The test database is shared with the tests that follow: nothing may commit to it.
        "CONSENT_LOG_INTEGRATOR": "false",
    }


@pytest.fixture
def staff_user(production_env):
    """Return a staff user's name, password, the secret of the authenticator enrolled for it
    with `manage.py enrol_totp` as the README says, and a list for the sessions it opens, all
    of which are removed afterwards. The user is an auditor."""
    [(user_id,)] = committed(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
        " is_staff, is_active, date_joined)"
        " VALUES (%s, false, 'production-staff', '', '', '', true, true, now()) RETURNING id",
        [make_password("production-test-password")],
    )
    committed(
        "INSERT INTO auth_user_groups (user_id, group_id)"
        " SELECT %s, id FROM auth_group WHERE name = 'Auditors'",
        [user_id],
    )
    sessions: list[str] = []
    try:
        enrolled = subprocess.run(
            [sys.executable, "manage.py", "enrol_totp", "production-staff", "--no-qr"],
            cwd=BASE_DIR,
            env=production_env,
            check=True,
            capture_output=True,
            text=True,
        )
        uri = re.search(r"otpauth://totp/\S+", enrolled.stdout)[0]
        secret = parse_qs(urlsplit(uri).query)["secret"][0]
        yield ("production-staff", "production-test-password", secret, sessions)
    finally:
        committed("DELETE FROM django_session WHERE session_key = ANY(%s)", [sessions])
        committed("DELETE FROM otp_totp_totpdevice WHERE user_id = %s", [user_id])
        committed("DELETE FROM auth_user_groups WHERE user_id = %s", [user_id])
        committed("DELETE FROM auth_user WHERE id = %s", [user_id])


def totp(secret: str) -> str:
    """Return the code an authenticator app shows for this secret now (RFC 6238)."""
    return f"{TOTP(b32decode(secret)).token():06d}"


def test_production_responses_carry_the_security_headers_and_secure_cookies(
    production_site, staff_user
):
    https = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy adds

    status, headers, _ = fetch(production_site, "/", https)

    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    # X-Frame-Options and Referrer-Policy: see the test above. Frames are refused by CSP too.
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    csrf = set_cookies(headers)["csrftoken"]
    assert (csrf["secure"], csrf["httponly"], csrf["samesite"]) == (True, True, "Lax")
    # Plain HTTP (no proxy said otherwise) gets no HSTS: browsers ignore it there.
    assert "Strict-Transport-Security" not in fetch(production_site, "/", {})[1]

    # A staff member signs in with a code from the authenticator: the session cookie is as
    # well guarded.
    username, password, secret, sessions = staff_user
    fields = {"username": username, "password": password, "next": "/audit/statistics/"}
    status, headers, page = sign_in(production_site, https, fields)
    assert status == 200, "no code: the form again"
    assert "Please enter your OTP token." in page
    assert "sessionid" not in set_cookies(headers)

    status, headers, _ = sign_in(production_site, https, {**fields, "otp_token": totp(secret)})

    assert status == 302, "signed in"
    assert headers["Location"] == "/audit/statistics/"
    session = set_cookies(headers)["sessionid"]
    sessions.append(session.value)
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    signed_in = {**https, "Cookie": f"sessionid={session.value}"}
    assert fetch(production_site, "/audit/statistics/", signed_in)[0] == 200
    assert fetch(production_site, "/admin/", signed_in)[0] == 200


def sign_in(site: str, https: dict[str, str], fields: dict[str, str]):
    """Post the admin's login form as a browser would, with a CSRF token of its own."""
    host = urlsplit(site).netloc
    _, headers, page = fetch(site, "/admin/login/", https)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    return fetch(
        site,
        "/admin/login/",
        {
            **https,
            "Origin": f"https://{host}",
            "Cookie": f"csrftoken={set_cookies(headers)['csrftoken'].value}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
        body=urlencode({**fields, "csrfmiddlewaretoken": token}),
    )
