"""axe-core on every public page and our own admin templates: no WCAG 2.0, 2.1 or 2.2 A or AA
violation, in English, German and French, on a phone and a desktop, with the banner shown, with
its preferences open and after a decision."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import Page, expect

from consent.models import UnknownCookie
from tests.factories import make_record

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
PUBLIC_PAGES = [
    "/",
    "/cookie-policy/",
    "/cookie-policy/versions/",
    "/cookie-policy/versions/1/",
    "/cookie-policy/versions/2/changes/",
    "/cookie-settings/",
    "/demo/cookies/",
    "/consent/",
    "/no-such-page/",
]
VIEWPORTS = {"390x844": {"width": 390, "height": 844}, "1280x800": {"width": 1280, "height": 800}}
LOCALES = {"en": "en-GB", "de": "de-DE", "fr": "fr-FR"}
REJECT = {"en": "Reject all", "de": "Alle ablehnen", "fr": "Tout refuser"}

AXE = Axe()

pytestmark = pytest.mark.usefixtures("seed_policy")


def violations(page: Page) -> list[str]:
    results = AXE.run(page, options=OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
    ]


@pytest.fixture(params=list(LOCALES), ids=list(LOCALES))
def language(request):
    return request.param


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def visitor_page(request, browser, live_server, language):
    context = browser.new_context(
        base_url=live_server.url, locale=LOCALES[language], viewport=VIEWPORTS[request.param]
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_with_the_banner_shown_and_its_preferences_open(visitor_page, url):
    page = visitor_page
    page.goto(url)
    assert violations(page) == []

    preferences = page.locator("#consent-banner summary")
    if preferences.count():  # not on the settings page, which is itself the place to choose
        preferences.click()
        expect(page.locator("#consent-banner .consent-save")).to_be_visible()
        assert violations(page) == []


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_after_a_decision(visitor_page, language, url):
    page = visitor_page
    page.goto("/")
    page.locator("#consent-banner").get_by_role("button", name=REJECT[language]).click()
    expect(page.locator("#consent-banner")).to_be_hidden()

    page.goto(url)

    assert violations(page) == []


def test_the_error_pages(page, live_server):
    page.goto("/no-such-page/")
    assert violations(page) == []
    page.set_content("")
    page.goto("/consent/")
    assert violations(page) == []


def log_in_as_admin(page: Page) -> None:
    User.objects.create_superuser("auditor", password="a-long-test-password")
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("auditor")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()


def test_our_admin_and_audit_templates(page):
    for _ in range(3):
        make_record()
    now = timezone.now()
    UnknownCookie.objects.create(
        name="_fbp", first_seen=now, last_seen=now, count=3, example_path="/pricing/"
    )
    log_in_as_admin(page)

    for url in [
        "/admin/consent/consentrecord/",
        "/admin/consent/unknowncookie/",
        "/admin/policy/policyversion/",
        "/audit/verify/",
        "/audit/verify/?since=&until=",
        "/audit/statistics/",
    ]:
        for viewport in VIEWPORTS.values():
            page.set_viewport_size(viewport)
            page.goto(url)
            found = violations(page)
            assert not found, f"{url} at {viewport['width']} px: {found}"


def test_the_consent_records_list_shows_every_column_at_1280(page):
    make_record()
    log_in_as_admin(page)
    page.set_viewport_size(VIEWPORTS["1280x800"])

    page.goto("/admin/consent/consentrecord/")

    table = page.locator("#result_list")
    assert table.locator("thead th").count() >= 11  # the action checkbox and ten columns
    for header in table.locator("thead th").all():
        box = header.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280, header.inner_text()


def test_the_statistics_charts_keep_readable_text_on_a_phone(page):
    make_record()
    log_in_as_admin(page)
    page.set_viewport_size(VIEWPORTS["390x844"])

    page.goto("/audit/statistics/")

    heights = page.locator("svg.chart text").evaluate_all(
        "texts => texts.map(t => t.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 11, heights


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_statistics_legends_show_every_label_in_full(browser, live_server, language):
    """German and French labels are longer than English ones: each legend entry is laid out at
    its own width, inside the page at a phone's width, none cut off or overlapping the next."""
    make_record()
    context = browser.new_context(
        base_url=live_server.url, locale=LOCALES[language], viewport=VIEWPORTS["390x844"]
    )
    page = context.new_page()
    User.objects.create_superuser("auditor", password="a-long-test-password")
    page.goto("/admin/login/")
    page.locator("#id_username").fill("auditor")  # the labels are in the page's language
    page.locator("#id_password").fill("a-long-test-password")
    page.locator("#login-form [type=submit]").click()

    page.goto("/audit/statistics/")

    entries = page.locator(".chart-legend li")
    assert entries.count() == 10  # six events, four categories
    boxes = entries.evaluate_all(
        """items => items.map(li => {
            const box = li.getBoundingClientRect();
            return {text: li.textContent, left: box.left, right: box.right, top: box.top,
                    bottom: box.bottom, clipped: li.scrollWidth > li.clientWidth};
        })"""
    )
    width = page.evaluate("document.documentElement.clientWidth")
    for box in boxes:
        assert box["text"].strip() and not box["clipped"], box
        assert box["left"] >= 0 and box["right"] <= width, box
    for first, second in zip(boxes, boxes[1:], strict=False):
        overlap = first["right"] > second["left"] and first["left"] < second["right"]
        same_line = first["bottom"] > second["top"] and first["top"] < second["bottom"]
        assert not (overlap and same_line), (first, second)
    context.close()
