"""Enforcement through the whole site (client and async_client): what a visitor's browser gets."""

import pytest
from asgiref.sync import async_to_sync
from cookie_consent.models import CookieGroup
from django.test import Client

from consent.enforcement import unknown
from consent.models import RegisteredCookie, Service, UnknownCookie
from tests.factories import make_consent_cookie
from tests.helpers import decide

pytestmark = pytest.mark.django_db

DEMO = "/demo/cookies/"
DEMO_COOKIES = {"_pk_id.1.d3m0", "django_language", "hubspotutk"}
# The demo also tries to set this one, which the registry does not know: it never gets out.
UNREGISTERED = "demo_unregistered"
HUBSPOT = "js.hs-scripts.com"


def sent(response) -> dict:
    """Return the cookies a response sets, by name ('' for deletions)."""
    return dict(response.cookies.items())


def deleted(response) -> set[str]:
    return {n for n, m in response.cookies.items() if str(m["max-age"]) == "0"}


def csp(response) -> str:
    return response.headers["Content-Security-Policy"]


def test_a_first_visit_to_the_demo_gets_no_cookie_but_necessary_ones(client):
    response = client.get(DEMO)

    assert response.status_code == 200
    assert set(sent(response)) == {"csrftoken"}  # the banner's form needs it
    assert "Set-Cookie" not in response.headers


def test_after_accepting_all_the_demo_sets_each_of_its_registered_cookies(client):
    decide(client, "accept_all")

    response = client.get(DEMO)

    assert (
        set(sent(response)) | {response.headers.get("Set-Cookie", "=").partition("=")[0]}
        >= DEMO_COOKIES
    )
    assert response.cookies["_pk_id.1.d3m0"]["max-age"] > 0
    assert UNREGISTERED not in sent(response)  # missing from the policy: nobody consented to it


def test_the_demo_page_lists_only_the_cookies_the_site_may_read(client):
    client.cookies["hubspotutk"] = "from-an-earlier-visit"
    client.cookies["_pk_id.1.d3m0"] = "visitor"
    decide(client, "custom", **{"first-party": True, "session": True, "persistent": True})

    page = client.get(DEMO).content.decode()

    readable = page[page.index('id="readable-cookies"') :]
    assert "<code>_pk_id.1.d3m0</code>" in readable
    assert "hubspotutk" not in readable


def test_withdrawing_expires_the_cookies_the_browser_holds(client):
    decide(client, "accept_all")
    client.get(DEMO)  # the browser now holds the demo's cookies
    assert DEMO_COOKIES - {"hubspotutk"} <= set(client.cookies)

    response = decide(client, "withdraw")

    assert {"_pk_id.1.d3m0", "django_language"} <= deleted(response)
    assert "csrftoken" not in deleted(response)
    assert response.cookies["_pk_id.1.d3m0"]["path"] == "/"
    # A browser drops them (the test client keeps them, empty), so the next page expires nothing.
    for name in deleted(response):
        del client.cookies[name]
    assert deleted(client.get(DEMO)) == set()


def test_withdrawing_persistent_expires_cookies_that_may_outlive_the_session(client):
    decide(client, "accept_all")
    client.get(DEMO)

    response = decide(client, "custom", **{"first-party": True, "session": True})

    # The persistent copies go; the demo sets them again, as session cookies.
    assert "_pk_id.1.d3m0" in deleted(response)
    again = client.get(DEMO)
    assert again.cookies["_pk_id.1.d3m0"]["max-age"] == ""
    assert again.cookies["_pk_id.1.d3m0"]["expires"] == ""
    assert "_pk_id.1.d3m0" not in deleted(client.get("/"))


def test_third_party_hosts_enter_the_csp_only_with_third_party_consent(client):
    assert HUBSPOT not in csp(client.get("/"))
    decide(client, "custom", **{"first-party": True, "session": True, "persistent": True})
    assert HUBSPOT not in csp(client.get("/"))

    decide(client, "custom", **{"third-party": True, "session": True})

    policy = csp(client.get("/"))
    default_src = next(d for d in policy.split("; ") if d.startswith("default-src"))
    assert default_src.split() == [
        "default-src",
        "'self'",
        "api-iam.intercom.io",
        "js.hs-analytics.net",
        "js.hs-scripts.com",
        "js.intercomcdn.com",
        "track.hubspot.com",
        "widget.intercom.io",
    ]
    assert "frame-ancestors 'none'" in policy


def test_a_new_services_hosts_reach_the_csp_at_once(client):
    client.cookies["iportalis_consent"] = make_consent_cookie("third-party", "session")
    client.get("/")

    Service.objects.create(
        name="Video",
        provider="Video Inc.",
        category=CookieGroup.objects.get(varname="third-party"),
        hosts=["player.video.example"],
    )

    assert "player.video.example" in csp(client.get("/"))


def test_pages_cost_no_database_query(client, django_assert_num_queries):
    client.cookies["iportalis_consent"] = make_consent_cookie("first-party", "session")
    client.cookies["hubspotutk"] = "refused"
    client.cookies["mystery"] = "unknown"
    client.get(DEMO)

    with django_assert_num_queries(0):
        response = client.get(DEMO)

    assert "hubspotutk" in deleted(response)


def test_a_registry_change_is_enforced_on_the_next_request(client, django_assert_num_queries):
    client.cookies["iportalis_consent"] = make_consent_cookie("first-party", "session")
    client.cookies["_gcl_au"] = "ad-click"
    assert "_gcl_au" in deleted(client.get("/"))  # unknown: refused, whatever was consented

    RegisteredCookie.objects.create(
        name="_gcl_au",
        cookiegroup=CookieGroup.objects.get(varname="first-party"),
        duration="3 months",
    )

    assert "_gcl_au" not in deleted(client.get("/"))
    with django_assert_num_queries(0):
        client.get("/")


def test_unknown_cookie_names_are_counted_and_written_in_batches(client, django_assert_num_queries):
    client.get("/")
    client.cookies["mystery"] = "1"
    with django_assert_num_queries(0):
        client.get(DEMO)
        client.get("/")
    assert not UnknownCookie.objects.exists()

    unknown.sightings.flush()

    row = UnknownCookie.objects.get(name="mystery")
    assert (row.name, row.count, row.example_path) == ("mystery", 2, DEMO)
    assert row.first_seen <= row.last_seen
    client.get("/")
    unknown.sightings.flush()
    assert UnknownCookie.objects.get(name="mystery").count == 3


def test_the_batch_is_written_by_a_request_once_it_is_due(client, monkeypatch):
    client.cookies["mystery"] = "1"
    client.get("/")
    assert not UnknownCookie.objects.exists()  # not due: FLUSH_SECONDS have not passed
    monkeypatch.setattr(unknown, "FLUSH_SECONDS", 0.0)  # now they have

    client.get("/")

    assert UnknownCookie.objects.get(name="mystery").count == 2


def test_a_flood_of_invented_names_is_capped(client):
    for n in range(unknown.MAX_NAMES + 50):
        client.cookies[f"junk{n}"] = "1"
    client.get("/")

    unknown.sightings.flush()

    assert UnknownCookie.objects.count() == unknown.MAX_NAMES


def test_names_set_by_views_are_noticed_too(client):
    decide(client, "accept_all")
    client.get(DEMO)

    unknown.sightings.flush()

    assert UnknownCookie.objects.filter(name="demo_unregistered").exists()
    assert not UnknownCookie.objects.filter(name__in=["csrftoken", "hubspotutk"]).exists()


def test_under_asgi_refused_cookies_are_hidden_stripped_and_expired(async_client):
    async_client.cookies["hubspotutk"] = "refused"
    async_client.cookies["_pk_id.1.d3m0"] = "visitor"

    response = async_to_sync(async_client.get)(DEMO)

    assert response.status_code == 200
    assert {"hubspotutk", "_pk_id.1.d3m0"} <= deleted(response)
    assert "<code>hubspotutk</code></li>" not in response.content.decode()
    assert not (set(sent(response)) - deleted(response)) & DEMO_COOKIES


def test_gpc_json_is_exempt_and_sets_nothing(client):
    response = Client(headers={"Cookie": "hubspotutk=1"}).get("/.well-known/gpc.json")

    assert response.status_code == 200
    assert "Cookie" not in response.headers["Vary"]
    assert deleted(response) == set()
