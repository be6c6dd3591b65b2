from playwright.sync_api import expect


def decide_in_banner(page, button="Reject all"):
    """Answer the consent banner, so that it no longer covers the page."""
    banner = page.get_by_role("dialog", name="Cookies on iPortalis")
    banner.get_by_role("button", name=button).click()
    expect(banner).to_be_hidden()
