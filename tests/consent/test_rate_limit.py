"""One client address may write CONSENT_RATE_LIMIT records a period; the rest get 429."""

import json
import logging
import socket

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.core.checks import run_checks

from consent.models import ConsentRecord
from consent.ratelimit import parse_rate
from consent.sanitise import ip_hmac
from iportalis.env import cache_from_url
from tests.helpers import LIMIT, PRODUCTION_ENV, decide, manage, roomy_address

pytestmark = pytest.mark.django_db

REDIS_DB = 8


def post_json(client, address, body=None):
    data = json.dumps(body or {"action": "reject_all"})
    return client.post("/api/consent/", data, content_type="application/json", REMOTE_ADDR=address)


def test_the_31st_form_decision_in_a_minute_is_refused_and_records_nothing(client):
    address = roomy_address()
    for _ in range(LIMIT):
        assert decide(client, address=address).status_code == 303

    response = decide(client, "reject_all", address=address)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert b"nothing was recorded" in response.content
    assert "iportalis_consent" not in response.cookies
    assert ConsentRecord.objects.count() == LIMIT
    assert not ConsentRecord.objects.filter(event="reject_all").exists()


def test_the_31st_api_decision_is_a_json_429_and_records_nothing(client):
    address = roomy_address()
    for _ in range(LIMIT):
        assert post_json(client, address).status_code == 201

    response = post_json(client, address, {"action": "accept_all"})

    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    assert response.json() == {
        "error": f"Too many decisions from your address: try again in {seconds} seconds."
    }
    assert ConsentRecord.objects.count() == LIMIT
    assert not ConsentRecord.objects.filter(event="accept_all").exists()
    # Reading the state is not limited.
    assert client.get("/api/consent/", REMOTE_ADDR=address).status_code == 200


def test_the_form_and_the_api_share_one_limit(client):
    address = roomy_address()
    for _ in range(LIMIT // 2):
        decide(client, address=address)
        post_json(client, address)

    assert post_json(client, address).status_code == 429
    assert decide(client, address=address).status_code == 429


def test_another_address_is_not_limited(client):
    flooding = roomy_address()
    other = roomy_address(avoid={flooding})
    for _ in range(LIMIT + 5):
        decide(client, address=flooding)

    assert decide(client, address=flooding).status_code == 429
    assert decide(client, address=other).status_code == 303
    assert post_json(client, other).status_code == 201
    assert ConsentRecord.objects.filter(ip_hmac=ip_hmac(flooding)).count() == LIMIT
    assert ConsentRecord.objects.filter(ip_hmac=ip_hmac(other)).count() == 2


def test_the_limit_holds_with_redis_as_the_cache(client, settings, redis_url):
    client.get("/")  # the registry and policy numbers are read before the cache is switched
    settings.CACHES = {"default": cache_from_url(f"{redis_url}/{REDIS_DB}")}
    caches["default"].clear()
    address = roomy_address()
    try:
        statuses = [post_json(client, address).status_code for _ in range(LIMIT + 1)]
    finally:
        caches["default"].clear()

    assert statuses == [201] * LIMIT + [429]
    assert ConsentRecord.objects.count() == LIMIT


def test_ipv6_addresses_count_per_64_block(client):
    block = roomy_address(pattern="2001:db8:{:x}::").removesuffix("::")  # its /64: block::/64
    for host in range(1, LIMIT + 1):
        assert post_json(client, f"{block}::{host:x}").status_code == 201

    assert post_json(client, f"{block}::ffff:1").status_code == 429
    assert post_json(client, f"{block}:1::1").status_code == 201  # the next /64


def test_a_gpc_browser_without_cookies_stops_writing_records_at_the_limit(client):
    address = roomy_address()
    for _ in range(LIMIT + 10):
        client.cookies.clear()  # a browser that keeps no cookies: GPC is due on every page
        response = client.get("/", HTTP_SEC_GPC="1", REMOTE_ADDR=address)
        assert response.status_code == 200
        assert b'id="consent-banner"' in response.content

    assert ConsentRecord.objects.filter(event="gpc").count() == LIMIT
    # Third-party cookies are still refused on the pages that wrote no record.
    state = client.get("/api/consent/", HTTP_SEC_GPC="1", REMOTE_ADDR=address).json()
    assert state["choices"]["third-party"] is False
    # GPC signals are counted apart: the visitor can still decide.
    assert decide(client, address=address).status_code == 303


def test_gpc_records_are_limited_under_asgi_too(async_client, settings):
    # The test client always connects from 127.0.0.1: it is the proxy, and it says who the
    # client is.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    headers = {"Sec-GPC": "1", "X-Forwarded-For": roomy_address()}
    for _ in range(LIMIT + 3):
        async_client.cookies.clear()
        response = async_to_sync(async_client.get)("/", headers=headers)
        assert response.status_code == 200

    assert ConsentRecord.objects.filter(event="gpc").count() == LIMIT


def test_the_rate_comes_from_the_setting(client, settings):
    settings.CONSENT_RATE_LIMIT = "2/h"
    address = roomy_address(rate="2/h", seconds=80)

    assert [decide(client, address=address).status_code for _ in range(3)] == [303, 303, 429]
    assert 60 < int(decide(client, address=address)["Retry-After"]) <= 3600


def test_a_huge_rate_lets_a_load_test_through(client, settings):
    settings.CONSENT_RATE_LIMIT = "1000000/m"
    address = roomy_address()

    assert {post_json(client, address).status_code for _ in range(LIMIT + 10)} == {201}


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_limit_fails_open_when_redis_is_down(client, settings, caplog):
    client.get("/")  # the registry and policy numbers are read while the cache still answers
    settings.CACHES = {"default": cache_from_url(f"redis://127.0.0.1:{closed_port()}/11")}
    address = "198.51.100.7"

    with caplog.at_level(logging.WARNING, logger="consent.ratelimit"):
        decisions = [decide(client, address=address).status_code for _ in range(LIMIT + 5)]
        apis = [post_json(client, address).status_code for _ in range(5)]
        client.cookies.clear()
        client.get("/", HTTP_SEC_GPC="1", REMOTE_ADDR=address)

    assert set(decisions) == {303}
    assert set(apis) == {201}
    assert ConsentRecord.objects.count() == LIMIT + 5 + 5 + 1
    assert ConsentRecord.objects.filter(event="gpc").count() == 1
    # It was the cache that failed, and that was said.
    failures = [r for r in caplog.records if r.name == "consent.ratelimit"]
    assert len(failures) == LIMIT + 5 + 5 + 1
    assert "ConnectionError" in failures[0].exc_text


def ids():
    return {message.id for message in run_checks()}


@pytest.mark.parametrize(
    "rate, count, period",
    [("30/m", 30, 60), ("1000000/m", 1000000, 60), ("100/5m", 100, 300), ("1/s", 1, 1)]
    + [("5000/d", 5000, 86400), ("7/2h", 7, 7200)],
)
def test_rates_of_a_count_and_a_period_pass_the_check(settings, rate, count, period):
    settings.CONSENT_RATE_LIMIT = rate

    assert "consent.E004" not in ids()
    assert parse_rate(rate) == (count, period)


@pytest.mark.parametrize("rate", ["", "lots", "30", "30/x", "30/M", "0/m", "30/0m", "30/mm", 30])
def test_anything_else_is_an_error(settings, rate):
    settings.CONSENT_RATE_LIMIT = rate

    assert "consent.E004" in ids()


def test_the_rate_is_set_from_the_environment():
    huge = manage("check", "--deploy", **PRODUCTION_ENV, CONSENT_RATE_LIMIT="1000000/m")
    bad = manage("check", **PRODUCTION_ENV, CONSENT_RATE_LIMIT="a lot")

    assert huge.returncode == 0, huge.stderr
    assert bad.returncode != 0
    assert "consent.E004" in bad.stderr
    assert "'a lot'" in bad.stderr
