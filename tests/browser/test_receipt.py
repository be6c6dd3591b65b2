"""The receipt on the settings page, in chromium: a plain download link, a note while the decision
is not in the log yet, and (with JavaScript) the note follows the log until it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from consent.log import receipt, store
from consent.log.models import LogLeaf
from tests.factories import integrate_committed

LINK = "Download a receipt of your decision"


def integrate_record(record_id):
    integrate_committed()
    assert LogLeaf.objects.filter(source="record", ref=record_id).exists()


def download(page):
    with page.expect_download() as started:
        page.get_by_role("link", name=LINK).click()
    return json.loads(Path(started.value.path()).read_text(encoding="utf-8"))


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_the_settings_page_offers_the_receipt_and_follows_it_into_the_log(
    browser, live_server, seed_policy, js
):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=js, accept_downloads=True
    )
    page = context.new_page()
    page.goto("/cookie-settings/")
    form = page.locator("form[data-consent-settings]")
    with page.expect_navigation():
        form.get_by_role("button", name="Accept all").click()
    status = page.locator("[data-consent-receipt-status]")
    expect(status).to_contain_text("not in the signed log yet")

    pending = download(page)
    assert pending["log"]["integrated"] is False
    receipt.verify(pending, store.verifier())

    integrate_record(pending["record"]["id"])

    if js:  # the page asks again and says so, without a reload
        expect(status).to_contain_text("now in the signed log", timeout=20_000)
    else:
        page.reload()
        expect(status).to_have_count(0)
    proved = download(page)
    assert "inclusion_proof" in proved["log"]
    assert proved["record"] == pending["record"]
    assert receipt.verify(proved, store.verifier())
    context.close()
