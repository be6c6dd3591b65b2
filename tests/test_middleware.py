"""ForwardedForMiddleware: the client's address behind TRUSTED_PROXY_COUNT proxies."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.core.checks import run_checks
from django.http import HttpResponse
from django.test import RequestFactory

from consent.models import ConsentRecord
from consent.records import ip_hmac
from iportalis.middleware import ForwardedForMiddleware
from tests.consent.test_rate_limit import LIMIT, roomy_address

PROXY = "10.0.0.2"


def client_address(settings, trusted, forwarded_for=None, remote_addr=PROXY):
    """Return the REMOTE_ADDR a view sees after the middleware."""
    settings.TRUSTED_PROXY_COUNT = trusted
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
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "203.0.113.9, 198.51.100.4", "198.51.100.4"),  # the left part is the client's word
        (2, "203.0.113.9, 198.51.100.4, 10.0.0.1", "198.51.100.4"),
        (2, "198.51.100.4,10.0.0.1", "198.51.100.4"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "2001:DB8:0:0::1", "2001:db8::1"),
        (1, " 203.0.113.9 ", "203.0.113.9"),
    ],
)
def test_the_client_is_the_nth_address_from_the_right(settings, trusted, forwarded_for, client):
    assert client_address(settings, trusted, forwarded_for) == client


def test_without_trusted_proxies_the_header_is_ignored(settings):
    assert client_address(settings, 0, "203.0.113.9") == PROXY


@pytest.mark.parametrize(
    ("trusted", "forwarded_for"),
    [
        (1, None),
        (1, ""),
        (1, "unknown"),
        (1, "203.0.113.9, "),
        (1, "203.0.113.9:4711"),
        (1, "<script>"),
        (1, "203.0.113.9, 198.51.100.4 ; drop"),
        (2, "203.0.113.9"),  # fewer addresses than proxies: the request bypassed one
        (3, "203.0.113.9, 10.0.0.1"),
    ],
)
def test_a_missing_short_or_garbled_header_leaves_remote_addr(settings, trusted, forwarded_for):
    assert client_address(settings, trusted, forwarded_for) == PROXY


def test_the_middleware_works_under_asgi_too(settings):
    settings.TRUSTED_PROXY_COUNT = 1
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


@pytest.mark.django_db
def test_two_clients_behind_one_proxy_get_their_own_limit_and_ip_hash(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    first = roomy_address()
    second = roomy_address(avoid={first})

    def post(address, forged=""):
        # The proxy appends the address it saw; the client may have sent a header of its own.
        return client.post(
            "/api/consent/",
            json.dumps({"action": "reject_all"}),
            content_type="application/json",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"{forged}{address}",
        )

    statuses = [post(first, forged=f"192.0.2.{n}, ").status_code for n in range(LIMIT + 1)]

    assert statuses == [201] * LIMIT + [429]
    assert post(second).status_code == 201
    hashes = list(ConsentRecord.objects.values_list("ip_hmac", flat=True))
    assert hashes.count(ip_hmac(first)) == LIMIT
    assert hashes.count(ip_hmac(second)) == 1
    assert ip_hmac(PROXY) not in hashes


def check_ids(settings, **overrides):
    for name, value in overrides.items():
        setattr(settings, name, value)
    return {message.id for message in run_checks()}


@pytest.mark.parametrize("count", [-1, "2", 1.5, True])
def test_the_proxy_count_must_be_a_whole_number(settings, count):
    assert "consent.E005" in check_ids(settings, TRUSTED_PROXY_COUNT=count)


def test_trusted_proxies_need_the_middleware_above_the_consent_middleware(settings):
    ours = "iportalis.middleware.ForwardedForMiddleware"
    project = list(settings.MIDDLEWARE)
    assert project[0] == ours
    without = [m for m in project if m != ours]
    below_consent = [*without, ours]

    assert not {"consent.E005", "consent.W004"} & check_ids(settings, TRUSTED_PROXY_COUNT=2)
    assert "consent.W004" in check_ids(settings, MIDDLEWARE=without)
    assert "consent.W004" in check_ids(settings, MIDDLEWARE=below_consent)
    assert "consent.W004" not in check_ids(settings, TRUSTED_PROXY_COUNT=0)


def test_deploy_checks_want_the_proxy_count_behind_a_tls_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 0
    assert "consent.W005" in {m.id for m in run_checks(include_deployment_checks=True)}

    settings.TRUSTED_PROXY_COUNT = 1
    assert "consent.W005" not in {m.id for m in run_checks(include_deployment_checks=True)}
