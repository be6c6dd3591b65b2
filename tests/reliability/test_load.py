"""20,000 consent decisions from 50 concurrent clients against production gunicorn.

Every 2xx must name its own record, no answer may be a 5xx, every record must get its leaf in
the signed log soon after the load (each worker integrates in a background thread, one batch at
a time under the advisory lock), and the log must verify afterwards. Throughput is reported next
to /baseline/ (a bare Django view that inserts one row, through the same server, middleware and
CSRF check), measured in the same run in alternating rounds so that both meet the same machine;
so is the merge delay, read from the database: from each record's created_at to the created_at
of the first checkpoint that holds it. Prometheus's view of it is scraped from /metrics
throughout: every scrape answers, and the decisions counter, added up over the workers
(prometheus-client's multiprocess mode, as gunicorn.conf.py sets it up), grows by exactly the
decisions made.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import pytest
from django.db import connection

from consent.models import ConsentRecord
from consent.roles import as_owner

from . import load
from .servers import scrape, start
from .signedlog import (
    CATCH_UP_SECONDS,
    delay_figures,
    merge_delays,
    verify_log,
    wait_integrated,
    watch_horizon,
)
from .urls import BASELINE_TABLE

pytestmark = pytest.mark.django_db

REDIS_DB = 12
DECISIONS = 20_000
CLIENTS = 50
ROUNDS = 10  # short alternating rounds: both meet the same moments of a shared, noisy machine
WORKERS = 2 * (os.cpu_count() or 1) + 1  # gunicorn.conf.py's default
SCRAPE_EVERY_SECONDS = 1.0
DECIDED = "iportalis_consent_decisions_total"


class Scraper(threading.Thread):
    """Scrape /metrics every SCRAPE_EVERY_SECONDS, as Prometheus would, until stopped."""

    def __init__(self, site: str) -> None:
        super().__init__(daemon=True)
        self.site = site
        self.scrapes: list[tuple[float, dict[str, float]]] = []
        self.failures: list[Exception] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.monotonic()
            try:
                sample = scrape(self.site)
                self.scrapes.append((time.monotonic() - started, sample))
            except Exception as error:  # the test expects none
                self.failures.append(error)
            self.stopping.wait(SCRAPE_EVERY_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        self.join()


@pytest.fixture(scope="module")
def server(env_for, django_db_blocker):
    # As the owner, as a migration would: the runtime role may create nothing.
    with django_db_blocker.unblock(), as_owner(), connection.cursor() as cursor:
        cursor.execute(BASELINE_TABLE)
    env = env_for(redis_db=REDIS_DB)
    with start(env, workers=WORKERS) as server:
        server.env = env
        yield server
    assert not server.errors(), server.log_tail()


def run_rounds(server, consent, baseline, round_ratios):
    """Alternate rounds of baseline inserts and consent decisions, adding up their results."""
    for _round in range(ROUNDS):
        rates = []
        for results, path, total in (
            (baseline, "/baseline/", DECISIONS // ROUNDS // 2),
            (consent, "/api/consent/", DECISIONS // ROUNDS),
        ):
            done = load.run(server.url, path, total=total, clients=CLIENTS)
            results.answers += done.answers
            results.errors += done.errors
            results.seconds += done.seconds
            rates.append(done.per_second)
        round_ratios.append(rates[1] / rates[0])


def test_every_acknowledged_decision_has_one_record_in_the_log_and_the_log_verifies(
    server, database_url, figures
):
    load.run(server.url, "/baseline/", total=1000, clients=CLIENTS)  # warm every worker
    load.run(server.url, "/api/consent/", total=1000, clients=CLIENTS)
    before = ConsentRecord.objects.count()

    consent, baseline = load.Results(), load.Results()
    round_ratios = []
    decided_before = scrape(server.url)[DECIDED]
    scraper = Scraper(server.url)
    scraper.start()
    with watch_horizon(database_url) as horizon:
        run_rounds(server, consent, baseline, round_ratios)
    scraper.stop()
    metrics = scrape(server.url)

    assert consent.errors == [] and baseline.errors == []
    assert consent.statuses == {201: DECISIONS}, consent.statuses
    assert baseline.statuses == {201: DECISIONS // 2}, baseline.statuses
    acknowledged = consent.records()
    assert len(set(acknowledged)) == DECISIONS
    assert ConsentRecord.objects.filter(pk__in=acknowledged).count() == DECISIONS
    assert ConsentRecord.objects.count() - before == DECISIONS
    loaded_at = time.monotonic()
    assert wait_integrated(acknowledged) == [], f"not integrated within {CATCH_UP_SECONDS} s"
    caught_up = time.monotonic() - loaded_at
    delays = merge_delays(acknowledged)
    assert len(delays) == DECISIONS
    verified = verify_log(server.env)
    assert verified.startswith("OK")
    # Prometheus's view: every scrape answered, and the counter of all workers is exact.
    assert scraper.failures == []
    assert len(scraper.scrapes) >= 5
    decided = [sample[DECIDED] for _took, sample in scraper.scrapes]
    assert decided == sorted(decided)  # a counter of the whole server never goes back
    assert metrics[DECIDED] - decided_before == DECISIONS
    assert metrics["iportalis_consent_middleware_seconds_count"] >= DECISIONS
    assert metrics["iportalis_consent_log_checkpoint_size"] >= DECISIONS

    ratio = consent.per_second / baseline.per_second
    figures("decisions sent", f"{len(consent.answers):,} from {CLIENTS} clients")
    figures("answers", dict(consent.statuses))
    figures("records found", f"{DECISIONS:,} (one per 2xx)")
    figures("5xx", sum(n for status, n in consent.statuses.items() if status >= 500))
    figures("merge delay (record created to first checkpoint holding it)", delay_figures(delays))
    figures("every record integrated after the load ended", f"within {caught_up:.2f} s")
    own = connection.settings_dict["NAME"]
    figures("write transactions holding back the xmin horizon", horizon.summary(own))
    figures("verify_consents", verified)
    scrape_ms = statistics.median(took for took, _sample in scraper.scrapes) * 1000
    figures(
        "/metrics during the load",
        f"{len(scraper.scrapes)} scrapes, all 200, median {scrape_ms:.0f} ms; "
        f"decisions counted {metrics[DECIDED] - decided_before:,.0f} of {DECISIONS:,}",
    )
    middleware = (
        metrics["iportalis_consent_middleware_seconds_sum"]
        / metrics["iportalis_consent_middleware_seconds_count"]
    )
    figures(
        "consent middleware's own time per request (its histogram)", f"{middleware * 1e6:.0f} µs"
    )
    figures("gunicorn workers", WORKERS)
    figures("consent API", f"{consent.per_second:.0f} decisions/s")
    figures("baseline view", f"{baseline.per_second:.0f} inserts/s")
    figures("consent / baseline", f"{ratio:.2f}")
    low, high, median = min(round_ratios), max(round_ratios), statistics.median(round_ratios)
    figures("consent / baseline, each round", f"{low:.2f}–{high:.2f}, median {median:.2f}")
