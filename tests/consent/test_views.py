import json
import time
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from consent.capture.state import Consent
from consent.log import receipt, store
from consent.log.integration import integrate
from consent.models import ConsentRecord
from policy.models import PolicyVersion
from tests.factories import make_published
from tests.helpers import decide, roomy_address

pytestmark = pytest.mark.django_db

COOKIE = "iportalis_consent"


def stored(client):
    return Consent.loads(client.cookies[COOKIE].value)


def post_json(client, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/api/consent/", data, content_type="application/json", **extra)


def test_a_first_visit_shows_the_banner_and_sets_only_necessary_cookies(client):
    response = client.get("/")

    assert b'id="consent-banner"' in response.content
    assert set(response.cookies) <= {"csrftoken"}
    assert "Cookie" in response["Vary"]
    assert ConsentRecord.objects.count() == 0


def test_accept_all_records_the_decision_and_stores_a_signed_cookie(client):
    response = decide(client, "accept_all", next_url="/cookie-policy/?utm=x")

    assert response.status_code == 303
    assert response["Location"] == "/cookie-policy/?utm=x"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] == ""
    assert int(cookie["max-age"]) == 365 * 24 * 60 * 60
    record = ConsentRecord.objects.get()
    assert (record.event, record.surface, record.path) == (
        "accept_all",
        "banner",
        "/cookie-policy/",
    )
    assert all(record.choices.values())
    consent = stored(client)
    assert consent.consent_id == record.consent_id
    assert consent.policy_version == 2
    assert b'id="consent-banner"' not in client.get("/").content


def test_the_consent_cookie_is_secure_over_https(client):
    response = client.post("/consent/", {"action": "reject_all", "surface": "banner"}, secure=True)

    assert response.cookies[COOKIE]["secure"] is True


def test_a_refusal_is_remembered_like_a_consent(client):
    decide(client, "reject_all")

    assert b'id="consent-banner"' not in client.get("/").content
    assert stored(client).choices == {
        "necessary": True,
        "first-party": False,
        "third-party": False,
        "session": False,
        "persistent": False,
    }


def test_a_custom_choice_stores_exactly_what_was_chosen(client):
    decide(client, "custom", **{"first-party": True, "session": True})

    record = ConsentRecord.objects.get()
    assert record.event == "custom"
    assert [slug for slug, on in record.choices.items() if on] == [
        "necessary",
        "first-party",
        "session",
    ]


def test_later_decisions_keep_the_consent_id(client):
    decide(client, "accept_all")
    client.post(
        "/consent/", {"action": "withdraw", "surface": "settings", "next": "/cookie-settings/"}
    )

    first, second = ConsentRecord.objects.order_by("id")
    assert second.consent_id == first.consent_id
    assert (second.event, second.surface) == ("withdraw", "settings")
    assert not any(second.choices[slug] for slug in ("first-party", "third-party", "session"))


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "\r\nSet-Cookie: x=1"],
)
def test_a_hostile_next_url_goes_to_the_settings_page(client, next_url):
    response = decide(client, "reject_all", next_url=next_url)

    assert response.status_code == 303
    assert response["Location"] == "/cookie-settings/"


@pytest.mark.parametrize(
    "data",
    [
        {"surface": "banner"},
        {"action": "accept_everything", "surface": "banner"},
        {"action": "accept_all", "surface": "gpc"},
        {"action": "accept_all"},
    ],
    ids=["no-action", "unknown-action", "surface-not-allowed", "no-surface"],
)
def test_a_bad_form_is_a_400_and_records_nothing(client, data):
    response = client.post("/consent/", data)

    assert response.status_code == 400
    assert b"nothing was recorded" in response.content
    assert ConsentRecord.objects.count() == 0
    assert COOKIE not in response.cookies


def test_the_decision_form_takes_post_only(client):
    assert client.get("/consent/").status_code == 405


def test_a_decision_without_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)

    assert decide(client, "accept_all").status_code == 403
    assert post_json(client, {"action": "accept_all"}).status_code == 403
    assert post_json(client, {"action": "accept_all"}).json()["error"].startswith("CSRF")
    assert ConsentRecord.objects.count() == 0


def test_the_api_reports_the_state_before_and_after_a_decision(client):
    before = client.get("/api/consent/").json()
    assert before["decided"] is False
    assert before["needs_decision"] is True
    assert before["choices"]["necessary"] is True
    assert before["choices"]["third-party"] is False

    response = post_json(
        client, {"action": "custom", "choices": {"third-party": True, "session": True}}
    )

    assert response.status_code == 201
    after = client.get("/api/consent/").json()
    assert after["decided"] is True
    assert after["needs_decision"] is False
    assert after["choices"]["third-party"] is True
    assert after["choices"]["first-party"] is False
    record = ConsentRecord.objects.get()
    assert (record.surface, record.event) == ("api", "custom")
    assert after["consent_id"] == str(record.consent_id) == response.json()["consent_id"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"choices": {"advertising": True}}, 400, "Unknown categories: advertising"),
        ({"choices": {"first-party": "yes"}}, 400, "true or false"),
        ({"choices": {"necessary": False}}, 400, "cannot be refused"),
        ({"choices": ["first-party"]}, 400, "choices must be an object"),
        ({"action": "accept_everything"}, 400, "action must be one of"),
        ({"action": "accept_all", "surface": "gpc"}, 400, "surface must be one of"),
        ({"action": "accept_all", "path": "https://evil.example/"}, 400, "path must be"),
        ({"action": "accept_all", "extra": 1}, 400, "Unknown fields: extra"),
        ("[1, 2]", 400, "must be a JSON object"),
        ("{not json", 400, "not valid JSON"),
        ("[" * 100_000, 413, "larger than"),
        (json.dumps({"action": "accept_all", "path": "/" + "a" * 5000}), 413, "larger than"),
    ],
)
def test_the_api_answers_bad_input_with_a_clear_4xx_and_records_nothing(
    client, body, status, message
):
    response = post_json(client, body)

    assert response.status_code == status
    assert message in response.json()["error"]
    assert ConsentRecord.objects.count() == 0
    assert COOKIE not in response.cookies


def test_the_api_wants_json_and_get_or_post(client):
    assert client.post("/api/consent/", {"action": "accept_all"}).status_code == 415
    assert client.put("/api/consent/", "{}", content_type="application/json").status_code == 405
    assert client.delete("/api/consent/").status_code == 405
    assert ConsentRecord.objects.count() == 0


def test_a_forged_consent_cookie_counts_as_no_consent(client):
    decide(client, "accept_all")
    value = client.cookies[COOKIE].value
    client.cookies[COOKIE] = value[:-3] + ("abc" if not value.endswith("abc") else "xyz")

    state = client.get("/api/consent/").json()

    assert state["decided"] is False
    assert state["choices"]["first-party"] is False
    assert b'id="consent-banner"' in client.get("/").content


def test_a_material_policy_version_asks_again(client):
    decide(client, "accept_all")
    make_published(material=True)

    assert client.get("/api/consent/").json()["needs_decision"] is True
    assert client.get("/api/consent/").json()["choices"]["first-party"] is False
    assert b'id="consent-banner"' in client.get("/").content

    decide(client, "reject_all")
    first, again = ConsentRecord.objects.order_by("id")
    assert again.event == "reconsent"
    assert again.consent_id == first.consent_id
    assert again.policy_version.number == 3
    assert b'id="consent-banner"' not in client.get("/").content


def test_a_non_material_policy_version_does_not_ask_again(client):
    decide(client, "accept_all")
    make_published(material=False)

    assert client.get("/api/consent/").json()["needs_decision"] is False
    assert b'id="consent-banner"' not in client.get("/").content


def test_consent_older_than_its_lifetime_asks_again(client, settings):
    settings.CONSENT_MAX_AGE = 60 * 60
    with mock.patch("time.time", return_value=time.time() - 2 * 60 * 60):
        decide(client, "accept_all")

    assert client.get("/api/consent/").json()["needs_decision"] is True


def test_gpc_refuses_third_party_and_records_it_once(client):
    client.get("/", HTTP_SEC_GPC="1")
    client.get("/cookie-policy/", HTTP_SEC_GPC="1")

    record = ConsentRecord.objects.get()
    assert (record.event, record.surface, record.gpc, record.path) == ("gpc", "gpc", True, "/")
    assert record.third_party is False
    assert stored(client).gpc_recorded is True
    # GPC says nothing about the other categories, so the visitor is still asked.
    assert b'id="consent-banner"' in client.get("/", HTTP_SEC_GPC="1").content
    assert ConsentRecord.objects.count() == 1


def test_gpc_overrides_an_earlier_consent_to_third_party(client):
    decide(client, "accept_all")

    client.get("/", HTTP_SEC_GPC="1")

    state = client.get("/api/consent/", HTTP_SEC_GPC="1").json()
    assert state["choices"]["third-party"] is False
    assert state["choices"]["first-party"] is True
    accept, gpc = ConsentRecord.objects.order_by("id")
    assert gpc.event == "gpc" and gpc.consent_id == accept.consent_id
    assert (gpc.first_party, gpc.third_party) == (True, False)


def test_an_explicit_choice_after_gpc_wins(client):
    client.get("/", HTTP_SEC_GPC="1")
    decide(client, "accept_all")

    state = client.get("/api/consent/", HTTP_SEC_GPC="1").json()

    assert state["choices"]["third-party"] is True
    assert list(ConsentRecord.objects.order_by("id").values_list("event", flat=True)) == [
        "gpc",
        "accept_all",
    ]


def test_gpc_refuses_third_party_even_when_its_record_cannot_be_written(client, settings):
    """A consent to everything, given before the signal: the signal's record is over the limit,
    and third-party is refused all the same."""
    settings.CONSENT_RATE_LIMIT = "1/h"
    address = roomy_address(rate="1/h", seconds=60)
    Client().get("/", HTTP_SEC_GPC="1", REMOTE_ADDR=address)  # another browser used the limit up
    decide(client, "accept_all")

    state = client.get("/api/consent/", HTTP_SEC_GPC="1", REMOTE_ADDR=address).json()

    assert state["choices"]["third-party"] is False
    assert state["choices"]["first-party"] is True
    assert ConsentRecord.objects.filter(event="gpc").count() == 1
    assert stored(client).choices["third-party"] is True  # what was consented to is kept


def test_a_choice_made_while_sending_gpc_stands_when_the_gpc_record_failed(client, settings):
    settings.CONSENT_RATE_LIMIT = "1/h"
    address = roomy_address(rate="1/h", seconds=60)
    Client().get("/", HTTP_SEC_GPC="1", REMOTE_ADDR=address)

    data = {"action": "accept_all", "surface": "banner", "next": "/"}
    client.post("/consent/", data, HTTP_SEC_GPC="1", REMOTE_ADDR=address)
    state = client.get("/api/consent/", HTTP_SEC_GPC="1", REMOTE_ADDR=address).json()

    assert state["choices"]["third-party"] is True
    assert stored(client).gpc_recorded is True
    record = ConsentRecord.objects.latest("id")
    assert (record.event, record.gpc, record.third_party) == ("accept_all", True, True)


def test_gpc_is_recorded_under_asgi_too(async_client):
    async_to_sync(async_client.get)("/", headers={"Sec-GPC": "1"})

    assert ConsentRecord.objects.get().event == "gpc"


def test_gpc_support_resource(client):
    response = client.get("/.well-known/gpc.json")

    assert response["Content-Type"] == "application/json"
    assert response.json() == {"gpc": True, "lastUpdate": "2026-11-25"}


def test_the_settings_page_shows_the_consent_id_and_time(client):
    decide(client, "custom", **{"first-party": True, "session": True})
    record = ConsentRecord.objects.get()

    page = client.get("/cookie-settings/").content.decode()

    assert str(record.consent_id) in page
    assert record.created_at.strftime("%Y") in page
    assert 'name="first-party" role="switch" checked' in page
    assert 'name="third-party" role="switch" aria' in page
    assert 'value="withdraw"' in page
    assert "both</strong> its party and its lifetime" in page


def test_the_receipt_is_signed_by_the_log_and_matches_the_record(client):
    assert client.get("/cookie-settings/receipt.json").status_code == 404
    decide(client, "accept_all")
    record = ConsentRecord.objects.get()
    integrate()

    response = client.get("/cookie-settings/receipt.json")

    assert response["Content-Disposition"].startswith("attachment;")
    document = response.json()
    assert receipt.verify(document, store.verifier())  # with the public key alone
    assert document["record"]["consent_id"] == str(record.consent_id)
    assert document["record"]["id"] == record.pk
    policy = PolicyVersion.objects.get(language="en", number=2)
    assert document["record"]["policy_sha256"] == policy.content_sha256
    assert all(document["record"][field] for field in ("first_party", "third_party", "session"))


def test_consent_script_is_inert_until_its_categories_are_consented(client):
    inert = client.get("/").content.decode()
    assert 'type="text/plain" data-consent="third-party persistent"' in inert

    decide(client, "custom", **{"third-party": True, "persistent": True})
    live = client.get("/").content.decode()

    assert 'data-consent="third-party persistent" src="/static/demo/chat-widget.js" defer' in live
    assert 'type="text/plain" data-consent' not in live


def test_pages_carry_the_state_for_google_consent_mode(client):
    decide(client, "custom", **{"first-party": True, "session": True})

    page = client.get("/").content.decode()

    state = json.loads(page.split('id="consent-state" type="application/json">')[1].split("<")[0])
    assert state["decided"] is True
    assert state["choices"]["first-party"] is True
    assert page.index('id="consent-state"') < page.index("consent/consent.js")
