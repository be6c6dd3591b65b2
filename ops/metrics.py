"""The site's Prometheus metrics, and what /metrics exposes.

The counters and the histogram are defined here and counted where things happen (a decision
recorded, a request over its limit, a 503, an unknown cookie, the consent middleware's time).
Under gunicorn every worker writes them to files in PROMETHEUS_MULTIPROC_DIR (prometheus-client's
multiprocess mode, which gunicorn.conf.py sets up), and a scrape adds up every worker's; without
that variable they live in this process alone (`./dev run`, the tests).

The log's figures (integration lag, the latest checkpoint's size and age) are the same for every
process: `LogCollector` reads them from the database at scrape time, with two indexed queries.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

DECISIONS = Counter(
    "iportalis_consent_decisions",
    "Consent records written, by event and surface.",
    ["event", "surface"],
)
RATE_LIMITED = Counter(
    "iportalis_rate_limited",
    "Requests over a client address's limit (decisions and cosignatures answered 429; GPC "
    "signals not recorded), by limit.",
    ["limit"],
)
DATABASE_UNAVAILABLE = Counter(
    "iportalis_database_unavailable",
    "Requests answered 503 because the database could not be reached.",
)
UNKNOWN_COOKIES = Counter(
    "iportalis_unknown_cookie_sightings",
    "Cookie names the registry does not know, sent by a browser or set by the site, counted "
    "once per response.",
)
MIDDLEWARE_SECONDS = Histogram(
    "iportalis_consent_middleware_seconds",
    "Time the consent middleware spends on a request, the view excluded.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1),
)


class LogCollector(Collector):
    """The signed log as it stands: read from the database at scrape time, not per process."""

    def collect(self) -> Iterator[Metric]:
        from consent.log import store
        from consent.log.integration import oldest_pending

        try:
            head = store.latest()
            pending = oldest_pending(head)
        except DatabaseError:
            logger.warning("/metrics could not read the consent log", exc_info=True)
            return
        now = timezone.now()
        lag = GaugeMetricFamily(
            "iportalis_consent_log_lag_seconds",
            "Age of the oldest consent record not yet in the signed log; 0 when none waits.",
        )
        lag.add_metric([], (now - pending).total_seconds() if pending else 0.0)
        yield lag
        if head is None:
            return
        size = GaugeMetricFamily(
            "iportalis_consent_log_checkpoint_size", "Entries in the latest signed checkpoint."
        )
        size.add_metric([], head.size)
        yield size
        age = GaugeMetricFamily(
            "iportalis_consent_log_checkpoint_age_seconds",
            "Seconds since the latest checkpoint was signed (one is signed only when entries "
            "arrive).",
        )
        age.add_metric([], (now - head.created_at).total_seconds())
        yield age


class Scrape(Collector):
    """What one scrape exposes: every worker's counters, or this process's, and the log's."""

    def collect(self) -> Iterator[Metric]:
        if os.environ.get(MULTIPROC_DIR):
            yield from MultiProcessCollector(None).collect()  # type: ignore[no-untyped-call]
        else:
            yield from REGISTRY.collect()
        yield from LogCollector().collect()


def exposition() -> bytes:
    """Return the metrics in Prometheus's text format."""
    return generate_latest(Scrape())
