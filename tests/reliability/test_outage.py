"""PostgreSQL goes away in the middle of a load run, and comes back.

The server reaches the database through a proxy the test cuts for OUTAGE_SECONDS: open connections
drop and new ones are refused, as during a restart. Meanwhile consent posts must answer 503 with
Retry-After and a message (the clients then wait and send the same decision again, as the banner
does), pages and the policy must keep rendering, and decisions must be recorded again within
seconds of the database's return, with no restart. The workers' integrator threads fail while
the database is away (logged, retried) and must resume on their own once it returns: every
acknowledged decision must then get its leaf in the signed log, and the log must verify.
/readyz, probed throughout as a load balancer would, must say 503 while the database is away
and 200 again within seconds of its return.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from django.db import connection

from consent.models import ConsentRecord

from . import load
from .proxy import DatabaseProxy
from .servers import Response, Visitor, start
from .signedlog import CATCH_UP_SECONDS, delay_figures, merge_delays, verify_log, wait_integrated

pytestmark = pytest.mark.django_db

REDIS_DB = 14
CLIENTS = 50
DECISIONS = 8_000
OUTAGE_AFTER_SECONDS = 4
OUTAGE_SECONDS = 6
RECOVERY_LIMIT_SECONDS = 10  # "within seconds": far more than it takes, far less than a restart
PROBE_EVERY_SECONDS = 0.1


@pytest.fixture(scope="module")
def proxy(django_db_setup):
    db = connection.settings_dict
    proxy = DatabaseProxy(db["HOST"] or "localhost", int(db["PORT"] or 5432))
    proxy.start()
    yield proxy
    proxy.cut()


@pytest.fixture(scope="module")
def server(env_for, proxy):
    db = connection.settings_dict
    env = env_for(
        redis_db=REDIS_DB,
        DATABASE_URL=f"postgres://{quote(db['USER'] or '')}@127.0.0.1:{proxy.port}/{db['NAME']}",
    )
    with start(env, workers=3) as server:
        server.env = env
        yield server


@dataclass
class Probe:
    """A visitor reading pages and posting a decision every PROBE_EVERY_SECONDS."""

    site: str
    pages: list[tuple[float, str, int]] = field(default_factory=list)
    decisions: list[tuple[float, int]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    readiness: list[tuple[float, int]] = field(default_factory=list)

    def run(self) -> None:
        visitor = Visitor()
        visitor.fetch_csrftoken(self.site)
        while not self.stop.is_set():
            for path in ("/", "/cookie-policy/"):
                self.pages.append((time.monotonic(), path, visitor.get(self.site + path).status))
            answer = visitor.decide(self.site, "reject_all")
            self.decisions.append((time.monotonic(), answer.status))
            time.sleep(PROBE_EVERY_SECONDS)

    def probe_readiness(self) -> None:
        """GET /readyz every PROBE_EVERY_SECONDS, as a load balancer does (no cookies)."""
        while not self.stop.is_set():
            status = Visitor().get(f"{self.site}/readyz").status
            self.readiness.append((time.monotonic(), status))
            time.sleep(PROBE_EVERY_SECONDS)


def test_decisions_wait_out_a_database_outage_and_none_acknowledged_is_lost(server, proxy, figures):
    refusals: list[Response] = []

    def again(response: Response) -> float | None:
        if response.status != 503:
            return None
        refusals.append(response)
        return float(response.headers.get("Retry-After") or 1)

    before = ConsentRecord.objects.count()
    results: list[load.Results] = []
    loader = threading.Thread(
        target=lambda: results.append(
            load.run(server.url, "/api/consent/", total=DECISIONS, clients=CLIENTS, again=again)
        )
    )
    probe = Probe(server.url)
    prober = threading.Thread(target=probe.run)
    readiness_prober = threading.Thread(target=probe.probe_readiness)
    loader.start()
    prober.start()
    readiness_prober.start()

    time.sleep(OUTAGE_AFTER_SECONDS)
    proxy.cut()
    down_at = time.monotonic()
    time.sleep(OUTAGE_SECONDS)
    proxy.start()
    up_at = time.monotonic()
    loader.join()
    probe.stop.set()
    prober.join()
    readiness_prober.join()
    (run,) = results

    assert run.errors == []
    assert set(run.statuses) <= {201, 503}, run.statuses
    assert refusals, "the outage was noticed"
    for refusal in refusals:
        assert refusal.headers["Retry-After"].isdigit()
        assert "try again" in refusal.json()["error"]
        assert "iportalis_consent" not in refusal.set_cookies

    during = [(path, status) for at, path, status in probe.pages if down_at < at < up_at]
    assert during and all(status == 200 for _path, status in during), during
    assert {status for at, status in probe.decisions if down_at + 0.5 < at < up_at} == {503}
    recovered_at = min(at for at, status in probe.decisions if at > up_at and status == 201)
    recovery = recovered_at - up_at
    assert recovery < RECOVERY_LIMIT_SECONDS
    # A probe answered before the cut began may arrive just after it: half a second's grace.
    ready_before = {status for at, status in probe.readiness if at < down_at}
    ready_during = {status for at, status in probe.readiness if down_at + 0.5 < at < up_at}
    assert ready_before == {200}, ready_before
    assert ready_during == {503}, ready_during
    ready_at = min(at for at, status in probe.readiness if at > up_at and status == 200)
    readiness_recovery = ready_at - up_at
    assert readiness_recovery < RECOVERY_LIMIT_SECONDS

    acknowledged = run.records()
    assert len(set(acknowledged)) == len(acknowledged) == DECISIONS
    assert ConsentRecord.objects.filter(pk__in=acknowledged).count() == DECISIONS
    written = ConsentRecord.objects.count() - before
    probe_written = sum(1 for _at, status in probe.decisions if status == 201)
    # Integration resumes with no restart, and nothing acknowledged is missing from the log.
    loaded_at = time.monotonic()
    assert wait_integrated(acknowledged) == [], f"not integrated within {CATCH_UP_SECONDS} s"
    caught_up = time.monotonic() - loaded_at
    delays = merge_delays(acknowledged)
    verified = verify_log(server.env)
    assert verified.startswith("OK")
    assert not [line for line in server.errors() if '" 500 ' in line]

    figures("decisions sent", f"{len(run.answers):,} from {CLIENTS} clients (retries included)")
    figures("answers", dict(run.statuses))
    figures("database away", f"{OUTAGE_SECONDS} s, {OUTAGE_AFTER_SECONDS} s into the run")
    figures("pages during the outage", f"{len(during)}, all 200")
    figures("acknowledged decisions found", f"{DECISIONS:,} of {DECISIONS:,}")
    figures("recorded but not acknowledged", written - DECISIONS - probe_written)
    figures("5xx other than 503", 0)
    figures("recovery after the database returned", f"{recovery:.2f} s")
    probes_during = sum(1 for at, _status in probe.readiness if down_at + 0.5 < at < up_at)
    figures("/readyz while the database was away", f"{probes_during} probes, all 503")
    figures("/readyz 200 again after the database returned", f"{readiness_recovery:.2f} s")
    figures("acknowledged decisions in the signed log", f"{len(delays):,} of {DECISIONS:,}")
    figures("every one integrated after the load ended", f"within {caught_up:.2f} s")
    figures("merge delay, outage included", delay_figures(delays))
    figures("verify_consents", verified)
