"""The banner's layout and words in chromium: it hides nothing, stays compact on a phone, keeps
its save action in view, and says what each combination of switches allows."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_consent_cookie

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
PUBLIC_PAGES = ["/", "/cookie-policy/", "/cookie-policy/versions/", "/demo/cookies/"]

pytestmark = pytest.mark.usefixtures("seed_policy")


def banner(page: Page):
    return page.get_by_role("dialog", name="Cookies on iPortalis")


def open_preferences(page: Page) -> None:
    banner(page).locator("summary").click()
    expect(banner(page).get_by_role("button", name="Save my choices")).to_be_visible()


def visible_words(page: Page, scope: str) -> str:
    return page.locator(f"{scope} [data-allows]:not([hidden])").inner_text()


@pytest.mark.parametrize("asked_again", [False, True], ids=["first-visit", "asked-again"])
@pytest.mark.parametrize("locale", ["en-GB", "de-DE", "fr-FR"])
def test_on_a_phone_the_first_layer_takes_at_most_40_percent_of_the_screen(
    browser, live_server, locale, asked_again
):
    context = browser.new_context(base_url=live_server.url, locale=locale, viewport=PHONE)
    if asked_again:
        old = make_consent_cookie("first-party", "session", policy_version=1)
        context.add_cookies([{"name": "iportalis_consent", "value": old, "url": live_server.url}])
    page = context.new_page()
    page.goto("/cookie-policy/")

    box = page.locator("#consent-banner").bounding_box()
    assert box is not None
    assert box["height"] <= 0.4 * PHONE["height"], box
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_the_save_action_stays_in_view_while_the_preferences_scroll(page, viewport):
    page.set_viewport_size(viewport)
    page.goto("/")
    open_preferences(page)
    save = banner(page).get_by_role("button", name="Save my choices")

    for slug in ("first-party", "third-party", "session", "persistent"):
        box = banner(page).locator(f'input[name="{slug}"]')
        box.scroll_into_view_if_needed()
        assert fully_in_view(page, save), slug
    # One scroll region, the page: the banner itself never scrolls inside.
    assert page.evaluate(
        "() => { const b = document.getElementById('consent-banner');"
        " return b.scrollHeight <= b.clientHeight + 1; }"
    )


def fully_in_view(page: Page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"] + 0.5
        and box["x"] + box["width"] <= size["width"] + 0.5
    )


FOCUSED_IS_VISIBLE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const r = el.getBoundingClientRect();
    const inView = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5
        && r.right <= innerWidth + 0.5;
    // Nothing painted over any of its corners or its middle (the save bar, for one).
    const points = [[r.left + 1, r.top + 1], [r.right - 1, r.top + 1], [r.left + 1, r.bottom - 1],
                    [r.right - 1, r.bottom - 1], [(r.left + r.right) / 2, (r.top + r.bottom) / 2]];
    const covered = points.some(([x, y]) => {
        const top = document.elementFromPoint(x, y);
        return top && !(el === top || el.contains(top) || top.contains(el)
            || top.htmlFor === el.id);
    });
    return {inView, covered, what: el.outerHTML.slice(0, 80)};
}"""


def tab_through(page: Page) -> list[dict]:
    """Press Tab until focus comes back to the start; return what each stop looked like."""
    seen, stops = set(), []
    for _ in range(80):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED_IS_VISIBLE)
        if stop is None:
            continue
        if stop["what"] in seen:
            break
        seen.add(stop["what"])
        stops.append(stop)
    return stops


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_every_focused_element_is_fully_visible_with_the_banner_shown(page, viewport, url):
    page.set_viewport_size(viewport)
    page.goto(url)
    expect(banner(page)).to_be_visible()

    stops = tab_through(page)

    assert len(stops) > 5
    assert stops[0]["what"].startswith('<a class="skip-link"')
    hidden = [stop for stop in stops if not stop["inView"] or stop["covered"]]
    assert hidden == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_no_focused_switch_is_hidden_by_the_save_bar(page, viewport):
    page.set_viewport_size(viewport)
    page.goto("/")
    open_preferences(page)
    banner(page).locator("summary").focus()

    stops = tab_through(page)

    assert any('role="switch"' in stop["what"] for stop in stops)
    assert [stop for stop in stops if not stop["inView"] or stop["covered"]] == []


def test_the_banner_says_what_each_combination_allows(page):
    page.goto("/")
    open_preferences(page)
    summary = ".consent-banner .consent-allows-summary"
    details = ".consent-banner .consent-allows"
    assert visible_words(page, summary) == "Only strictly necessary cookies."

    banner(page).locator('input[name="first-party"]').check()
    assert visible_words(page, summary) == "Nothing yet: also choose Session or Persistent."

    banner(page).locator('input[name="session"]').check()
    assert "3 cookies besides strictly necessary ones, from iPortalis" in visible_words(
        page, summary
    )
    listed = visible_words(page, details)
    assert "_pk_id.* (as a session cookie)" in listed
    assert "hubspotutk" not in listed

    banner(page).locator('input[name="first-party"]').uncheck()
    banner(page).locator('input[name="third-party"]').check()
    banner(page).locator('input[name="persistent"]').check()
    listed = visible_words(page, details)
    assert "HubSpot, Inc.: " in listed and "__hssrc (session)" in listed
    assert "hubspotutk (persistent)" in listed
    assert "Intercom, Inc.: " in listed
    assert "_pk_id" not in listed


def test_the_settings_page_says_what_the_switches_allow(page, live_server):
    page.context.add_cookies(
        [
            {
                "name": "iportalis_consent",
                "value": make_consent_cookie("first-party", "session", "persistent"),
                "url": live_server.url,
            }
        ]
    )
    page.goto("/cookie-settings/")
    summary = "form[data-consent-settings] .consent-allows-summary"
    assert "from iPortalis" in visible_words(page, summary)
    assert "_pk_id.* (persistent)" in visible_words(
        page, "form[data-consent-settings] .consent-allows"
    )

    page.locator("#consent-session-settings").uncheck()
    page.locator("#consent-persistent-settings").uncheck()

    assert visible_words(page, summary) == "Nothing yet: also choose Session or Persistent."


def test_without_javascript_the_words_are_those_of_the_switches_as_rendered(browser, live_server):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto("/")
    banner(page).locator("summary").click()

    assert visible_words(page, ".consent-banner .consent-allows-summary") == (
        "Only strictly necessary cookies."
    )
    expect(banner(page).get_by_role("button", name="Save my choices")).to_be_visible()
    expect(banner(page).get_by_role("button", name="Back")).to_be_hidden()
    context.close()


def test_the_reconsent_banner_links_to_what_changed(page, live_server):
    page.context.add_cookies(
        [
            {
                "name": "iportalis_consent",
                "value": make_consent_cookie("first-party", "session", policy_version=1),
                "url": live_server.url,
            }
        ]
    )
    page.goto("/")

    link = banner(page).get_by_role("link", name="What changed in version 2")
    expect(link).to_have_attribute("href", "/cookie-policy/versions/2/changes/")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What changed in version 2")
