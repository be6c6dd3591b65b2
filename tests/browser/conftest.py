"""Playwright driving Debian's chromium against Django's live server."""

import os
from pathlib import Path

import pytest

from policy.models import PUBLISHED

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags chromium keeps trying to reach Google's hosts, which
# this closed network refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


# Per module, not per session: Playwright's event loop runs in the test thread while the browser is
# open, and later tests that call async_to_sync (the ASGI ones) must not find it there.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Browser tests must run in CI: install Debian's chromium.")
        pytest.skip("Debian's chromium is not installed (./dev test installs it when run as root).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django then refuses the test's
    # own ORM calls as "async". They are not: the loop only waits for the browser.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def seed_policy(migrated_db):
    """The registry and the published versions as the migrations made them (live-server tests
    start from an emptied database); return the current English version."""
    return PUBLISHED.get().current("en")


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()
