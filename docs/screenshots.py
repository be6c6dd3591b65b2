"""Take the README's screenshots from a running site: `python docs/screenshots.py [base URL]`.

Each width starts as a first-time visitor: the banner, then the banner with "Choose" open; then it
allows first-party and session cookies (one consent record per width in the site's database), so
that the policy pages show without the banner and the settings page shows a decision.
"""

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent / "screenshots"
PAGES = {
    "policy": "/cookie-policy/",
    "versions": "/cookie-policy/versions/",
    "settings": "/cookie-settings/",
}
WIDTHS = {"desktop": (1280, 900), "mobile": (390, 844)}
CHOSEN = ("first-party", "session")

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    for device, (width, height) in WIDTHS.items():
        # A fresh context: no consent cookie, so the banner shows.
        context = browser.new_context(
            base_url=BASE_URL, viewport={"width": width, "height": height}
        )
        page = context.new_page()
        page.goto("/")
        banner = page.get_by_role("dialog", name="Cookies on iPortalis")
        expect(banner).to_be_visible()
        page.screenshot(path=OUT / f"banner-{device}.png")

        banner.locator("summary").click()
        save = banner.get_by_role("button", name="Save my choices")
        expect(save).to_be_visible()
        page.screenshot(path=OUT / f"banner-choose-{device}.png")

        for slug in CHOSEN:
            banner.locator(f'input[role="switch"][name="{slug}"]').check()
        save.click()
        expect(banner).to_be_hidden()

        for name, path in PAGES.items():
            page.goto(path)
            page.screenshot(path=OUT / f"{name}-{device}.png")
        context.close()
    browser.close()
