"""Pages around the edges: a failed CSRF check, a 500, GET /consent/, robots.txt, the icon."""

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db

DECISION = {"action": "custom", "surface": "banner", "next": "/cookie-policy/", "session": "on"}


def test_a_decision_without_its_csrf_cookie_gets_our_page_and_can_be_sent_again():
    browser_blocking_cookies = Client(enforce_csrf_checks=True)

    response = browser_blocking_cookies.post("/consent/", DECISION)

    html = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Your choice was not saved</h1>" in html
    assert "cookies are blocked for this site" in html
    assert 'href="/static/css/site.css"' in html
    assert "<style" not in html  # our CSP would block it
    assert "consent-banner" not in html
    retry = html[html.index("data-consent-retry-form") :].split("</form>")[0]
    assert 'name="csrfmiddlewaretoken"' in retry
    assert '<input type="hidden" name="action" value="custom">' in retry
    assert '<input type="hidden" name="session" value="on">' in retry
    assert '<input type="hidden" name="next" value="/cookie-policy/">' in retry
    assert '<a href="/cookie-policy/">Back to the page you were on</a>' in html


def test_the_csrf_page_is_translated_and_never_links_off_site():
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/consent/",
        {**DECISION, "next": "https://evil.example/"},
        headers={"accept-language": "de"},
    )

    html = response.content.decode()
    assert "Ihre Auswahl wurde nicht gespeichert" in html
    assert "evil.example" not in html
    assert '<input type="hidden" name="next" value="/">' in html


def test_the_api_still_gets_json_from_a_failed_csrf_check():
    response = Client(enforce_csrf_checks=True).post(
        "/api/consent/", {"action": "reject_all"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"


def test_get_consent_says_where_choices_are_made(client):
    response = client.get("/consent/")

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert 'href="/cookie-settings/"' in response.content.decode()


def test_the_500_page_stands_alone_and_looks_like_the_site():
    response = server_error(RequestFactory().get("/"))

    html = response.content.decode()
    assert response.status_code == 500
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'href="/static/css/site.css"' in html
    assert '<main id="main" class="wrap">' in html
    assert "consent-banner" not in html


def test_robots_txt_keeps_crawlers_out_of_private_paths(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "Disallow: /admin/" in response.content.decode()


def test_pages_name_an_icon_and_favicon_ico_leads_to_it(client):
    html = client.get("/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert '<meta name="description" content="' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.headers["Location"] == "/static/favicon.svg"


def test_a_stale_token_gets_the_page_without_a_new_token(client):
    client.get("/")  # the visitor has a CSRF cookie
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies

    response = strict.post("/consent/", {**DECISION, "csrfmiddlewaretoken": "x" * 32})

    assert response.status_code == 403
    assert "The form was too old" in response.content.decode()
    assert "csrfmiddlewaretoken" not in response.content.decode()
    assert "csrftoken" not in response.cookies
