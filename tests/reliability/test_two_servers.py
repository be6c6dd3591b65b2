"""Two gunicorn instances on different ports sharing PostgreSQL and Redis: a policy published or a
registry change made through one is enforced by the other within a second; consents written
through both keep the log verifiable; every worker of every server runs an integrator thread,
one batch integrates at a time, and when a server dies the others carry on.

Each server keeps the registry and the newest policy numbers in memory per worker, and compares
their version in Redis twice a second (common/snapshots.py). The delays measured here
run from the admin's response (the change is committed) until every answer of the other server
enforces it; they are printed under "figures".
"""

from __future__ import annotations

import datetime
import http.client
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from django.db import connection

from .servers import Server, Visitor, start
from .signedlog import verify_log, wait_for_holder, wait_integrated, watch_lock

# Every test reads or writes the database through the servers; marking them all keeps them
# together when pytest-django puts database tests first, so the servers start once.
pytestmark = pytest.mark.django_db

REDIS_DB = 13
WORKERS = 2
POLL_SECONDS = 0.05
WITHIN_SECONDS = 1.0
# Poll at least this long after the change, so that every worker of the other server has had
# its turn, and give up on a change never enforced after GIVE_UP_SECONDS.
WATCH_SECONDS = 1.5
GIVE_UP_SECONDS = 5.0

ANALYTICS_COOKIE = "_pk_id.1.d3m0"  # first-party and persistent, set by /demo/cookies/
UNREGISTERED_COOKIE = "demo_unregistered"  # refused while the registry does not know it
FIRST_PARTY_ONLY = {"first-party": True, "session": True, "persistent": True}


@dataclass(frozen=True)
class Servers:
    a: Server
    b: Server
    env: dict[str, str]


@pytest.fixture(scope="module")
def servers(env_for):
    env = env_for(redis_db=REDIS_DB)
    with ExitStack() as stack:
        a = stack.enter_context(start(env, workers=WORKERS))
        b = stack.enter_context(start(env, workers=WORKERS))
        yield Servers(a, b, env)
    for server in (a, b):
        assert not server.errors(), f"{server.url}: {server.errors()}\n{server.log_tail()}"


@pytest.fixture
def admin_on_a(servers, superuser):
    admin = Visitor(user_agent="reliability-admin/1")
    admin.log_in(servers.a.url, *superuser)
    return admin


@dataclass(frozen=True)
class Watch:
    """What the other server answered after a change: (seconds since the change, enforced?)."""

    answers: list[tuple[float, bool]]

    @property
    def last_stale(self) -> float | None:
        return max((t for t, enforced in self.answers if not enforced), default=None)

    @property
    def first_enforced(self) -> float | None:
        return next((t for t, enforced in self.answers if enforced), None)

    @property
    def enforced_from(self) -> float | None:
        """Return when the first answer came of those that all enforce the change."""
        stale = self.last_stale
        return next(
            (t for t, enforced in self.answers if enforced and (stale is None or t > stale)), None
        )

    def report(self, figures, what: str) -> None:
        figures(f"{what}: enforced by the other server after", seconds(self.enforced_from))
        figures(f"{what}: first answer enforcing it after", seconds(self.first_enforced))
        figures(f"{what}: last answer not enforcing it after", seconds(self.last_stale))
        figures(f"{what}: answers watched", len(self.answers))


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value * 1000:.0f} ms"


def watch(enforced: Callable[[], bool], since: float) -> Watch:
    """Ask `enforced()` every POLL_SECONDS until WATCH_SECONDS after `since` have passed and the
    last five answers enforce the change, or until GIVE_UP_SECONDS."""
    answers: list[tuple[float, bool]] = []
    while True:
        answer = enforced()
        elapsed = time.monotonic() - since
        answers.append((elapsed, answer))
        settled = elapsed >= WATCH_SECONDS and all(ok for _, ok in answers[-5:])
        if settled or elapsed >= GIVE_UP_SECONDS:
            return Watch(answers)
        time.sleep(POLL_SECONDS)


def warm(site: str, visitor: Visitor, path: str = "/api/consent/", times: int = 10) -> None:
    """Send the visitor's requests to the server, so that its workers hold the snapshots in
    memory before the change (whichever worker accepts first serves each; ten reach both)."""
    for _ in range(times):
        assert visitor.get(f"{site}{path}").status == 200


def keeps(response, name: str) -> bool:
    cookie = response.set_cookies.get(name)
    return cookie is not None and not cookie.deletes


def test_a_policy_published_through_one_server_is_enforced_by_the_other(
    servers, admin_on_a, figures
):
    a, b = servers.a.url, servers.b.url
    visitor = Visitor()
    assert visitor.decide(b, "accept_all").status == 201
    assert keeps(visitor.get(f"{b}/demo/cookies/"), ANALYTICS_COOKIE)
    warm(b, visitor)
    assert not visitor.consent(b)["needs_decision"]

    # The admin's way: a draft marked material, then the confirmation page, then publishing.
    add = f"{a}/admin/policy/policyversion/add/"
    assert admin_on_a.get(add).status == 200
    created = admin_on_a.post(
        add,
        {
            "language": "en",
            "title": "Cookie Policy",
            "effective_date": datetime.date.today().isoformat(),
            "material": "on",
            "summary": "We now embed a new service.",
            "body": "# Cookie Policy\n\nWe now embed a new service.\n\n[[cookie-table]]\n",
            "_continue": "Save and continue editing",
        },
    )
    assert created.status == 302, created.text[:2000]
    draft = re.fullmatch(r"/admin/policy/policyversion/(\d+)/change/", created.location)
    assert draft, created.location
    publish = f"{a}/admin/policy/policyversion/{draft[1]}/publish/"
    assert "Yes, publish" in admin_on_a.get(publish).text
    published = admin_on_a.post(publish, {})
    since = time.monotonic()
    assert published.status == 302, published.text[:2000]

    result = watch(lambda: visitor.consent(b)["needs_decision"], since)

    result.report(figures, "material policy")
    figures("material policy: publishing took", seconds(published.seconds))
    assert result.enforced_from is not None, result.answers
    assert result.enforced_from < WITHIN_SECONDS, result.answers
    # The rest of "asked again": the banner, and the analytics cookie refused until then.
    assert 'id="consent-banner"' in visitor.get(f"{b}/").text
    assert not keeps(visitor.get(f"{b}/demo/cookies/"), ANALYTICS_COOKIE)


def test_a_registry_change_made_through_one_server_is_enforced_by_the_other(
    servers, admin_on_a, figures
):
    from cookie_consent.models import CookieGroup

    a, b = servers.a.url, servers.b.url
    visitor = Visitor()
    assert visitor.decide(b, "custom", FIRST_PARTY_ONLY).status == 201
    # A name the registry does not know is refused, whatever the visitor allowed.
    assert not keeps(visitor.get(f"{b}/demo/cookies/"), UNREGISTERED_COOKIE)
    warm(b, visitor, "/demo/cookies/")

    first_party = CookieGroup.objects.get(varname="first-party")
    add = f"{a}/admin/consent/registeredcookie/add/"
    assert admin_on_a.get(add).status == 200
    registered = admin_on_a.post(
        add,
        {
            "name": UNREGISTERED_COOKIE,
            "cookiegroup": str(first_party.pk),
            "service": "",
            "description": "Shows what happens to a cookie once it is classified.",
            "duration": "Session",
            "path": "/",
            "domain": "",
            "_save": "Save",
        },
    )
    since = time.monotonic()
    assert registered.status == 302, registered.text[:2000]

    result = watch(lambda: keeps(visitor.get(f"{b}/demo/cookies/"), UNREGISTERED_COOKIE), since)

    result.report(figures, "registry change")
    figures("registry change: saving took", seconds(registered.seconds))
    assert result.enforced_from is not None, result.answers
    assert result.enforced_from < WITHIN_SECONDS, result.answers
    assert UNREGISTERED_COOKIE in visitor.cookies  # classified first-party, and consented


VISITORS = 200
THREADS = 8
DECIDES_TWICE = 3  # one visitor in three decides again, through the other server


def test_consents_written_through_both_servers_keep_the_log_verifiable(servers, figures):
    from consent.models import ConsentRecord

    sites = (servers.a.url, servers.b.url)

    def visit(n: int) -> tuple[str, list[int]]:
        """One visitor's decisions, alternating between the servers; return their consent ID and
        the records the servers acknowledged."""
        visitor = Visitor()
        first = visitor.decide(sites[n % 2], "accept_all" if n % 2 else "reject_all")
        answers = [first]
        if n % DECIDES_TWICE == 0:
            answers.append(visitor.decide(sites[(n + 1) % 2], "custom", FIRST_PARTY_ONLY))
        for answer in answers:
            assert answer.status == 201, (answer.status, answer.text[:500])
        consent_ids = {answer.json()["consent_id"] for answer in answers}
        assert len(consent_ids) == 1, "a second decision keeps the visitor's consent ID"
        return consent_ids.pop(), [answer.json()["record"] for answer in answers]

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        visits = dict(pool.map(visit, range(VISITORS)))
    elapsed = time.monotonic() - started

    acknowledged = sorted(record for records in visits.values() for record in records)
    stored = ConsentRecord.objects.filter(consent_id__in=visits).values_list("id", "consent_id")
    assert sorted(record for record, _ in stored) == acknowledged
    assert all(record in visits[str(consent_id)] for record, consent_id in stored)

    assert wait_integrated(acknowledged) == []
    verified = verify_log(servers.env)
    assert verified.startswith("OK"), verified

    figures("servers", f"2 gunicorn × {WORKERS} sync workers, one PostgreSQL, one Redis")
    figures("visitors", VISITORS)
    figures("decisions acknowledged (each stored exactly once)", len(acknowledged))
    figures("decisions per second (both servers, 8 clients)", f"{len(acknowledged) / elapsed:.0f}")
    figures("verify_consents", verified)


WATCH_LOCK_SECONDS = 6
TAKE_OVER_SECONDS = 10  # "within seconds": a batch a second, whoever runs it


@dataclass
class Writer:
    """Decisions posted one after another through the given servers in turn, until stopped:
    the records each acknowledged, by server."""

    sites: list[str]
    acknowledged: dict[str, list[int]]
    stop: threading.Event
    refused: int = 0  # by a server being killed

    def run(self) -> None:
        visitor = Visitor()
        n = 0
        while not self.stop.is_set():
            site = self.sites[n % len(self.sites)]
            n += 1
            try:
                answer = visitor.decide(site, "accept_all" if n % 2 else "reject_all")
            except (OSError, http.client.HTTPException):
                self.refused += 1
                continue
            if answer.status == 201:
                self.acknowledged.setdefault(site, []).append(answer.json()["record"])


def write(sites: list[str]) -> tuple[Writer, threading.Thread]:
    writer = Writer(list(sites), {}, threading.Event())
    thread = threading.Thread(target=writer.run)
    thread.start()
    return writer, thread


def test_one_integrator_at_a_time_and_another_takes_over_when_a_server_dies(
    servers, database_url, figures
):
    from consent.log.models import LogLeaf

    database_port = int(connection.settings_dict["PORT"] or 5432)
    with start(servers.env, workers=WORKERS) as c:
        everyone = {"a": servers.a, "b": servers.b, "c": c}
        writer, thread = write([s.url for s in everyone.values()])
        try:
            watched = watch_lock(database_url, WATCH_LOCK_SECONDS)
            ports = {name: s.database_ports(database_port) for name, s in everyone.items()}
            # Kill c while one of its workers holds the lock, if that is seen within seconds.
            killed_holding = wait_for_holder(database_url, ports["c"], 10)
            c.kill()
            killed_at = time.monotonic()
        finally:
            writer.stop.set()
            thread.join()
        before_kill = [record for records in writer.acknowledged.values() for record in records]

        # a and b alone now: what they acknowledge must still be integrated, by one of them.
        writer, thread = write([servers.a.url, servers.b.url])
        time.sleep(2)
        writer.stop.set()
        thread.join()
        after_kill = [record for records in writer.acknowledged.values() for record in records]
        assert after_kill
        missing = wait_integrated(after_kill, TAKE_OVER_SECONDS)
        integrated_after = time.monotonic() - killed_at
        assert missing == [], f"{len(missing)} records written after the kill not integrated"
        # Nothing c acknowledged before it died is lost either.
        assert wait_integrated(before_kill, TAKE_OVER_SECONDS) == []

    holders = {
        name: sum(1 for _at, held in watched.samples for _pid, port in held if port in ports[name])
        for name in everyone
    }
    assert watched.most_at_once == 1, "two integrators held the lock at once"
    assert sum(1 for count in holders.values() if count) >= 2, holders
    leaves = LogLeaf.objects.count()
    assert LogLeaf.objects.filter(index__lt=leaves).count() == leaves  # 0 to size - 1, no gap
    failures = [line for s in everyone.values() for line in s.errors()]
    assert not [line for line in failures if "Traceback" not in line], failures  # no 5xx
    verified = verify_log(servers.env)
    assert verified.startswith("OK"), verified

    samples = len(watched.samples)
    figures("integrator threads", f"3 servers x {WORKERS} workers, one each")
    figures("lock samples", f"{samples:,} in {WATCH_LOCK_SECONDS} s")
    figures("most holders of the integrator's lock at once", watched.most_at_once)
    figures("samples with the lock held, by server", holders)
    figures(
        "c killed (SIGKILL, master and workers)",
        "just after one of its workers was seen holding the lock"
        if killed_holding
        else "not seen holding the lock in 10 s: killed between batches",
    )
    figures(
        "records acknowledged before / after the kill", f"{len(before_kill)} / {len(after_kill)}"
    )
    figures(
        "all integrated by a and b",
        f"{integrated_after:.2f} s after the kill (2 s of writes included)",
    )
    figures("verify_consents", verified)
