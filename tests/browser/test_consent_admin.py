from django.contrib.auth.models import User
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import RegisteredCookie, UnknownCookie
from tests.factories import make_auditor, make_record


def log_in(page, username, password="a-long-test-password", next_url="/admin/"):
    page.goto(f"/admin/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_admin_classifies_an_unknown_cookie_with_one_click(page, seed_policy):
    User.objects.create_superuser("editor", password="a-long-test-password")
    now = timezone.now()
    UnknownCookie.objects.create(name="_fbp", first_seen=now, last_seen=now, count=7)
    log_in(page, "editor", next_url="/admin/consent/unknowncookie/")

    page.get_by_role("button", name="Third-party: _fbp").click()

    expect(page.locator(".messagelist")).to_contain_text("Registered _fbp as Third-party.")
    page.get_by_label("Purpose").fill("Facebook's advertising identifier.")
    page.get_by_label("Declared duration").fill("3 months")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    cookie = RegisteredCookie.objects.get(name="_fbp")
    assert (cookie.cookiegroup.varname, cookie.duration) == ("third-party", "3 months")
    assert not UnknownCookie.objects.exists()


def test_auditor_sees_the_statistics_charts_with_nothing_blocked(page, seed_policy):
    auditor = make_auditor()
    auditor.set_password("a-long-test-password")
    auditor.save()
    make_record(event="accept_all")
    make_record(event="reject_all")
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    log_in(page, "auditor", next_url="/admin/consent/consentrecord/")

    page.get_by_role("link", name="Statistics").click()

    expect(page.get_by_role("img", name="Consent decisions per day")).to_be_visible()
    expect(
        page.get_by_role("img", name="Opt-in rate per category and policy version")
    ).to_be_visible()
    page.get_by_text("The same numbers as a table").first.click()
    table = page.get_by_role("table", name="Consent decisions per day")
    expect(table).to_contain_text("Total")
    page.get_by_role("textbox", name="From").fill("2026-03-10")
    page.get_by_role("textbox", name="To (inclusive)").fill("2026-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".errornote")).to_contain_text("must not be after the end date")
    assert [e for e in errors if "Content Security Policy" in e] == []
