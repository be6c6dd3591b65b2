"""The browser's own cookie jar after the demo page: what enforcement lets through, in chromium."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page

from tests.browser.helpers import decide_in_banner

DEMO = "/demo/cookies/"
DEMO_COOKIES = {"_pk_id.1.d3m0", "django_language", "hubspotutk"}
UNREGISTERED = "demo_unregistered"  # the demo sets it too; the registry does not know it
HUBSPOT = "js.hs-scripts.com"

pytestmark = pytest.mark.usefixtures("seed_policy")


def jar(page: Page) -> dict[str, dict]:
    return {cookie["name"]: cookie for cookie in page.context.cookies()}


def save_on_settings_page(page: Page, *slugs: str) -> None:
    page.goto("/cookie-settings/")
    form = page.locator("form[data-consent-settings]")
    for switch in form.locator('input[role="switch"]:not([disabled])').all():
        switch.set_checked(switch.get_attribute("name") in slugs)
    with page.expect_navigation():
        form.get_by_role("button", name="Save my choices").click()


def test_a_first_visit_leaves_only_necessary_cookies_in_the_jar(page):
    response = page.goto(DEMO)

    assert set(jar(page)) == {"csrftoken"}
    assert HUBSPOT not in response.headers["content-security-policy"]


def test_accepting_all_lets_the_demo_cookies_in_and_the_services_hosts_into_the_csp(page):
    page.goto("/")
    decide_in_banner(page, "Accept all")

    response = page.goto(DEMO)

    cookies = jar(page)
    assert set(cookies) >= DEMO_COOKIES
    assert UNREGISTERED not in cookies
    assert cookies["_pk_id.1.d3m0"]["expires"] > time.time() + 300 * 24 * 3600
    assert cookies["hubspotutk"]["expires"] > time.time() + 300 * 24 * 3600
    assert HUBSPOT in response.headers["content-security-policy"]


def test_withdrawing_empties_the_jar_of_everything_but_necessary_cookies(page):
    page.goto("/")
    decide_in_banner(page, "Accept all")
    page.goto(DEMO)

    page.goto("/cookie-settings/")
    with page.expect_navigation():
        page.get_by_role("button", name="Withdraw all consent").click()

    assert set(jar(page)) == {"csrftoken", "iportalis_consent"}
    page.goto(DEMO)
    assert page.locator("#readable-cookies").inner_text() == "csrftoken\niportalis_consent"


def test_without_persistent_consent_the_analytics_cookie_dies_with_the_session(page):
    page.goto("/")
    decide_in_banner(page, "Accept all")
    page.goto(DEMO)

    save_on_settings_page(page, "first-party", "session")
    page.goto(DEMO)

    cookies = jar(page)
    assert cookies["_pk_id.1.d3m0"]["expires"] == -1  # a session cookie
    assert cookies["django_language"]["expires"] == -1
    assert "hubspotutk" not in cookies


def test_an_unregistered_cookie_is_never_set_even_after_accept_all(page):
    page.goto(DEMO)
    decide_in_banner(page, "Accept all")
    for _ in range(2):
        page.goto(DEMO)
        assert UNREGISTERED not in jar(page)

    # A script may still write it: the site hides it from its own code and expires it.
    page.evaluate(f"document.cookie = '{UNREGISTERED}=from-a-script; path=/'")
    page.goto(DEMO)
    assert UNREGISTERED not in page.locator("#readable-cookies").inner_text()
    assert UNREGISTERED not in jar(page)
