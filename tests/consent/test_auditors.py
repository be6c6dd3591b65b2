"""The Auditors group: sees records, policy versions and the registry, exports, changes nothing."""

import pytest
from cookie_consent.models import CookieGroup
from django.contrib.auth.models import Group

from consent.models import RegisteredCookie, Service, UnknownCookie
from policy.models import PolicyVersion
from tests.factories import make_auditor, make_draft, make_record, make_unknown
from tests.helpers import cookie_form

pytestmark = pytest.mark.django_db

ADMIN = "/admin"


@pytest.fixture
def auditor_client(client):
    client.force_login(make_auditor())
    return client


def objects():
    """Return (changelist URL, one object) for every model an auditor may look at."""
    return [
        (f"{ADMIN}/consent/consentrecord/", make_record()),
        (f"{ADMIN}/policy/policyversion/", PolicyVersion.objects.get(number=1)),
        (f"{ADMIN}/policy/policyversion/", make_draft()),
        (f"{ADMIN}/cookie_consent/cookiegroup/", CookieGroup.objects.get(varname="necessary")),
        (f"{ADMIN}/consent/registeredcookie/", RegisteredCookie.objects.get(name="csrftoken")),
        (f"{ADMIN}/consent/service/", Service.objects.get(name="Support chat")),
        (f"{ADMIN}/consent/unknowncookie/", make_unknown()),
    ]


def test_the_migration_creates_the_group_with_view_export_verify_and_statistics_only():
    group = Group.objects.get(name="Auditors")

    granted: dict[str, set[str]] = {}
    for app, codename in group.permissions.values_list("content_type__app_label", "codename"):
        granted.setdefault(app, set()).add(codename)

    assert granted == {
        "consent": {
            "view_consentrecord",
            "export_consentrecord",
            "verify_consentrecord",
            "view_statistics",
            "view_logcheckpoint",
            "view_witness",
            "view_cosignature",
            "view_registeredcookie",
            "view_service",
            "view_unknowncookie",
        },
        "cookie_consent": {"view_cookiegroup", "view_cookie"},
        "policy": {"view_policyversion"},
    }


def test_auditors_see_every_list_and_page_without_add_save_or_delete(auditor_client):
    for changelist, obj in objects():
        page = auditor_client.get(changelist).content.decode()
        assert f'href="{changelist}{obj.pk}/change/' in page, changelist
        assert f'href="{changelist}add/"' not in page

        page = auditor_client.get(f"{changelist}{obj.pk}/change/").content.decode()
        assert 'name="_save"' not in page, changelist
        assert 'name="_continue"' not in page
        assert "deletelink" not in page


def test_auditors_get_403_on_every_add_change_and_delete(auditor_client):
    for changelist, obj in objects():
        assert auditor_client.get(f"{changelist}add/").status_code == 403, changelist
        assert auditor_client.post(f"{changelist}add/", {}).status_code == 403
        response = auditor_client.post(f"{changelist}{obj.pk}/change/", {"name": "x"})
        assert response.status_code == 403, changelist
        assert auditor_client.get(f"{changelist}{obj.pk}/delete/").status_code == 403
        response = auditor_client.post(f"{changelist}{obj.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403


def test_auditors_change_nothing_by_post(auditor_client):
    cookie = RegisteredCookie.objects.get(name="csrftoken")
    draft = make_draft()
    versions = PolicyVersion.objects.count()
    unknown = make_unknown()
    changelist = f"{ADMIN}/consent/registeredcookie/{cookie.pk}/change/"

    auditor_client.post(changelist, cookie_form(name="renamed"))
    auditor_client.post(f"{ADMIN}/policy/policyversion/{draft.pk}/change/", {"title": "x"})
    for action in ("publish", "clone_to_draft", "delete_selected"):
        auditor_client.post(
            f"{ADMIN}/policy/policyversion/",
            {"action": action, "_selected_action": [draft.pk], "post": "yes"},
        )
    auditor_client.post(f"{ADMIN}/policy/policyversion/{draft.pk}/publish/")
    seed = PolicyVersion.objects.get(number=1)
    auditor_client.post(f"{ADMIN}/policy/policyversion/{seed.pk}/clone/")
    auditor_client.post(
        f"{ADMIN}/consent/unknowncookie/",
        {"action": "classify_as_necessary", "_selected_action": [unknown.pk]},
    )
    response = auditor_client.post(
        f"{ADMIN}/consent/unknowncookie/{unknown.pk}/classify/", {"category": "necessary"}
    )

    assert response.status_code == 403
    assert RegisteredCookie.objects.get(pk=cookie.pk).name == "csrftoken"
    draft = PolicyVersion.objects.get(pk=draft.pk)
    assert (draft.title, draft.status) == ("Cookie Policy", PolicyVersion.Status.DRAFT)
    assert PolicyVersion.objects.count() == versions
    assert UnknownCookie.objects.filter(pk=unknown.pk).exists()


def test_auditors_are_not_offered_actions_that_change_anything(auditor_client):
    make_draft()
    make_unknown()
    make_record()

    policies = auditor_client.get(f"{ADMIN}/policy/policyversion/").content.decode()
    unknown = auditor_client.get(f"{ADMIN}/consent/unknowncookie/").content.decode()
    records = auditor_client.get(f"{ADMIN}/consent/consentrecord/").content.decode()

    for page in (policies, unknown, records):
        assert 'value="delete_selected"' not in page
    assert 'value="publish"' not in policies
    assert 'value="clone_to_draft"' not in policies
    assert "classify" not in unknown
    assert 'value="export_csv"' in records
    assert 'value="export_jsonl"' in records


def test_auditors_open_a_records_history_and_the_statistics(auditor_client):
    record = make_record()

    page = auditor_client.get(f"{ADMIN}/consent/consentrecord/{record.pk}/change/")
    assert str(record.consent_id) in page.content.decode()
    records = auditor_client.get(f"{ADMIN}/consent/consentrecord/").content.decode()
    for url in ("/audit/consents.csv", "/audit/consents.jsonl", "/audit/verify/"):
        assert f'href="{url}"' in records
    assert 'href="/audit/statistics/"' in records
    assert auditor_client.get("/audit/statistics/").status_code == 200


def test_a_published_versions_page_offers_auditors_no_clone(auditor_client):
    seed = PolicyVersion.objects.get(number=1)

    page = auditor_client.get(f"{ADMIN}/policy/policyversion/{seed.pk}/change/").content.decode()

    assert "/clone/" not in page
    assert 'href="/cookie-policy/versions/1/"' in page


def test_auditors_may_read_a_drafts_changes_but_not_publish_it(auditor_client):
    draft = make_draft()
    base = f"{ADMIN}/policy/policyversion/{draft.pk}"

    assert auditor_client.get(f"{base}/changes/").status_code == 200
    assert auditor_client.get(f"{base}/preview/").status_code == 200
    assert "/publish/" not in auditor_client.get(f"{base}/change/").content.decode()
    assert auditor_client.get(f"{base}/publish/").status_code == 403


def test_auditors_export_records_from_the_admin(auditor_client):
    record = make_record()

    response = auditor_client.post(
        f"{ADMIN}/consent/consentrecord/",
        {"action": "export_csv", "_selected_action": [record.pk], "index": 0},
    )

    assert response.status_code == 200
    # A ZIP of the CSV and its proof, stored uncompressed.
    assert str(record.consent_id).encode() in b"".join(response.streaming_content)
