"""ForwardedForMiddleware: the client's address, believed from the proxies TRUSTED_PROXIES names."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.core.checks import run_checks
from django.http import HttpResponse
from django.test import RequestFactory

from common.middleware import ForwardedForMiddleware
from consent.models import ConsentRecord
from consent.sanitise import ip_hmac
from tests.helpers import LIMIT, manage, roomy_address

PROXY = "10.0.0.2"
PROXIES = ["10.0.0.0/24"]


def client_address(settings, trusted, forwarded_for=None, remote_addr=PROXY):
    """Return the REMOTE_ADDR a view sees after the middleware."""
    settings.TRUSTED_PROXIES = trusted
    extra = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **extra)
    seen = []

    def view(request):
        seen.append(request.META["REMOTE_ADDR"])
        return HttpResponse()

    ForwardedForMiddleware(view)(request)
    return seen[0]


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "client"),
    [
        (PROXIES, "203.0.113.9", "203.0.113.9"),
        (PROXIES, "203.0.113.9, 198.51.100.4", "198.51.100.4"),  # the left is the client's word
        (PROXIES, "203.0.113.9, 198.51.100.4, 10.0.0.1", "198.51.100.4"),  # two proxies
        (PROXIES, "198.51.100.4,10.0.0.1", "198.51.100.4"),
        (PROXIES, "10.0.0.7, 10.0.0.1", "10.0.0.7"),  # every hop a proxy: the farthest
        ([PROXY], "203.0.113.9", "203.0.113.9"),  # one address
        (["10.0.0.2/32", "2001:db8::/32"], "203.0.113.9", "203.0.113.9"),
        (PROXIES, "2001:db8::1", "2001:db8::1"),
        (PROXIES, "2001:DB8:0:0::1", "2001:db8::1"),
        (PROXIES, " 203.0.113.9 ", "203.0.113.9"),
        (PROXIES, "::ffff:203.0.113.9", "203.0.113.9"),  # IPv4-mapped: the IPv4 client
        (["*"], "203.0.113.9, 198.51.100.4", "198.51.100.4"),  # any peer: still one hop
    ],
)
def test_the_client_is_the_first_address_from_the_right_that_is_no_proxy(
    settings, trusted, forwarded_for, client
):
    assert client_address(settings, trusted, forwarded_for) == client


@pytest.mark.parametrize(
    ("trusted", "remote_addr"),
    [
        ([], PROXY),  # no proxy trusted: the header is ignored
        (PROXIES, "203.0.113.50"),  # a client that reached the app directly, past the proxy
        (PROXIES, "10.0.1.2"),  # next to the proxies' network, not in it
        (["10.0.0.2/32"], "10.0.0.3"),
        (["2001:db8::/32"], "2001:db9::1"),
        (["not an address", "10.0.0.0/33", ""], PROXY),  # trusts nothing (common.E001)
    ],
)
def test_the_header_of_a_peer_that_is_no_trusted_proxy_is_ignored(settings, trusted, remote_addr):
    assert client_address(settings, trusted, "192.0.2.66", remote_addr) == remote_addr


@pytest.mark.parametrize(
    ("remote_addr", "trusted", "client"),
    [
        ("::ffff:203.0.113.9", [], "203.0.113.9"),
        ("::FFFF:cb00:7109", [], "203.0.113.9"),
        ("::ffff:10.0.0.2", PROXIES, "192.0.2.66"),  # a proxy on a dual-stack socket
        ("::ffff:10.0.0.2", ["::ffff:10.0.0.0/120"], "192.0.2.66"),  # named as mapped
        ("2001:db8::ffff:cb00:7109", [], "2001:db8::ffff:cb00:7109"),  # not mapped
    ],
)
def test_ipv4_mapped_addresses_are_read_as_ipv4(settings, remote_addr, trusted, client):
    assert client_address(settings, trusted, "192.0.2.66", remote_addr) == client


def test_a_unix_socket_peer_is_believed_only_with_any_peer_trusted(settings):
    assert client_address(settings, PROXIES, "192.0.2.66", remote_addr="") == ""
    assert client_address(settings, ["*"], "192.0.2.66", remote_addr="") == "192.0.2.66"


@pytest.mark.parametrize(
    "forwarded_for",
    [None, "", "unknown", "203.0.113.9, ", "203.0.113.9:4711", "<script>", "1.2.3.4 ; drop"],
)
def test_a_missing_or_garbled_header_leaves_the_proxy(settings, forwarded_for):
    assert client_address(settings, PROXIES, forwarded_for) == PROXY


def test_garbage_left_of_a_proxy_leaves_that_proxy(settings):
    assert client_address(settings, PROXIES, "garbage, 10.0.0.1") == "10.0.0.1"


def test_the_middleware_works_under_asgi_too(settings):
    settings.TRUSTED_PROXIES = PROXIES
    request = RequestFactory().get(
        "/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9"
    )
    seen = []

    async def view(request):
        seen.append(request.META["REMOTE_ADDR"])
        return HttpResponse()

    middleware = ForwardedForMiddleware(view)
    async_to_sync(middleware)(request)

    assert seen == ["203.0.113.9"]


def post_decision(client, remote_addr, forwarded_for):
    return client.post(
        "/api/consent/",
        json.dumps({"action": "reject_all"}),
        content_type="application/json",
        REMOTE_ADDR=remote_addr,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@pytest.mark.django_db
def test_two_clients_behind_one_proxy_get_their_own_limit_and_ip_hash(client, settings):
    settings.TRUSTED_PROXIES = PROXIES
    first = roomy_address()
    second = roomy_address(avoid={first})

    # The proxy appends the address it saw; the client may have sent a header of its own.
    statuses = [
        post_decision(client, PROXY, f"192.0.2.{n}, {first}").status_code for n in range(LIMIT + 1)
    ]

    assert statuses == [201] * LIMIT + [429]
    assert post_decision(client, PROXY, second).status_code == 201
    hashes = list(ConsentRecord.objects.values_list("ip_hmac", flat=True))
    assert hashes.count(ip_hmac(first)) == LIMIT
    assert hashes.count(ip_hmac(second)) == 1
    assert ip_hmac(PROXY) not in hashes


@pytest.mark.django_db
def test_a_client_that_reaches_the_app_directly_cannot_pick_its_bucket(client, settings):
    """The pentest's case: with a proxy configured, a client connecting past it sends a new
    X-Forwarded-For each time. It keeps its own address, limit and IP hash."""
    settings.TRUSTED_PROXIES = PROXIES
    attacker = roomy_address()

    statuses = [
        post_decision(client, attacker, f"192.0.2.{n}").status_code for n in range(LIMIT + 1)
    ]

    assert statuses == [201] * LIMIT + [429]
    assert set(ConsentRecord.objects.values_list("ip_hmac", flat=True)) == {ip_hmac(attacker)}


@pytest.mark.django_db
def test_ipv4_clients_on_a_dual_stack_socket_get_a_limit_each(client, settings):
    first = roomy_address()
    second = roomy_address(avoid={first})

    statuses = [post_decision(client, f"::ffff:{first}", "").status_code for _ in range(LIMIT + 1)]

    assert statuses == [201] * LIMIT + [429]
    assert post_decision(client, f"::ffff:{second}", "").status_code == 201
    hashes = list(ConsentRecord.objects.values_list("ip_hmac", flat=True))
    assert hashes.count(ip_hmac(first)) == LIMIT and hashes.count(ip_hmac(second)) == 1


def check_ids(settings, **overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    return {message.id for message in run_checks()}


@pytest.mark.parametrize(
    "proxies",
    ["10.0.0.1", 1, [1], ["10.0.0.256"], ["10.0.0.0/33"], ["proxy.internal"], [""], ["10.0.0.1,"]],
)
def test_trusted_proxies_must_be_addresses_or_networks(settings, proxies):
    assert "common.E001" in check_ids(settings, TRUSTED_PROXIES=proxies)


@pytest.mark.parametrize(
    "proxies", [[], ["10.0.0.1"], ("10.0.0.0/8", "::1", "fd00::/8"), ["*"], [" 10.0.0.1 "]]
)
def test_addresses_networks_and_any_peer_pass(settings, proxies):
    assert "common.E001" not in check_ids(settings, TRUSTED_PROXIES=proxies)


def test_the_proxy_count_is_refused_now(settings):
    """It believed the header from any peer: a deployment that still sets it is told."""
    messages = [m for m in run_checks() if m.id == "common.E001"]
    assert not messages

    settings.TRUSTED_PROXY_COUNT = 1
    (message,) = [m for m in run_checks() if m.id == "common.E001"]
    assert "TRUSTED_PROXIES" in message.msg and "TRUSTED_PROXIES" in message.hint


def test_the_proxy_count_in_the_environment_stops_the_settings():
    result = manage("check", TRUSTED_PROXY_COUNT="1")

    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT is no longer read" in result.stderr


def test_trusted_proxies_need_the_middleware_above_the_consent_middleware(settings):
    ours = "common.middleware.ForwardedForMiddleware"
    project = list(settings.MIDDLEWARE)
    assert project[0] == ours
    without = [m for m in project if m != ours]
    below_consent = [*without, ours]
    settings.TRUSTED_PROXIES = PROXIES

    assert not {"common.E001", "consent.W004"} & check_ids(settings)
    assert "consent.W004" in check_ids(settings, MIDDLEWARE=without)
    assert "consent.W004" in check_ids(settings, MIDDLEWARE=below_consent)
    assert "consent.W004" not in check_ids(settings, TRUSTED_PROXIES=[])


def test_deploy_checks_want_trusted_proxies_behind_a_tls_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = []
    warnings = [m for m in run_checks(include_deployment_checks=True) if m.id == "common.W001"]
    assert len(warnings) == 1 and "TRUSTED_PROXIES" in warnings[0].hint

    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    assert "common.W001" not in {m.id for m in run_checks(include_deployment_checks=True)}
