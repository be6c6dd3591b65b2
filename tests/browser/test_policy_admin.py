from django.contrib.auth.models import User
from playwright.sync_api import expect

from policy.models import PolicyVersion

from .helpers import decide_in_banner


def run_action(page, row_text, action):
    page.locator("#result_list tr", has_text=row_text).locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    page.get_by_role("button", name="Go").click()


def test_admin_clones_edits_and_publishes_version_3_in_the_browser(page, seed_policy):
    User.objects.create_superuser("editor", password="a-long-test-password")
    page.goto("/admin/login/?next=/admin/policy/policyversion/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()

    run_action(page, "Cookie Policy v2 (en)", "clone_to_draft")
    page.get_by_role("link", name="edit it").click()
    body = page.locator("textarea[name=body]")
    body.fill(body.input_value().replace("small piece of data", "small text file"))
    page.locator("textarea[name=summary]").fill("A plainer definition of a cookie.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    run_action(page, "(draft, en)", "publish")
    expect(page.locator(".diff ins")).to_contain_text("small text file")
    expect(page.locator("#content-main")).to_contain_text("Material: every visitor is asked")
    page.get_by_role("button", name="Yes, publish").click()
    expect(page.locator(".messagelist")).to_contain_text("Published 1 version.")

    page.goto("/cookie-policy/")
    decide_in_banner(page)
    expect(page.locator(".policy-meta")).to_contain_text("Version 3")
    expect(page.locator(".policy-body")).to_contain_text("A cookie is a small text file")
    page.get_by_role("link", name="What changed in this version").click()
    expect(page.locator(".diff ins")).to_contain_text("small text file")
    expect(page.locator(".diff del")).to_contain_text("small piece of data")
    expect(page.locator("main")).to_contain_text("A plainer definition of a cookie.")

    page.goto("/cookie-policy/versions/2/")
    expect(page.locator(".policy-body")).to_contain_text("A cookie is a small piece of data")
    assert PolicyVersion.objects.get(pk=seed_policy.pk).content_sha256 == seed_policy.content_sha256
