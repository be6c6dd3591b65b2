"""Production gunicorn instances for the reliability suite, and a browser-like client to drive them.

    env = site_env(database_url=database_url, cache_url=fresh_redis(13), static_root=static_root)
    with start(env, workers=2) as server:
        visitor = Visitor()
        response = visitor.decide(server.url, "accept_all")
        assert response.status == 201 and response.json()["record"]

A server runs `python -m gunicorn iportalis.wsgi` from the repository root, so it takes its
settings from gunicorn.conf.py as in production; only the address and the number of workers are
given here. Rows it must see have to be committed first (see conftest.py).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

import psutil
import redis
from prometheus_client.parser import text_string_to_metric_families

from consent.log.note import generate_signer

BASE_DIR = Path(__file__).resolve().parent.parent.parent
REDIS = "redis://127.0.0.1:6379"
START_SECONDS = 30

# An access line of gunicorn.conf.py's format answering 5xx: `"GET / HTTP/1.1" 500 145 ...`.
SERVER_ERROR = re.compile(r'" 5\d\d (\d+|-) ')

# The log's key for every server of the run (production settings require one).
SIGNING_KEY = str(generate_signer("reliability.localhost/consent-log"))

CSRF_COOKIE = "csrftoken"
CONSENT_API = "/api/consent/"
# A page whose form always carries a CSRF token, so that fetching it sets the csrftoken cookie.
CSRF_PAGE = "/cookie-settings/"


def site_env(
    *, database_url: str, cache_url: str, static_root: str | Path, **extra: str
) -> dict[str, str]:
    """Return the environment of a production server: tests/reliability/settings.py (production
    settings plus /baseline/), plain HTTP on 127.0.0.1, and `extra` on top (`LOG_LEVEL="INFO"`).

    Servers that share a database must share the keys too, as they do here: they sign one log's
    checkpoints, and the secret key signs the consent cookie that both read.
    """
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "tests.reliability.settings",
        "SECRET_KEY": "reliability-secret-key-long-and-random-enough-8c1e4f7a2b9d3e6f",
        "CONSENT_LOG_SIGNING_KEY": SIGNING_KEY,
        "CONSENT_IP_KEY": "reliability-ip-key-3f6b1d8e2a7c9f4b0e5a",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP: no redirect. The Secure cookie flags stay; Visitor sends such cookies anyway.
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(static_root),
        # Every request comes from 127.0.0.1: the rate limit must not be what a test measures.
        "CONSENT_RATE_LIMIT": "1000000/m",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def fresh_redis(db: int) -> str:
    """Empty one Redis database and return its CACHE_URL (use a number no other suite uses)."""
    url = f"{REDIS}/{db}"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.ConnectionError as error:
        raise RuntimeError(f"The reliability suite needs Redis at {REDIS}: {error}") from None
    finally:
        client.close()
    return url


def manage(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `manage.py <args>` with a server's environment; raise with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=dict(env),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise AssertionError(
            f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done


# Servers ------------------------------------------------------------------------------------


@dataclass
class Server:
    """One running gunicorn: `url` without a trailing slash, and `log`, its stdout and stderr."""

    url: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def processes(self) -> list[psutil.Process]:
        """Return the master and its workers, as they are now."""
        master = psutil.Process(self.process.pid)
        return [master, *master.children(recursive=True)]

    def database_ports(self, database_port: int) -> set[int]:
        """Return the local ports of this server's connections to PostgreSQL (at
        `database_port`): what pg_stat_activity calls their client_port."""
        return {
            c.laddr.port
            for process in self.processes()
            for c in process.net_connections(kind="tcp")
            if c.raddr and c.raddr.port == database_port
        }

    def kill(self) -> None:
        """Kill the master and every worker at once (SIGKILL), as a crashing host would: no
        request finishes, no hook runs, and a batch being integrated is cut off."""
        processes = self.processes()
        for process in processes:
            process.kill()
        psutil.wait_procs(processes, timeout=10)
        self.process.wait()

    def errors(self) -> list[str]:
        """Return the log's 5xx access lines and the first line of each traceback logged
        (warnings with exc_info included): for a test that expects none, or to filter."""
        return [
            line
            for line in self.log.read_text(errors="replace").splitlines()
            if SERVER_ERROR.search(line) or line.startswith("Traceback")
        ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def start(
    env: Mapping[str, str],
    *,
    workers: int = 2,
    port: int | None = None,
    log_dir: Path | None = None,
) -> Iterator[Server]:
    """Run a production server until the block ends, then stop it as a process manager would
    (SIGTERM: workers finish their requests and run gunicorn.conf.py's worker_exit).

    Yield once a request has gone through the whole stack (a worker, the middleware, the
    database), or fail with the log's tail after START_SECONDS; other workers may still be
    loading the app then. The log is kept afterwards, in `log_dir` or a temporary directory.
    """
    port = port or free_port()
    log = Path(log_dir or tempfile.mkdtemp(prefix="iportalis-gunicorn-")) / f"gunicorn-{port}.log"
    command = [
        *(sys.executable, "-m", "gunicorn", "iportalis.wsgi"),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=dict(env), stdout=log_file, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", port, log, process)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        stop(server)


def stop(server: Server, timeout: float = 30) -> int:
    """Stop a server gracefully (SIGTERM), killing it if it takes longer than `timeout`; return
    its exit status. Stopping one that has stopped does nothing."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    return server.process.returncode


def _wait_until_serving(server: Server) -> None:
    deadline = time.monotonic() + START_SECONDS
    problem = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            problem = f"exited with status {server.process.returncode}"
            break
        try:
            # Exempt from consent, but it passes the whole middleware, which reads the database.
            status = Visitor(timeout=2).get(f"{server.url}/.well-known/gpc.json").status
        except (OSError, http.client.HTTPException) as error:
            problem = str(error) or type(error).__name__
        else:
            if status == 200:
                return
            problem = f"answered {status}"
        time.sleep(0.1)
    stop(server, timeout=5)
    raise AssertionError(f"gunicorn on port {server.port} {problem}:\n{server.log_tail()}")


def scrape(site: str, timeout: float = 10) -> dict[str, float]:
    """Return what `site`'s /metrics says now (the tests are on loopback, which may read it),
    each metric's samples added up over their labels, by sample name."""
    response = Visitor(timeout=timeout).get(f"{site}/metrics")
    if response.status != 200:
        raise AssertionError(f"GET /metrics: {response.status} {response.text[:200]}")
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


# The client ---------------------------------------------------------------------------------


class SetCookie(NamedTuple):
    """One Set-Cookie header of a response: `attributes` have lower-case names."""

    name: str
    value: str
    attributes: dict[str, str]

    @property
    def deletes(self) -> bool:
        """Return whether the header removes the cookie (how Django's delete_cookie does it)."""
        if "max-age" in self.attributes:
            try:
                return int(self.attributes["max-age"]) <= 0
            except ValueError:
                return False
        try:
            expires = parsedate_to_datetime(self.attributes.get("expires", ""))
        except (TypeError, ValueError):
            return False
        return expires.timestamp() <= time.time()


def parse_set_cookie(header: str) -> SetCookie:
    pair, *rest = header.split(";")
    name, _, value = pair.partition("=")
    attributes = {}
    for attribute in rest:
        key, _, attribute_value = attribute.partition("=")
        attributes[key.strip().lower()] = attribute_value.strip()
    return SetCookie(name.strip(), value.strip().strip('"'), attributes)


@dataclass(frozen=True)
class Response:
    """What a server answered, read in full, and `seconds` it took from sending to the end."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def set_cookies(self) -> dict[str, SetCookie]:
        """Return the cookies this response sets or deletes, by name."""
        headers = self.headers.get_all("Set-Cookie") or []
        return {cookie.name: cookie for cookie in map(parse_set_cookie, headers)}

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Visitor:
    """One browser: its cookies, shared by every server it talks to, as if they stood behind one
    host name and a load balancer.

    It keeps what each response sets and sends it back, Secure cookies included (the servers run
    production settings over plain HTTP). One connection per request, as sync workers close
    each one anyway. Not thread-safe: give each thread its own visitors.
    """

    def __init__(self, *, user_agent: str = "reliability-tests/1", timeout: float = 10) -> None:
        self.cookies: dict[str, str] = {}
        self.user_agent = user_agent
        self.timeout = timeout

    @property
    def csrftoken(self) -> str | None:
        return self.cookies.get(CSRF_COOKIE)

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one request with the visitor's cookies and keep the cookies it sets."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sent = {"User-Agent": self.user_agent, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.monotonic()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            response = Response(
                answer.status, answer.headers, answer.read(), time.monotonic() - started
            )
        finally:
            connection.close()
        for cookie in response.set_cookies.values():
            if cookie.deletes:
                self.cookies.pop(cookie.name, None)
            else:
                self.cookies[cookie.name] = cookie.value
        return response

    def get(self, url: str, **headers: str) -> Response:
        return self.request("GET", url, headers=headers)

    def post(self, url: str, data: Mapping[str, str], **headers: str) -> Response:
        """Post a form as a browser does, with the CSRF token from the visitor's cookie."""
        fields = {"csrfmiddlewaretoken": self.csrftoken or "", **data}
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        return self.request("POST", url, urlencode(fields).encode(), headers)

    def post_json(self, url: str, data: object, **headers: str) -> Response:
        """Post JSON as the banner's script does, with the X-CSRFToken header."""
        sent = {"Content-Type": "application/json", **headers}
        if self.csrftoken:
            sent.setdefault("X-CSRFToken", self.csrftoken)
        return self.request("POST", url, json.dumps(data).encode(), sent)

    def fetch_csrftoken(self, site: str) -> str:
        """Return the visitor's CSRF token, first getting a page that sets it if there is none."""
        if self.csrftoken is None:
            self.get(f"{site}{CSRF_PAGE}")
        if self.csrftoken is None:
            raise AssertionError(f"{site}{CSRF_PAGE} set no {CSRF_COOKIE} cookie")
        return self.csrftoken

    def decide(
        self, site: str, action: str = "accept_all", choices: Mapping[str, bool] | None = None
    ) -> Response:
        """Post a decision to the consent API of `site` (a server's url), getting a CSRF token
        first if needed. 201 answers carry the record's id: `response.json()["record"]`."""
        self.fetch_csrftoken(site)
        decision: dict[str, object] = {"action": action}
        if choices is not None:
            decision["choices"] = dict(choices)
        return self.post_json(f"{site}{CONSENT_API}", decision)

    def consent(self, site: str) -> dict[str, Any]:
        """Return the consent API's view of this visitor (`needs_decision`, `choices`, ...)."""
        response = self.get(f"{site}{CONSENT_API}")
        if response.status != 200:
            raise AssertionError(f"GET {CONSENT_API}: {response.status} {response.text[:200]}")
        state: dict[str, Any] = response.json()
        return state

    def log_in(self, site: str, username: str, password: str) -> None:
        """Sign in to the admin through its login form."""
        login = f"{site}/admin/login/"
        self.get(login)
        response = self.post(login, {"username": username, "password": password, "next": "/admin/"})
        if response.status != 302 or "sessionid" not in self.cookies:
            raise AssertionError(f"Could not sign in as {username}: {response.status}")
