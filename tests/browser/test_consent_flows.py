"""The consent banner and settings page in chromium, with JavaScript and without it.

With JavaScript the banner posts to the JSON API and closes without a reload; without it, the very
same buttons post the plain form and the site redirects back to the page. Either way the browser
ends up with the same consent cookie and the database with the same record.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from consent.models import ConsentRecord

BANNER = "Cookies on iPortalis"
OPTIONAL = ("first_party", "third_party", "session", "persistent")
COOKIE = "iportalis_consent"
NECESSARY_COOKIES = {"csrftoken"}


@dataclass
class Visitor:
    context: BrowserContext
    page: Page
    js: bool

    @property
    def banner(self) -> Locator:
        return self.page.get_by_role("dialog", name=BANNER)

    def cookies(self) -> dict[str, dict]:
        return {cookie["name"]: cookie for cookie in self.context.cookies()}

    def press(self, button: Locator, *, back_to: str) -> None:
        """Press a decision button, and wait for the decision to be stored.

        Banner buttons with JavaScript post to the JSON API and the page stays; anything else is a
        plain form post answered by a redirect back to `back_to`.
        """
        in_banner = button.evaluate("el => el.closest('[data-consent-banner]') !== null")
        if self.js and in_banner:
            self.page.evaluate("() => { window.notReloaded = true; }")
            with self.page.expect_response(is_post_to("/api/consent/")) as answer:
                button.click()
            assert answer.value.status == 201
            # Closed in place: the element is still there, hidden.
            expect(self.page.locator("#consent-banner")).to_be_hidden()
            expect(self.page.locator("#consent-banner")).to_have_count(1)
            assert self.page.evaluate("() => window.notReloaded === true"), "the page reloaded"
            return
        with (
            self.page.expect_navigation(),
            self.page.expect_response(is_post_to("/consent/")) as answer,
        ):
            button.click()
        assert answer.value.status == 303
        assert answer.value.headers["location"] == back_to
        assert urlsplit(self.page.url).path == back_to


def is_post_to(path):
    return lambda response: (
        response.request.method == "POST" and urlsplit(response.url).path == path
    )


@pytest.fixture
def page_without_js(browser, live_server):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    yield context.new_page()
    context.close()


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def visitor(request, browser, live_server, seed_policy):
    context = browser.new_context(java_script_enabled=request.param, base_url=live_server.url)
    yield Visitor(context, context.new_page(), request.param)
    context.close()


@pytest.fixture
def js_visitor(page, seed_policy):
    return Visitor(page.context, page, js=True)


def allowed(record: ConsentRecord) -> set[str]:
    """The optional categories the record allows, by field."""
    return {field for field in OPTIONAL if getattr(record, field)}


def open_choices(visitor: Visitor) -> None:
    visitor.banner.locator("summary", has_text="Choose").click()
    expect(visitor.banner.get_by_role("button", name="Save my choices")).to_be_visible()


def switch(scope: Locator | Page, slug: str) -> Locator:
    return scope.locator(f'input[role="switch"][name="{slug}"]')


def choose(visitor: Visitor, *slugs: str) -> None:
    """Open "Choose" in the banner, switch on exactly these categories and save."""
    open_choices(visitor)
    for slug in slugs:
        switch(visitor.banner, slug).check()
    visitor.press(visitor.banner.get_by_role("button", name="Save my choices"), back_to="/")


def saved_by_key(page, key: str) -> ConsentRecord:
    """Press `key` to send the banner's choice, see the banner go and the focus move to <main>,
    and return the one record written."""
    with page.expect_response(is_post_to("/api/consent/")):
        page.keyboard.press(key)
    expect(page.locator("#consent-banner")).to_be_hidden()
    expect(page.locator("#main")).to_be_focused()
    return ConsentRecord.objects.get()


# 1. First visit


def test_first_visit_shows_banner_and_sets_only_necessary_cookies(visitor):
    visitor.page.goto("/")

    expect(visitor.banner).to_be_visible()
    for name in ("Accept all", "Reject all"):
        expect(visitor.banner.get_by_role("button", name=name)).to_be_visible()
    expect(visitor.banner.locator("summary")).to_have_text("Choose")
    assert set(visitor.cookies()) <= NECESSARY_COOKIES
    assert ConsentRecord.objects.count() == 0


def test_banner_switches_start_off_but_necessary(js_visitor):
    js_visitor.page.goto("/")
    open_choices(js_visitor)

    necessary = js_visitor.banner.locator('input[role="switch"]:disabled')
    expect(necessary).to_have_count(1)
    expect(necessary).to_be_checked()
    for slug in ("first-party", "third-party", "session", "persistent"):
        expect(switch(js_visitor.banner, slug)).not_to_be_checked()
        expect(switch(js_visitor.banner, slug)).to_be_enabled()


# 2. Reject all


def test_reject_all_stores_the_refusal(visitor):
    page = visitor.page
    page.goto("/")

    visitor.press(visitor.banner.get_by_role("button", name="Reject all"), back_to="/")

    expect(page.locator("#consent-banner")).to_be_hidden()
    cookie = visitor.cookies()[COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert set(visitor.cookies()) <= NECESSARY_COOKIES | {COOKIE}

    record = ConsentRecord.objects.get()
    assert record.event == "reject_all"
    assert record.surface == "banner"
    assert record.necessary is True
    assert allowed(record) == set()
    assert record.path == "/"

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("iPortalis")
    expect(visitor.banner).to_have_count(0)
    page.goto("/cookie-policy/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cookie Policy")
    expect(visitor.banner).to_have_count(0)
    assert ConsentRecord.objects.count() == 1


# 3. Choose


def test_choose_first_party_and_session(visitor):
    page = visitor.page
    page.goto("/")

    choose(visitor, "first-party", "session")

    record = ConsentRecord.objects.get()
    assert record.event == "custom"
    assert record.surface == "banner"
    assert record.path == "/"
    assert allowed(record) == {"first_party", "session"}

    page.goto("/cookie-settings/")
    expect(page.locator("[data-consent-allowed]")).to_have_text(
        "Strictly necessary, First-party, Session"
    )
    expect(page.locator("[data-consent-id]")).to_have_text(str(record.consent_id))
    settings = page.locator("form[data-consent-settings]")
    expect(switch(settings, "first-party")).to_be_checked()
    expect(switch(settings, "session")).to_be_checked()
    expect(switch(settings, "third-party")).not_to_be_checked()
    expect(switch(settings, "persistent")).not_to_be_checked()


# 4. Withdraw on the settings page


def test_settings_page_withdraws_consent_in_one_click(visitor):
    page = visitor.page
    page.goto("/")
    visitor.press(visitor.banner.get_by_role("button", name="Accept all"), back_to="/")
    accepted = ConsentRecord.objects.get()
    assert accepted.event == "accept_all"
    assert allowed(accepted) == set(OPTIONAL)

    page.goto("/cookie-settings/")
    expect(page.locator("[data-consent-allowed]")).to_have_text(
        "Strictly necessary, First-party, Third-party, Session, Persistent"
    )
    visitor.press(
        page.get_by_role("button", name="Withdraw all consent"), back_to="/cookie-settings/"
    )

    withdrawn = ConsentRecord.objects.exclude(pk=accepted.pk).get()
    assert withdrawn.event == "withdraw"
    assert withdrawn.surface == "settings"
    assert withdrawn.path == "/cookie-settings/"
    assert withdrawn.consent_id == accepted.consent_id
    assert allowed(withdrawn) == set()
    assert ConsentRecord.objects.count() == 2

    expect(page.locator("[data-consent-allowed]")).to_have_text("Strictly necessary")
    expect(page.locator("[data-consent-id]")).to_have_text(str(accepted.consent_id))
    expect(page.get_by_role("button", name="Withdraw all consent")).to_have_count(0)
    settings = page.locator("form[data-consent-settings]")
    for slug in ("first-party", "third-party", "session", "persistent"):
        expect(switch(settings, slug)).not_to_be_checked()
    # Withdrawing is a decision: the banner does not ask again.
    page.goto("/")
    expect(visitor.banner).to_have_count(0)


# 5. Keyboard only


def tab_to(page: Page, target: Locator, limit: int = 12) -> None:
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    expect(target).to_be_focused()


def open_preferences_by_keyboard(visitor: Visitor) -> tuple[Page, Locator]:
    """Load the home page and open the banner's second layer with the keyboard alone."""
    page, banner = visitor.page, visitor.banner
    page.goto("/")
    tab_to(page, banner.locator("summary"))
    page.keyboard.press("Enter")
    return page, banner


def focus_in_banner(page: Page) -> bool:
    return page.evaluate(
        "() => document.getElementById('consent-banner').contains(document.activeElement)"
    )


def test_keyboard_reaches_and_presses_accept_all(js_visitor):
    page = js_visitor.page
    page.goto("/")
    # The skip link is the first tab stop; the banner, in the page's flow, comes right after it.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    assert focus_in_banner(page)

    accept = js_visitor.banner.get_by_role("button", name="Accept all")
    tab_to(page, accept, limit=4)
    record = saved_by_key(page, "Enter")
    assert record.event == "accept_all"
    assert allowed(record) == set(OPTIONAL)


def test_keyboard_chooses_with_space_and_enter(js_visitor):
    page, banner = open_preferences_by_keyboard(js_visitor)
    save = banner.get_by_role("button", name="Save my choices")
    expect(save).to_be_visible()
    for slug in ("first-party", "persistent"):
        tab_to(page, switch(banner, slug))
        page.keyboard.press("Space")
        expect(switch(banner, slug)).to_be_checked()
    tab_to(page, save)
    record = saved_by_key(page, "Space")
    assert record.event == "custom"
    assert allowed(record) == {"first_party", "persistent"}


def test_escape_rejects_all_and_keeps_focus(js_visitor):
    page = js_visitor.page
    page.goto("/")
    expect(js_visitor.banner).to_be_visible()

    # Focus goes back to what had it before the banner took it (nothing here), else to <main>.
    record = saved_by_key(page, "Escape")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "main"
    expect(page.get_by_role("status")).to_have_text("Your cookie choices are saved.")
    assert record.event == "reject_all"
    assert record.surface == "banner"
    assert record.path == "/"
    assert allowed(record) == set()
    assert js_visitor.cookies()[COOKIE]["httpOnly"] is True


def test_escape_in_the_preferences_goes_back_to_the_first_layer(js_visitor):
    page, banner = open_preferences_by_keyboard(js_visitor)
    tab_to(page, switch(banner, "first-party"))

    page.keyboard.press("Escape")

    expect(banner.get_by_role("button", name="Save my choices")).to_be_hidden()
    expect(banner.locator("summary")).to_be_focused()
    assert not ConsentRecord.objects.exists()
    with page.expect_response(is_post_to("/api/consent/")):
        page.keyboard.press("Escape")  # now on the first layer: Reject all
    assert ConsentRecord.objects.get().event == "reject_all"


def test_back_in_the_preferences_returns_to_the_first_layer(js_visitor):
    banner = js_visitor.banner
    js_visitor.page.goto("/")
    open_choices(js_visitor)

    banner.get_by_role("button", name="Back").click()

    expect(banner.get_by_role("button", name="Save my choices")).to_be_hidden()
    expect(banner.locator("summary")).to_be_focused()
    assert not ConsentRecord.objects.exists()


def test_escape_after_deciding_records_nothing_more(js_visitor):
    page = js_visitor.page
    page.goto("/")
    js_visitor.press(js_visitor.banner.get_by_role("button", name="Accept all"), back_to="/")

    page.keyboard.press("Escape")
    page.reload()
    page.keyboard.press("Escape")

    expect(js_visitor.banner).to_have_count(0)
    assert list(ConsentRecord.objects.values_list("event", flat=True)) == ["accept_all"]


# Robustness of the banner script


def test_one_decision_per_banner_even_if_pressed_twice(js_visitor):
    """Esc or a second click while the first decision is still on its way records nothing more."""
    page = js_visitor.page
    held = []

    def hold(route):
        held.append(route)

    page.route("**/api/consent/", hold)
    page.goto("/")

    js_visitor.banner.get_by_role("button", name="Accept all").click()
    page.keyboard.press("Escape")
    js_visitor.banner.get_by_role("button", name="Reject all").click()
    page.wait_for_timeout(300)
    assert [route.request.post_data_json["action"] for route in held] == ["accept_all"]

    with page.expect_response(is_post_to("/api/consent/")):
        held[0].continue_()
    expect(page.locator("#consent-banner")).to_be_hidden()
    assert list(ConsentRecord.objects.values_list("event", flat=True)) == ["accept_all"]


def test_banner_falls_back_to_the_form_when_the_api_fails(js_visitor):
    page = js_visitor.page

    def fail(route):
        route.abort()

    page.route("**/api/consent/", fail)
    page.goto("/")

    with (
        page.expect_navigation(),
        page.expect_response(is_post_to("/consent/")) as answer,
    ):
        js_visitor.banner.get_by_role("button", name="Reject all").click()

    assert answer.value.status == 303
    assert answer.value.headers["location"] == "/"
    expect(page.locator("#consent-banner")).to_have_count(0)
    record = ConsentRecord.objects.get()
    assert (record.event, record.surface, record.path) == ("reject_all", "banner", "/")
    assert js_visitor.cookies()[COOKIE]["httpOnly"] is True


def test_banner_keeps_the_choice_and_retries_while_the_site_cannot_store_it(js_visitor):
    """A 503 (the database is away) leaves the banner open with a note, and the same decision is
    sent again after Retry-After, without the visitor doing anything."""
    page = js_visitor.page
    sent = []

    def unavailable_once(route):
        sent.append(route.request.post_data_json)
        if len(sent) == 1:
            route.fulfill(
                status=503,
                headers={"Retry-After": "1"},
                json={"error": "We cannot reach our database for a moment."},
            )
        else:
            route.continue_()

    page.route("**/api/consent/", unavailable_once)
    page.goto("/")
    js_visitor.banner.get_by_role("button", name="Accept all").click()

    expect(js_visitor.banner.get_by_role("alert")).to_contain_text("not saved yet")
    assert not ConsentRecord.objects.exists()
    with page.expect_response(is_post_to("/api/consent/")) as answer:
        pass  # the retry, a second later
    assert answer.value.status == 201
    expect(page.locator("#consent-banner")).to_be_hidden()
    assert sent[0] == sent[1]
    assert list(ConsentRecord.objects.values_list("event", flat=True)) == ["accept_all"]
    assert COOKIE in js_visitor.cookies()


def test_a_click_while_waiting_to_retry_sends_the_newer_choice_at_once(js_visitor):
    page = js_visitor.page
    sent = []

    def unavailable_once(route):
        sent.append(route.request.post_data_json["action"])
        if len(sent) == 1:
            route.fulfill(status=503, headers={"Retry-After": "60"}, json={"error": "later"})
        else:
            route.continue_()

    page.route("**/api/consent/", unavailable_once)
    page.goto("/")
    js_visitor.banner.get_by_role("button", name="Accept all").click()
    expect(js_visitor.banner.get_by_role("alert")).to_be_visible()

    with page.expect_response(is_post_to("/api/consent/")):
        js_visitor.banner.get_by_role("button", name="Reject all").click()

    expect(page.locator("#consent-banner")).to_be_hidden()
    assert sent == ["accept_all", "reject_all"]
    assert list(ConsentRecord.objects.values_list("event", flat=True)) == ["reject_all"]


# 6. Scripts waiting for consent, and Google Consent Mode


DENIED = {
    "analytics_storage": "denied",
    "functionality_storage": "denied",
    "personalization_storage": "denied",
    "ad_storage": "denied",
    "ad_user_data": "denied",
    "ad_personalization": "denied",
    "security_storage": "granted",
}
GRANTED = dict.fromkeys(DENIED, "granted")


def data_layer(page: Page) -> list[list]:
    return page.evaluate("() => window.dataLayer.map(a => Array.from(a))")


def test_accept_all_activates_waiting_script_and_updates_consent_mode(js_visitor):
    page = js_visitor.page
    page.goto("/")
    widget = page.locator("#demo-widget")
    expect(widget).to_have_attribute("data-demo-widget", "inert")
    assert data_layer(page) == [["consent", "default", DENIED]]

    js_visitor.press(js_visitor.banner.get_by_role("button", name="Accept all"), back_to="/")

    expect(widget).to_have_attribute("data-demo-widget", "loaded")
    expect(widget).to_have_text("The chat widget is loaded.")
    assert data_layer(page) == [["consent", "default", DENIED], ["consent", "update", GRANTED]]

    page.reload()
    expect(widget).to_have_attribute("data-demo-widget", "loaded")
    assert data_layer(page) == [["consent", "default", DENIED], ["consent", "update", GRANTED]]


def test_partial_consent_keeps_waiting_script_inert(js_visitor):
    page = js_visitor.page
    page.goto("/")
    choose(js_visitor, "first-party", "session")

    first_party_only = {**DENIED, "analytics_storage": "granted"}
    first_party_only |= {"functionality_storage": "granted", "personalization_storage": "granted"}
    assert data_layer(page) == [
        ["consent", "default", DENIED],
        ["consent", "update", first_party_only],
    ]
    expect(page.locator("#demo-widget")).to_have_attribute("data-demo-widget", "inert")
    assert page.locator('script[type="text/plain"][data-consent]').count() == 1

    page.reload()
    expect(page.locator("#demo-widget")).to_have_attribute("data-demo-widget", "inert")
    assert data_layer(page) == [
        ["consent", "default", DENIED],
        ["consent", "update", first_party_only],
    ]


def test_no_consent_mode_update_before_a_decision(js_visitor):
    page = js_visitor.page
    page.goto("/")
    page.reload()
    assert data_layer(page) == [["consent", "default", DENIED]]
    expect(page.locator("#demo-widget")).to_have_attribute("data-demo-widget", "inert")


# Layout


@pytest.mark.parametrize("width", [1280, 390])
def test_banner_buttons_stay_equal_with_choose_open(js_visitor, width):
    page = js_visitor.page
    page.set_viewport_size({"width": width, "height": 844})
    page.goto("/")
    banner = js_visitor.banner
    buttons = [
        banner.get_by_role("button", name="Accept all"),
        banner.get_by_role("button", name="Reject all"),
        banner.locator("summary"),
    ]

    def sizes():
        return {(round(box["width"]), round(box["height"])) for box in map(box_of, buttons)}

    assert len(sizes()) == 1, sizes()
    banner.locator("summary").click()
    assert len(sizes()) == 1, sizes()
    switches = box_of(banner.locator("fieldset"))
    form = box_of(banner.locator("form"))
    assert switches["x"] >= form["x"] - 1
    assert switches["x"] + switches["width"] <= form["x"] + form["width"] + 1
    assert page.evaluate("() => document.documentElement.scrollWidth") == width


def box_of(locator: Locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box


# 7. Without JavaScript (also covered by the no-js variants above)


def test_without_javascript_banner_is_a_plain_form(page_without_js, seed_policy):
    page = page_without_js
    page.goto("/")
    banner = page.get_by_role("dialog", name=BANNER)
    expect(banner).to_be_visible()
    form = banner.locator("form")
    expect(form).to_have_attribute("method", "post")
    expect(form).to_have_attribute("action", "/consent/")
    # The widget waits: no script runs, and it is not served as a script either.
    expect(page.locator("#demo-widget")).to_have_attribute("data-demo-widget", "inert")
