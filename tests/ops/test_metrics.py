"""/metrics: who may read it, and that it counts what the site did."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

from consent.log import store
from tests.consent.test_rate_limit import roomy_address
from tests.factories import integrate_committed, make_records

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"
TOKEN = "metrics-token-5b0c9e1d7a"


def scrape(client, **extra) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of a scrape by name and labels."""
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_a_page_the_site_does_not_have_for_an_outside_address(client):
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE)

    assert response.status_code == 404
    assert b"iportalis_" not in response.content
    assert b"Page not found" in response.content or b"not found" in response.content.lower()


@override_settings(METRICS_TOKEN=TOKEN)
def test_the_bearer_token_opens_metrics_from_anywhere_and_no_other_does(client):
    opened = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert opened.status_code == 200
    assert b"iportalis_consent_decisions_total" in opened.content

    for wrong in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer ", TOKEN):
        refused = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=wrong)
        assert refused.status_code == 404, wrong


def test_no_token_opens_metrics_while_none_is_set(client):
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404


def test_loopback_reads_metrics_by_default_and_an_allowed_network_may_too(client):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    with override_settings(METRICS_ALLOWED_NETWORKS=["203.0.113.0/24"]):
        assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


@override_settings(TRUSTED_PROXIES=["127.0.0.1"])
def test_behind_a_proxy_the_client_address_decides_not_the_proxys(client):
    # The proxy on loopback forwards an outside client: not allowed.
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)
    assert response.status_code == 404
    # A client outside naming loopback in its own header is not believed either.
    spoofed = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert spoofed.status_code == 404


def test_a_decision_posted_counts_by_event_and_surface(client, migrated_db):
    before = scrape(client)

    response = client.post(
        "/api/consent/",
        json.dumps({"action": "reject_all", "surface": "settings"}),
        content_type="application/json",
    )
    assert response.status_code == 201

    after = scrape(client)
    name = "iportalis_consent_decisions_total"
    assert value(after, name, event="reject_all", surface="settings") == (
        value(before, name, event="reject_all", surface="settings") + 1
    )
    assert value(after, name, event="accept_all", surface="settings") == value(
        before, name, event="accept_all", surface="settings"
    )
    middleware = "iportalis_consent_middleware_seconds_count"
    # The post; scrapes are answered above the consent middleware.
    assert value(after, middleware) == value(before, middleware) + 1


@override_settings(CONSENT_RATE_LIMIT="1/m")
def test_a_decision_over_the_limit_counts_as_rate_limited(client, migrated_db):
    address = roomy_address(rate="1/m")
    before = scrape(client)
    for expected in (303, 429):
        response = client.post(
            "/consent/",
            {"action": "accept_all", "surface": "banner", "next": "/"},
            REMOTE_ADDR=address,
        )
        assert response.status_code == expected

    after = scrape(client)
    limited = "iportalis_rate_limited_total"
    assert value(after, limited, limit="decisions") == value(before, limited, limit="decisions") + 1
    decisions = "iportalis_consent_decisions_total"
    assert value(after, decisions, event="accept_all", surface="banner") == (
        value(before, decisions, event="accept_all", surface="banner") + 1
    )


def test_unknown_cookies_a_browser_sends_are_counted(client, migrated_db):
    before = scrape(client)
    client.cookies["mystery_a"] = "1"
    client.cookies["mystery_b"] = "2"

    assert client.get("/").status_code == 200

    after = scrape(client)
    name = "iportalis_unknown_cookie_sightings_total"
    # The page met the two names; the scrape is answered above the consent middleware.
    assert value(after, name) == value(before, name) + 2


def test_the_log_gauges_read_the_latest_checkpoint_and_the_lag(client, migrated_db):
    head = integrate_committed()
    samples = scrape(client)
    assert value(samples, "iportalis_consent_log_checkpoint_size") == head.size
    assert 0 <= value(samples, "iportalis_consent_log_checkpoint_age_seconds") < 60
    assert value(samples, "iportalis_consent_log_lag_seconds") == 0

    make_records(2)
    lagging = scrape(client)
    assert value(lagging, "iportalis_consent_log_lag_seconds") > 0
    assert store.latest().size == head.size
