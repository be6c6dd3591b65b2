"""Take the README's screenshots from a running site: `python docs/screenshots.py [base URL]`."""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent / "screenshots"
PAGES = {"policy": "/cookie-policy/", "versions": "/cookie-policy/versions/"}
WIDTHS = {"desktop": (1280, 900), "mobile": (390, 844)}

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    for device, (width, height) in WIDTHS.items():
        page = browser.new_page(viewport={"width": width, "height": height})
        for name, path in PAGES.items():
            page.goto(BASE_URL + path)
            page.screenshot(path=OUT / f"{name}-{device}.png")
        page.close()
    browser.close()
