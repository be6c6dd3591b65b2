"""/healthz and /readyz: what a load balancer and a process manager see."""

from __future__ import annotations

import socket
import time

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings

from iportalis.env import cache_from_url
from tests.factories import integrate_committed, make_records

# A load balancer's probe: an address for a host, plain HTTP.
PROBE = {"HTTP_HOST": "10.0.0.7:8000"}


@pytest.fixture
def unanswering_port():
    """A port that accepts connections and never answers, as a partitioned server looks."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_healthz_answers_a_probe_by_address_over_http_without_the_database(client):
    # No django_db mark: any query would fail the test.
    # A page is refused the same probe (a 400 for the host), and redirected over plain HTTP.
    client.raise_request_exception = False
    assert client.get("/", **PROBE).status_code == 400
    assert client.get("/").status_code == 301

    response = client.get("/healthz", **PROBE)

    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


@pytest.mark.django_db(transaction=True)
@override_settings(SECURE_SSL_REDIRECT=True)
def test_readyz_is_200_with_every_check_passed(client):
    response = client.get("/readyz", **PROBE)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ready"] is True
    assert set(body["checks"]) == {"database", "log_lag", "signing_key", "redis"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["redis"] == {"ok": True, "configured": False}  # local memory cache
    assert body["checks"]["log_lag"]["bound"] == 60
    assert not response.cookies


def test_readyz_is_503_while_the_log_lags_and_200_once_the_integrator_caught_up(
    client, migrated_db
):
    make_records(3)  # committed, and not in the log: no integrator runs in the tests
    assert client.get("/readyz").status_code == 200  # younger than the bound, 60 s

    time.sleep(1.2)
    with override_settings(CONSENT_LOG_MAX_LAG=1):
        lagging = client.get("/readyz")

    assert lagging.status_code == 503
    body = lagging.json()
    assert body["ready"] is False
    assert body["checks"]["log_lag"]["ok"] is False
    assert body["checks"]["log_lag"]["seconds"] >= 1.2
    assert body["checks"]["log_lag"]["bound"] == 1
    assert body["checks"]["database"]["ok"] is True

    integrate_committed()
    with override_settings(CONSENT_LOG_MAX_LAG=1):
        caught_up = client.get("/readyz")
    assert caught_up.status_code == 200
    assert caught_up.json()["checks"]["log_lag"] == {"ok": True, "seconds": 0.0, "bound": 1}


@pytest.mark.django_db(transaction=True)
@override_settings(CONSENT_LOG_SIGNING_KEY="PRIVATE+KEY+not-a-key")
def test_readyz_is_503_without_a_usable_signing_key(client):
    response = client.get("/readyz")

    assert response.status_code == 503
    check = response.json()["checks"]["signing_key"]
    assert check["ok"] is False and "NoteError" in check["error"]
    assert "not-a-key" not in response.content.decode()  # the log has the details, not the probe


@pytest.mark.django_db(transaction=True)
def test_readyz_checks_redis_when_it_is_the_cache(client, redis_url):
    with override_settings(CACHES={"default": cache_from_url(redis_url)}):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == {"ok": True, "configured": True}

    with override_settings(
        CACHES={"default": cache_from_url(f"redis://127.0.0.1:{closed_port()}/0")}
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_a_check_that_does_not_answer_fails_after_readiness_timeout(client, unanswering_port):
    url = f"redis://127.0.0.1:{unanswering_port}/0"
    with override_settings(CACHES={"default": cache_from_url(url)}, READINESS_TIMEOUT=0.3):
        started = time.monotonic()
        response = client.get("/readyz")
        took = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == {"ok": False, "error": "no answer within 0.3 s"}
    assert took < 0.9  # Redis's own socket timeout is 1 s

    # The check left running ends by Redis's socket timeout; until then probes wait on it
    # rather than start another. Ready again soon after, with the cache back in memory.
    deadline = time.monotonic() + 5
    while (status := client.get("/readyz").status_code) != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status == 200


def test_probes_take_get_and_head_only(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_probes_answer_and_metrics_stay_hidden_from_outside(async_client):
    assert async_to_sync(async_client.get)("/healthz", **PROBE).status_code == 200
    ready = async_to_sync(async_client.get)("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert async_to_sync(async_client.get)("/metrics").status_code == 200
    # The test client connects from 127.0.0.1: here a proxy, forwarding an outside client.
    with override_settings(TRUSTED_PROXIES=["127.0.0.1"]):
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        hidden = async_to_sync(async_client.get)("/metrics", headers=forwarded)
    assert hidden.status_code == 404
