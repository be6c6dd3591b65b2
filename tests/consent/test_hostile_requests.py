"""Hostile requests that once got past a promise of the README (issue 14, items 3, 4, 7 and 8).

Each case goes through `Probe.send` (tests/hostile.py), which checks what must
hold whatever the input and counts the cases for the figures at the end of the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import AsyncClient, Client

from consent.categories import OPTIONAL
from consent.enforcement.unknown import sightings
from consent.models import ConsentRecord, UnknownCookie
from consent.sanitise import ip_hmac
from tests.factories import make_consent_cookie
from tests.helpers import roomy_address
from tests.hostile import COOKIE, FORM, HOST, Probe

pytestmark = pytest.mark.django_db

DEMO = "/demo/cookies/"
THIRD_PARTY_COOKIES = ("hubspotutk", "intercom-id-abc", "__hssc")
THIRD_PARTY_HOSTS = ("js.hs-scripts.com", "widget.intercom.io", "intercomcdn.com", "hubspot")
CHAT_WIDGET = "demo/chat-widget.js"


# A GPC signal whose record cannot be written (item 3) ------------------------------------------


def everything_accepted() -> Client:
    """Return the browser of a visitor who accepted everything before sending GPC, and who still
    holds the third-party cookies that consent allowed."""
    client = Client()
    client.cookies[COOKIE] = make_consent_cookie(*OPTIONAL)
    for name in THIRD_PARTY_COOKIES:
        client.cookies[name] = "from-an-earlier-visit"
    return client


def assert_third_party_refused(
    probe: Probe, client: Client | AsyncClient, headers: dict[str, str] | None = None, **extra: Any
) -> None:
    """Visit the pages with Sec-GPC: 1, each writing nothing, and check that no third-party
    cookie is set, those the browser holds are expired and hidden from the view, no third-party
    host enters the Content-Security-Policy, and the chat script stays inert."""
    headers = {"Sec-GPC": "1", **(headers or {})}
    extra["headers"] = headers
    demo = probe.get(DEMO, client=client, **extra)
    assert demo.status_code == 200
    sent = dict(demo.cookies.items())
    readable = demo.content.decode().partition('id="readable-cookies"')[2]
    for name in THIRD_PARTY_COOKIES:
        assert name in sent and str(sent[name]["max-age"]) == "0", name  # expired, not set
        assert f"<code>{name}</code>" not in readable, name
    assert "hubspotutk=8f14" not in demo.get("Set-Cookie", "")
    assert "_pk_id.1.d3m0" in sent  # first-party consent still stands

    home = probe.get("/", client=client, **extra)
    page = home.content.decode()
    policy = home["Content-Security-Policy"]
    assert not any(host in policy for host in THIRD_PARTY_HOSTS), policy
    widget = next(line for line in page.splitlines() if CHAT_WIDGET in line)
    assert 'type="text/plain"' in widget, widget

    state = probe.get("/api/consent/", client=client, **extra).json()
    assert state["gpc"] is True
    assert state["choices"]["third-party"] is False
    assert state["choices"]["first-party"] is True


def use_up_the_gpc_limit(probe: Probe, settings: Any) -> str:
    """Return an address whose GPC records for this hour are used up (by one other browser)."""
    settings.CONSENT_RATE_LIMIT = "1/h"
    address = roomy_address(rate="1/h", seconds=120)
    probe.get("/", HTTP_SEC_GPC="1", REMOTE_ADDR=address, records=1)
    return address


def test_gpc_refuses_third_party_when_the_rate_limit_is_used_up(probe, settings):
    address = use_up_the_gpc_limit(probe, settings)

    assert_third_party_refused(probe, everything_accepted(), REMOTE_ADDR=address)
    assert ConsentRecord.objects.filter(event="gpc").count() == 1  # the other browser's


def test_gpc_refuses_third_party_when_the_rate_limit_is_used_up_under_asgi(probe, settings):
    address = use_up_the_gpc_limit(probe, settings)
    # The test client connects from 127.0.0.1: let it be the proxy that names the client.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    client = AsyncClient()
    client.cookies = everything_accepted().cookies

    assert_third_party_refused(probe, client, {"X-Forwarded-For": address})


@pytest.fixture
def read_only_database(migrated_db: None) -> Iterator[None]:
    """Make every transaction of the app's connection read-only, as on a primary that failed
    over to a standby: pages still read, and every INSERT fails with a database error."""
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = off")


def test_gpc_refuses_third_party_when_the_database_cannot_take_the_record(
    probe, read_only_database, caplog
):
    assert_third_party_refused(probe, everything_accepted())

    assert "Could not record a Global Privacy Control signal" in caplog.text
    assert "read-only transaction" in caplog.text


# The form's `next` (item 4) and its unknown fields (item 8) --------------------------------------


def decision(**fields: str) -> dict[str, str]:
    return {"action": "reject_all", "surface": "banner", "next": "/", **fields}


# Not a path on this site: the decision is recorded, `next` ignored, and never a record's path.
NOT_PATHS = [
    '=HYPERLINK("https://evil.example/","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "cookie-policy/",
    "?next=//evil.example",
    "//evil.example/",
    "/\\evil.example/",
    "/\x01x",
    "/\x7fx",
    "/\x85x",
    "/\u2028x",
    "/\ttab",
    "/\r\nX-Hostile: 1",
    "\uff0f\uff0fevil.example",
]


def test_a_next_that_is_no_path_is_ignored_and_never_recorded(probe):
    for next_url in NOT_PATHS:
        response = probe.post_form(decision(next=next_url), records=1)
        assert response.status_code == 303, next_url
        assert response["Location"] == "/cookie-settings/", next_url
        assert ConsentRecord.objects.latest("id").path == "/cookie-settings/", next_url


def test_a_long_landing_url_keeps_its_path_and_drops_its_query(probe):
    landing = "/cookie-policy/?utm_source=" + "x" * 2500 + "#top"

    response = probe.post_form(decision(next=landing), records=1)

    assert response.status_code == 303
    assert response["Location"] == "/cookie-policy/"
    assert ConsentRecord.objects.latest("id").path == "/cookie-policy/"


def test_a_next_within_the_bound_keeps_its_query(probe):
    landing = "/cookie-policy/?utm_source=" + "x" * 1900

    response = probe.post_form(decision(next=landing), records=1)

    assert response["Location"] == landing
    assert ConsentRecord.objects.latest("id").path == "/cookie-policy/"


@pytest.mark.parametrize("path", ["/" + "a" * 2000, "/" + "a" * 2000 + "?q=1", "/\x00"])
def test_a_path_too_long_alone_or_with_nul_is_a_400(probe, path):
    assert probe.post_form(decision(next=path)).status_code == 400


@pytest.mark.parametrize("path", ["//evil.example/", "/\x01", "/\u2028x", "/" + "a" * 2000])
def test_the_api_refuses_the_same_paths(probe, path):
    response = probe.post_json(json.dumps({"action": "accept_all", "path": path}).encode())

    assert response.status_code == 400
    assert "path must be" in response.json()["error"]


@pytest.mark.parametrize(
    "extra",
    [
        {"advertising": "on"},
        {"necessary": ""},
        {"path": "/"},
        {"choices": "all"},
        {"ACTION": "accept_all"},
        {"csrfmiddlewaretoken ": "x"},
        {"": "x"},
    ],
)
def test_the_form_answers_unknown_fields_with_a_400_as_the_api_does(probe, extra):
    form_response = probe.post_form({**decision(), **extra})
    assert form_response.status_code == 400
    page = form_response.content.decode()
    assert "Unknown fields" in page
    assert "__all__" not in page  # the error of the whole form names no field


def test_the_forms_own_fields_and_the_csrf_token_are_known(probe):
    fields = {**decision(action="custom"), "first-party": "on", "persistent": "on"}
    response = probe.post_form({**fields, "csrfmiddlewaretoken": "x" * 64}, records=1)

    assert response.status_code == 303


# Disallowed hosts, headers and methods (item 8) -------------------------------------------------

DISALLOWED_HOSTS = ["evil.example", f"{HOST}.evil.example", f"{HOST}@evil.example", "[::1"]


def test_a_request_refused_for_its_host_writes_nothing(probe):
    """Not a GPC record, not a consent cookie, not an unknown cookie's name: the request ends at
    the top of the stack (the static file, the policy page and the decision endpoint alike)."""
    for host in DISALLOWED_HOSTS:
        for method, path in (("GET", "/"), ("GET", "/cookie-policy/"), ("POST", "/consent/")):
            response = probe.send(
                method,
                path,
                urlencode(decision()).encode(),
                FORM,
                HTTP_HOST=host,
                HTTP_SEC_GPC="1",
                HTTP_COOKIE="never_registered_hostile_name=1",
            )
            assert response.status_code == 400, (host, path)
            assert not response.cookies, (host, path)
    sightings.flush()
    assert not UnknownCookie.objects.filter(name="never_registered_hostile_name").exists()


def test_a_request_refused_for_its_host_writes_nothing_under_asgi(probe):
    client = AsyncClient()
    for host in DISALLOWED_HOSTS:
        response = probe.get("/", client=client, headers={"Host": host, "Sec-GPC": "1"})
        assert response.status_code == 400, host
        assert not response.cookies, host


def test_an_allowed_host_still_gets_its_gpc_record(probe):
    probe.get("/", HTTP_HOST=HOST, HTTP_SEC_GPC="1", records=1)


POLICY_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics")


def assert_strict_permissions_policy(response: Any) -> None:
    policy = response["Permissions-Policy"]
    features = dict(item.split("=", 1) for item in policy.split(", "))
    for feature in POLICY_FEATURES:
        assert features[feature] == "()", (feature, policy)
    assert set(features.values()) == {"()"}, policy  # nothing granted to anyone


def test_every_response_has_a_strict_permissions_policy(probe):
    cases = [
        ("GET", "/", {}),
        ("GET", "/cookie-policy/", {}),
        ("GET", "/api/consent/", {}),
        ("GET", "/.well-known/gpc.json", {}),
        ("GET", "/static/favicon.svg", {}),
        ("GET", "/favicon.ico", {}),
        ("GET", "/no-such-page/", {}),
        ("POST", "/consent/", {}),  # a 400: the form is empty
        ("PUT", "/api/consent/", {}),
        ("GET", "/", {"HTTP_HOST": "evil.example"}),  # refused for its host
    ]
    for method, path, extra in cases:
        response = probe.send(method, path, b"", FORM, **extra)
        if response.streaming:
            b"".join(response.streaming_content)  # read to the end, which closes the file
        assert_strict_permissions_policy(response)


def test_head_on_the_gpc_resource_answers_200(probe):
    for client in (Client(), AsyncClient()):
        response = probe.send("HEAD", "/.well-known/gpc.json", client=client)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert_strict_permissions_policy(response)
    assert probe.send("POST", "/.well-known/gpc.json").status_code == 405


# Forged client addresses (item 7) ---------------------------------------------------------------

PROXIES = ["10.0.0.0/24", "2001:db8:1::/48"]
FORGED_FORWARDED_FOR = [
    "192.0.2.1",
    "10.0.0.1",  # a trusted proxy's own address
    "192.0.2.1, 10.0.0.1",
    "::ffff:10.0.0.1",
    "2001:db8:1::1",
    "192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4",
    "unknown",
    "192.0.2.1:443",
    "[2001:db8::1]",
    "192.0.2.1\r\nX-Hostile: 1",
    ",,,,",
    "1" * 8000,
]


def test_a_client_that_bypasses_the_proxy_cannot_forge_its_address(probe, settings):
    """Each forged header on a decision: recorded (as intended) under the address the client
    really connects from, and counted against its own limit."""
    settings.TRUSTED_PROXIES = PROXIES
    settings.CONSENT_RATE_LIMIT = "1000/h"
    attacker = roomy_address(rate="1000/h", seconds=60)
    for forged in FORGED_FORWARDED_FOR:
        body = json.dumps({"action": "reject_all"}).encode()
        response = probe.post_json(
            body, REMOTE_ADDR=attacker, HTTP_X_FORWARDED_FOR=forged, records=1
        )
        assert response.status_code == 201, forged
        assert ConsentRecord.objects.latest("id").ip_hmac == ip_hmac(attacker), forged

    settings.CONSENT_RATE_LIMIT = f"{len(FORGED_FORWARDED_FOR)}/h"
    response = probe.post_json(
        b'{"action": "reject_all"}', REMOTE_ADDR=attacker, HTTP_X_FORWARDED_FOR="192.0.2.99"
    )
    assert response.status_code == 429


def test_ipv4_mapped_peers_are_each_their_own_client(probe, settings):
    settings.CONSENT_RATE_LIMIT = "1/h"
    first = roomy_address(rate="1/h", seconds=60)
    second = roomy_address(avoid={first}, rate="1/h", seconds=60)

    probe.get("/", HTTP_SEC_GPC="1", REMOTE_ADDR=f"::ffff:{first}", records=1)
    # Once one IPv4 client on a dual-stack socket had used the /64 up, no other could record.
    probe.get("/", HTTP_SEC_GPC="1", REMOTE_ADDR=f"::ffff:{second}", records=1)

    hashes = set(ConsentRecord.objects.values_list("ip_hmac", flat=True))
    assert hashes == {ip_hmac(first), ip_hmac(second)}
