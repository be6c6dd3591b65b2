import datetime
import io
import json
import uuid
import zipfile

import pytest
from cookie_consent.models import CookieGroup
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.admin.records import EstimatedCountPaginator
from consent.categories import all_refused
from consent.enforcement.registry import get_registry
from consent.log.integration import integrate
from consent.log.models import LogLeaf
from consent.models import ConsentRecord, RegisteredCookie, Service, UnknownCookie
from consent.roles import as_owner
from tests.factories import make_record, make_staff, make_unknown
from tests.helpers import cookie_form

pytestmark = pytest.mark.django_db

ADMIN = "/admin"
CATEGORIES = f"{ADMIN}/cookie_consent/cookiegroup/"
COOKIES = f"{ADMIN}/consent/registeredcookie/"
SERVICES = f"{ADMIN}/consent/service/"
UNKNOWN = f"{ADMIN}/consent/unknowncookie/"
RECORDS = f"{ADMIN}/consent/consentrecord/"


# Categories


def test_the_five_categories_are_listed_and_cannot_be_added_or_deleted(admin_client):
    page = admin_client.get(CATEGORIES).content.decode()
    for name in ("Strictly necessary", "First-party", "Third-party", "Session", "Persistent"):
        assert name in page
    assert f'href="{CATEGORIES}add/"' not in page
    assert 'value="delete_selected"' not in page

    necessary = CookieGroup.objects.get(varname="necessary")
    assert admin_client.get(f"{CATEGORIES}add/").status_code == 403
    response = admin_client.post(f"{CATEGORIES}{necessary.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert CookieGroup.objects.filter(varname="necessary").exists()


def test_a_category_can_be_renamed_but_keeps_its_slug_and_needs_a_name(admin_client):
    group = CookieGroup.objects.get(varname="third-party")
    url = f"{CATEGORIES}{group.pk}/change/"
    form = {"name": "Other sites", "description": "Set by others.", "varname": "ads"}

    assert admin_client.post(url, form).status_code == 302
    group.refresh_from_db()
    assert (group.varname, group.name, group.is_required) == ("third-party", "Other sites", False)

    page = admin_client.post(url, {**form, "name": "  "}).content.decode()
    assert "This field is required." in page
    assert CookieGroup.objects.get(pk=group.pk).name == "Other sites"


# Registered cookies and services


def test_registered_cookies_are_filtered_by_category_and_service_and_searched(admin_client):
    hubspot = Service.objects.get(name="HubSpot tracking")
    necessary = CookieGroup.objects.get(varname="necessary")

    page = admin_client.get(COOKIES, {"service__id__exact": hubspot.pk}).content.decode()
    assert "hubspotutk" in page
    assert "csrftoken" not in page
    page = admin_client.get(COOKIES, {"cookiegroup__id__exact": necessary.pk}).content.decode()
    assert "csrftoken" in page
    assert "hubspotutk" not in page
    page = admin_client.get(COOKIES, {"q": "intercom"}).content.decode()
    assert "intercom-id-*" in page
    assert "csrftoken" not in page


def test_a_cookie_is_offered_only_party_categories(admin_client):
    page = admin_client.get(f"{COOKIES}add/").content.decode()
    select = page.split('name="cookiegroup"')[1].split("</select>")[0]

    assert "Third-party" in select
    assert "Persistent" not in select
    assert "Session" not in select


def test_a_cookie_must_have_its_services_category_and_a_cookie_name(admin_client):
    hubspot = Service.objects.get(name="HubSpot tracking")

    page = admin_client.post(f"{COOKIES}add/", cookie_form(service=hubspot.pk)).content.decode()
    assert "HubSpot tracking is Third-party; its cookies must be too." in page
    page = admin_client.post(f"{COOKIES}add/", cookie_form(name="a b;c")).content.decode()
    assert "Not a cookie name" in page
    assert not RegisteredCookie.objects.filter(name__in=["_new", "a b;c"]).exists()

    third = CookieGroup.objects.get(varname="third-party")
    form = cookie_form(service=hubspot.pk, cookiegroup=third.pk)
    assert admin_client.post(f"{COOKIES}add/", form).status_code == 302
    assert RegisteredCookie.objects.get(name="_new").service == hubspot


def test_a_service_shows_its_cookies_inline_and_refuses_bad_hosts(admin_client):
    chat = Service.objects.get(name="Support chat")
    url = f"{SERVICES}{chat.pk}/change/"

    page = admin_client.get(url).content.decode()
    assert 'value="intercom-session-*"' in page

    form = {
        "name": chat.name,
        "provider": chat.provider,
        "category": chat.category_id,
        "purpose": chat.purpose,
        "hosts": "widget.intercom.io, evil.example; script-src *",
        "cookies-TOTAL_FORMS": "0",
        "cookies-INITIAL_FORMS": "0",
    }
    page = admin_client.post(url, form).content.decode()
    assert "Not a host name: evil.example; script-src *." in page
    chat.refresh_from_db()
    assert "evil.example; script-src *" not in chat.hosts


def test_registry_lists_are_read_only_for_staff_who_may_only_view(client):
    client.force_login(make_staff("consent.view_registeredcookie", "consent.view_service"))
    cookie = RegisteredCookie.objects.get(name="csrftoken")

    page = client.get(f"{COOKIES}{cookie.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert client.post(f"{COOKIES}{cookie.pk}/change/", cookie_form()).status_code == 403
    assert RegisteredCookie.objects.get(pk=cookie.pk).name == "csrftoken"


# Unknown cookies


def test_each_unknown_cookie_has_one_click_classify_buttons(admin_client):
    unknown = make_unknown()

    page = admin_client.get(UNKNOWN).content.decode()

    url = f"{UNKNOWN}{unknown.pk}/classify/"
    for slug in ("necessary", "first-party", "third-party"):
        assert f'formaction="{url}" name="category" value="{slug}"' in page
    # The buttons submit the changelist's form, which carries the CSRF token.
    form = page.split('id="changelist-form"')[1].split("</form>")[0]
    assert "csrfmiddlewaretoken" in form
    assert 'value="third-party"' in form


def test_classifying_registers_the_cookie_and_forgets_it_as_unknown(admin_client):
    unknown = make_unknown("_fbp")

    response = admin_client.post(f"{UNKNOWN}{unknown.pk}/classify/", {"category": "third-party"})

    cookie = RegisteredCookie.objects.get(name="_fbp")
    assert response["Location"] == f"{COOKIES}{cookie.pk}/change/"
    assert (cookie.cookiegroup.varname, cookie.path, cookie.duration) == ("third-party", "/", "")
    assert not UnknownCookie.objects.exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "Registered _fbp as Third-party. Fill in purpose and duration." in page


def test_a_classified_cookie_is_enforced_as_its_category_at_once(admin_client):
    unknown = make_unknown("_fbp")
    assert get_registry().party_of("_fbp") == "first-party"  # unknown names count as first-party

    admin_client.post(f"{UNKNOWN}{unknown.pk}/classify/", {"category": "third-party"})

    assert get_registry().party_of("_fbp") == "third-party"


def test_classify_answers_only_a_csrf_protected_post_with_a_party(admin_client, admin_user):
    unknown = make_unknown()
    url = f"{UNKNOWN}{unknown.pk}/classify/"

    assert admin_client.get(url).status_code == 405
    assert admin_client.post(url, {"category": "session"}).status_code == 400
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(url, {"category": "necessary"}).status_code == 403

    assert UnknownCookie.objects.filter(pk=unknown.pk).exists()
    assert not RegisteredCookie.objects.filter(name=unknown.name).exists()


def test_classifying_a_name_already_registered_only_forgets_it(admin_client):
    unknown = make_unknown("csrftoken")

    response = admin_client.post(
        f"{UNKNOWN}{unknown.pk}/classify/", {"category": "first-party"}, follow=True
    )

    assert "Already in the registry: csrftoken." in response.content.decode()
    assert RegisteredCookie.objects.filter(name="csrftoken").count() == 1
    assert not UnknownCookie.objects.exists()


def test_bulk_action_classifies_many_and_lists_them_for_details(admin_client):
    first, second, other = make_unknown("_a"), make_unknown("_b"), make_unknown("_c")

    response = admin_client.post(
        UNKNOWN,
        {"action": "classify_as_first_party", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"{COOKIES}?details=missing"
    assert "_a" in page and "_b" in page
    assert "csrftoken" not in page
    names = RegisteredCookie.objects.filter(cookiegroup__varname="first-party")
    assert {"_a", "_b"} <= set(names.values_list("name", flat=True))
    assert list(UnknownCookie.objects.all()) == [other]


def test_unknown_cookies_cannot_be_added_or_edited(admin_client):
    unknown = make_unknown()

    assert admin_client.get(f"{UNKNOWN}add/").status_code == 403
    page = admin_client.get(f"{UNKNOWN}{unknown.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert "/pricing/" in page


def test_staff_who_may_not_register_cookies_get_no_classify_buttons(client):
    client.force_login(make_staff("consent.view_unknowncookie"))
    unknown = make_unknown()

    page = client.get(UNKNOWN).content.decode()
    assert "/classify/" not in page
    assert "classify_as" not in page
    response = client.post(f"{UNKNOWN}{unknown.pk}/classify/", {"category": "necessary"})
    assert response.status_code == 403
    assert UnknownCookie.objects.filter(pk=unknown.pk).exists()


# Consent records


def test_records_are_read_only_even_for_superusers(admin_client):
    record = make_record()
    url = f"{RECORDS}{record.pk}/change/"

    assert "Not integrated yet" in admin_client.get(url).content.decode()
    integrate()
    page = admin_client.get(url).content.decode()
    assert str(record.consent_id) in page
    assert record.created_at.isoformat(sep=" ") in page  # to the microsecond, as exported
    leaf = LogLeaf.objects.get(source="record", ref=record.pk)
    assert f"leaf index {leaf.index}, leaf hash {bytes(leaf.hash).hex()}" in page
    assert 'name="_save"' not in page
    assert 'name="event"' not in page
    assert "deletelink" not in page
    changelist = admin_client.get(RECORDS).content.decode()
    assert f'href="{RECORDS}add/"' not in changelist
    assert 'value="delete_selected"' not in changelist

    assert admin_client.get(f"{RECORDS}add/").status_code == 403
    assert admin_client.post(url, {"event": "reject_all"}).status_code == 403
    assert admin_client.post(f"{RECORDS}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(RECORDS, {"action": "delete_selected", "_selected_action": [record.pk]})
    assert ConsentRecord.objects.get(pk=record.pk).event == "accept_all"


def test_the_list_shows_time_id_event_surface_choices_and_version(admin_client):
    record = make_record(event="custom", surface="settings", choices={"first-party": True})

    page = admin_client.get(RECORDS).content.decode()

    for column in ("Time (UTC)", "Consent ID", "Event", "Surface", "First-party", "Persistent"):
        assert column in page
    row = page.split(f"{record.pk}/change/")[1].split("</tr>")[0]
    assert str(record.consent_id) in row
    assert record.created_at.isoformat(sep=" ", timespec="seconds") in row
    assert "Custom choice" in row and "Settings page" in row
    assert row.count('alt="True"') == 2  # necessary and first-party
    assert row.count('alt="False"') == 3
    assert "Cookie Policy v2 (en)" in row


def test_search_finds_a_consent_id_or_record_number_exactly(admin_client):
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    first = make_record(consent_id=mine)
    make_record(consent_id=mine, event="withdraw", choices=all_refused())
    other = make_record(consent_id=theirs)

    page = admin_client.get(RECORDS, {"q": str(mine)}).content.decode()
    assert page.count(str(mine)) >= 2
    assert str(theirs) not in page
    page = admin_client.get(RECORDS, {"q": str(mine)[:8]}).content.decode()
    assert str(mine) not in page
    page = admin_client.get(RECORDS, {"q": str(other.pk)}).content.decode()
    assert str(theirs) in page
    assert f"{first.pk}/change/" not in page
    assert admin_client.get(RECORDS, {"q": "9" * 30}).status_code == 200


def test_records_filter_by_event_category_version_and_dates(admin_client):
    accepted = make_record(event="accept_all")
    refused = make_record(event="reject_all", choices=all_refused())
    today = timezone.now().date()

    def listed(**params):
        page = admin_client.get(RECORDS, params).content.decode()
        return {r.pk for r in (accepted, refused) if f"{RECORDS}{r.pk}/change/" in page}

    assert listed(event__exact="reject_all") == {refused.pk}
    assert listed(third_party__exact="1") == {accepted.pk}
    assert listed(policy_version__id__exact=accepted.policy_version_id) == {
        accepted.pk,
        refused.pk,
    }
    assert listed(created_at__gte=today.isoformat(), created_at__lte=today.isoformat()) == {
        accepted.pk,
        refused.pk,
    }
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert listed(created_at__lte=yesterday) == set()
    assert listed(created_at__gte=(today + datetime.timedelta(days=1)).isoformat()) == set()

    response = admin_client.get(RECORDS, {"created_at__gte": "2026-02-30"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_records_page_shows_the_visitors_whole_history_linked(admin_client):
    visitor = uuid.uuid4()
    first = make_record(consent_id=visitor, event="accept_all")
    second = make_record(consent_id=visitor, event="withdraw", choices=all_refused())
    third = make_record(consent_id=visitor, event="reconsent")
    stranger = make_record()

    page = admin_client.get(f"{RECORDS}{second.pk}/change/").content.decode()

    history = page.split('class="consent-history"')[1].split("</table>")[0]
    assert f'href="{RECORDS}{first.pk}/change/"' in history
    assert f'href="{RECORDS}{third.pk}/change/"' in history
    assert f'href="{RECORDS}{second.pk}/change/"' not in history  # the page itself
    assert history.index("Accept all") < history.index("Withdraw") < history.index("Re-consent")
    assert f"{RECORDS}{stranger.pk}/change/" not in history


def test_an_unfiltered_list_is_counted_from_statistics_not_count(admin_client, monkeypatch):
    for _ in range(3):
        make_record()
    with as_owner(), connection.cursor() as cursor:  # only the owner may ANALYZE
        cursor.execute("ANALYZE consent_consentrecord")
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 1)

    with CaptureQueriesContext(connection) as unfiltered:
        assert admin_client.get(RECORDS).status_code == 200
    with CaptureQueriesContext(connection) as filtered:
        assert admin_client.get(RECORDS, {"event__exact": "accept_all"}).status_code == 200

    def counts(context):
        return [q["sql"] for q in context.captured_queries if "COUNT(" in q["sql"]]

    assert counts(unfiltered) == []
    assert len(counts(filtered)) == 1  # the filtered page, never the whole table as well


def test_staff_who_may_only_view_records_get_no_actions_or_audit_links(client):
    client.force_login(make_staff("consent.view_consentrecord"))
    make_record()

    page = client.get(RECORDS).content.decode()

    assert 'name="action"' not in page
    assert "/audit/" not in page
    assert client.get("/audit/statistics/").status_code == 403
    record = ConsentRecord.objects.get()
    response = client.post(
        RECORDS, {"action": "export_csv", "_selected_action": [record.pk], "index": 0}
    )
    assert not response.streaming


def test_admins_get_links_to_the_audit_pages(admin_client):
    page = admin_client.get(RECORDS).content.decode()

    for url in ("/audit/consents.csv", "/audit/consents.jsonl", "/audit/verify/"):
        assert f'href="{url}"' in page
    assert 'href="/audit/statistics/"' in page


def exported(response):
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode().splitlines()


def test_export_actions_stream_the_selected_records(admin_client):
    first, second, third = make_record(), make_record(event="withdraw"), make_record()

    response = admin_client.post(
        RECORDS, {"action": "export_csv", "_selected_action": [first.pk, third.pk], "index": 0}
    )

    # A ZIP of the CSV and its proof (consent.audit.export).
    assert response["Content-Type"] == "application/zip"
    assert 'filename="consent-records-' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    lines = archive.read(archive.namelist()[0]).decode().splitlines()
    assert lines[0].startswith("id,consent_id,created_at,event")
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(
        [str(first.pk), str(third.pk)]
    )
    assert str(second.consent_id) not in "\n".join(lines)


def test_export_of_all_records_matching_the_filters_as_json_lines(admin_client):
    kept = [make_record(event="reject_all", choices=all_refused()) for _ in range(2)]
    make_record(event="accept_all")

    response = admin_client.post(
        f"{RECORDS}?event__exact=reject_all",
        {"action": "export_jsonl", "select_across": "1", "_selected_action": [kept[0].pk]},
    )

    lines = exported(response)[:-1]  # the last line is the export's proof
    assert response["Content-Type"].startswith("application/jsonl")
    assert len(lines) == 2
    assert {json.loads(line)["id"] for line in lines} == {record.pk for record in kept}


def test_the_admin_index_names_the_categories_and_hides_the_unused_log(admin_client):
    page = admin_client.get("/admin/").content.decode()

    assert "Cookie categories" in page
    assert "/admin/cookie_consent/cookiegroup/" in page
    assert "/admin/cookie_consent/logitem/" not in page


@pytest.mark.parametrize(
    "query",
    [f"policy_version__id__exact={2**63}", f"q={2**63}", "q=not-a-consent-id"],
)
@pytest.mark.parametrize("action", ["export_csv", "export_jsonl"])
def test_exporting_a_filter_that_matches_nothing_gives_an_empty_export(admin_client, query, action):
    """Django knows these match no row and writes no SQL for them: the export is empty."""
    record = make_record()

    response = admin_client.post(
        f"{RECORDS}?{query}",
        {"action": action, "select_across": "1", "_selected_action": [record.pk], "index": 0},
    )

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    if action == "export_csv":
        archive = zipfile.ZipFile(io.BytesIO(content))
        assert archive.read(archive.namelist()[0]).decode().count("\n") == 1  # the header
        assert json.loads(archive.read(archive.namelist()[1]))["records"] == 0
    else:
        (proof,) = content.decode().splitlines()
        assert json.loads(proof)["records"] == 0


def test_records_up_to_the_last_day_a_date_can_name_are_all_records(admin_client):
    record = make_record()

    response = admin_client.get(RECORDS, {"created_at__lte": "9999-12-31"})

    assert response.status_code == 200
    assert f"{RECORDS}{record.pk}/change/" in response.content.decode()
