import pytest
from playwright.sync_api import expect

from .helpers import decide_in_banner


def test_cookie_policy_page_shows_version_2_with_its_hash(page, live_server, seed_policy):
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/cookie-policy/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Cookie Policy")
    expect(page.locator(".policy-meta")).to_contain_text("Version 2")
    expect(page.locator(".policy-meta")).to_contain_text("1 December 2026")
    expect(page.locator("code.hash")).to_have_text(seed_policy.content_sha256)
    expect(page.get_by_role("heading", name="What is a Cookie?")).to_be_visible()
    footer = page.locator("footer.site-footer")
    expect(footer.get_by_role("link", name="Cookie settings")).to_have_attribute(
        "href", "/cookie-settings/"
    )
    # Our stylesheet applied, and nothing came from another host.
    background = page.locator("footer.site-footer").evaluate(
        "el => getComputedStyle(el).backgroundColor"
    )
    assert background == "rgb(243, 245, 248)"
    assert requested
    assert all(url.startswith(live_server.url) for url in requested), requested


def test_visitor_finds_every_version_and_what_changed(page, seed_policy):
    page.goto("/cookie-policy/")
    decide_in_banner(page)
    page.get_by_role("link", name="All versions").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Cookie policy versions")
    page.get_by_role("link", name="What changed").first.click()

    assert page.url.endswith("/cookie-policy/versions/2/changes/")
    expect(page.locator(".diff del").first).to_contain_text("By using the service you consent")


@pytest.mark.parametrize(
    ("locale", "title", "date"),
    [
        ("en-GB", "Cookie Policy", "1 December 2026"),
        ("de-DE", "Cookie-Richtlinie", "1. Dezember 2026"),
        ("fr-FR", "Politique relative aux cookies", "1 décembre 2026"),
    ],
)
def test_the_policy_follows_the_browsers_language(
    browser, live_server, seed_policy, locale, title, date
):
    context = browser.new_context(base_url=live_server.url, locale=locale)
    page = context.new_page()
    page.goto("/cookie-policy/")

    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".policy-meta")).to_contain_text("2")
    expect(page.locator(".policy-meta")).to_contain_text(date)
    expect(page.locator("#cookies-in-use")).to_contain_text("hubspotutk")
    context.close()


def test_a_visitor_switches_the_policys_language_by_link(page, seed_policy):
    page.goto("/cookie-policy/")
    decide_in_banner(page)

    page.locator(".policy-languages").get_by_role("link", name="Deutsch").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Cookie-Richtlinie")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("link", name="Alle Versionen").click()
    assert page.url.endswith("/cookie-policy/versions/?lang=de")
