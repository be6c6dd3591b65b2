import pytest

from policy.models import PUBLISHED, PolicyVersion
from tests.factories import make_draft, make_staff

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/policy/policyversion/"


def change_url(version):
    return f"{CHANGELIST}{version.pk}/change/"


def draft_form(version, **changes):
    data = {
        "language": version.language,
        "title": version.title,
        "effective_date": version.effective_date.isoformat(),
        "material": "on" if version.material else "",
        "summary": version.summary,
        "body": version.body,
    }
    return {**data, **changes}


def latest() -> PolicyVersion:
    return PUBLISHED.get().current("en")


def test_admin_clones_edits_and_publishes_the_next_version(admin_client):
    seed = latest()

    response = admin_client.post(
        CHANGELIST, {"action": "clone_to_draft", "_selected_action": [seed.pk]}, follow=True
    )
    assert "into a new draft" in response.content.decode()
    draft = PolicyVersion.objects.drafts().get()

    body = seed.body.replace("We may change this cookie policy", "We will change this policy")
    response = admin_client.post(
        change_url(draft),
        draft_form(
            draft, body=body, summary="Firmer wording on changes.", effective_date="2026-12-01"
        ),
    )
    assert response.status_code == 302

    response = admin_client.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]})
    assert "Yes, publish" in response.content.decode()
    assert PolicyVersion.objects.get(pk=draft.pk).status == PolicyVersion.Status.DRAFT

    response = admin_client.post(
        CHANGELIST,
        {"action": "publish", "_selected_action": [draft.pk], "post": "yes"},
        follow=True,
    )
    assert "Published 1 version." in response.content.decode()
    assert "already published" not in response.content.decode()

    page = admin_client.get("/cookie-policy/versions/3/").content.decode()
    assert "We will change this policy" in page
    changes = admin_client.get("/cookie-policy/versions/3/changes/").content.decode()
    assert "Firmer wording on changes." in changes
    assert "We will change this policy" in changes.split("<ins>")[1]
    assert PolicyVersion.objects.get(pk=seed.pk).body == seed.body


def test_admin_cannot_change_a_published_version(admin_client):
    seed = PolicyVersion.objects.get(number=1)

    page = admin_client.get(change_url(seed))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert '<textarea name="body"' not in page.content.decode()

    response = admin_client.post(change_url(seed), draft_form(seed, body="Rewritten."))
    assert response.status_code == 403
    assert admin_client.post(f"{CHANGELIST}{seed.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PolicyVersion.objects.get(number=1).body == seed.body


def test_admin_can_edit_a_draft(admin_client):
    draft = make_draft()

    page = admin_client.get(change_url(draft)).content.decode()
    assert 'name="_save"' in page

    admin_client.post(change_url(draft), draft_form(draft, title="Cookie Notice"))
    assert PolicyVersion.objects.get(pk=draft.pk).title == "Cookie Notice"


def test_admin_refuses_a_second_draft_in_the_same_language(admin_client):
    make_draft()

    response = admin_client.post(
        f"{CHANGELIST}add/",
        {"language": "en", "title": "Cookie Policy", "effective_date": "2026-12-01", "body": "x"},
    )

    assert "There is already a draft in this language." in response.content.decode()
    assert PolicyVersion.objects.drafts().count() == 1


def test_preview_shows_the_draft_rendered_and_sanitised(admin_client):
    draft = make_draft(body="## Preview me\n\n<script>alert(1)</script><p onclick='x()'>hi</p>")

    html = admin_client.get(f"{CHANGELIST}{draft.pk}/preview/").content.decode()

    assert '<h2 id="preview-me">Preview me</h2>' in html
    assert "this draft is not published" in html
    assert "alert(1)" not in html
    assert "onclick" not in html


def test_list_can_be_filtered_by_status_and_searched(admin_client):
    make_draft(title="Draft about chatbots")

    drafts = admin_client.get(CHANGELIST, {"status__exact": "draft"}).content.decode()
    assert "Draft about chatbots" in drafts
    assert "Cookie Policy v1" not in drafts
    found = admin_client.get(CHANGELIST, {"q": "chatbots"}).content.decode()
    assert "Draft about chatbots" in found


def test_staff_without_publish_permission_cannot_publish(client):
    staff = make_staff("policy.view_policyversion", "policy.change_policyversion")
    client.force_login(staff)
    draft = make_draft()

    page = client.get(CHANGELIST).content.decode()
    assert 'value="publish"' not in page
    client.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk], "post": "yes"})
    assert client.get(f"{CHANGELIST}{draft.pk}/publish/").status_code == 403
    assert client.post(f"{CHANGELIST}{draft.pk}/publish/").status_code == 403
    assert 'href="/admin/policy/policyversion/' + f'{draft.pk}/publish/"' not in (
        client.get(change_url(draft)).content.decode()
    )

    assert PolicyVersion.objects.get(pk=draft.pk).status == PolicyVersion.Status.DRAFT


def test_publishing_a_published_version_changes_nothing_and_says_so(admin_client):
    seed = PolicyVersion.objects.get(number=1)
    published = PolicyVersion.objects.published().count()

    response = admin_client.post(
        CHANGELIST, {"action": "publish", "_selected_action": [seed.pk]}, follow=True
    )

    assert "Versions already published were left as they are." in response.content.decode()
    assert "Published 1 version." not in response.content.decode()
    assert PolicyVersion.objects.published().count() == published


def test_published_versions_link_to_their_public_page_not_a_preview(admin_client):
    seed = PolicyVersion.objects.get(number=1)

    page = admin_client.get(change_url(seed)).content.decode()

    assert 'href="/cookie-policy/versions/1/"' in page
    assert admin_client.get(f"{CHANGELIST}{seed.pk}/preview/").status_code == 404


def test_preview_needs_admin_permission(client):
    draft = make_draft()
    client.force_login(make_staff(username="nobody"))

    assert client.get(f"{CHANGELIST}{draft.pk}/preview/").status_code == 403


def edited_draft(**overrides):
    seed = latest()
    body = seed.body.replace("small piece of data", "small text file")
    return make_draft(body=body, **overrides)


def test_publishing_asks_first_showing_number_material_flag_date_and_diff(admin_client):
    draft = edited_draft(material=False, effective_date="2026-12-01", summary="Plainer words.")

    page = admin_client.post(
        CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]}
    ).content.decode()

    assert "Version 3" in page
    assert "Not material: visitors are not asked again." in page
    assert '<time datetime="2026-12-01">1 December 2026</time>' in page
    assert "Plainer words." in page
    assert "small text file" in page.split("<ins>")[1].split("</ins>")[0]
    assert "small piece of data" in page.split("<del>")[1].split("</del>")[0]
    assert f'name="_selected_action" value="{draft.pk}"' in page
    assert PolicyVersion.objects.get(pk=draft.pk).status == PolicyVersion.Status.DRAFT


def test_a_drafts_publish_page_confirms_on_get_and_publishes_on_post(admin_client):
    draft = edited_draft(material=True)
    url = f"{CHANGELIST}{draft.pk}/publish/"
    assert f'href="{url}"' in admin_client.get(change_url(draft)).content.decode()

    page = admin_client.get(url).content.decode()
    assert "Material: every visitor is asked for consent again." in page
    assert f'action="{url}"' in page
    assert PolicyVersion.objects.get(pk=draft.pk).status == PolicyVersion.Status.DRAFT

    response = admin_client.post(url, follow=True)
    assert "Published 1 version." in response.content.decode()
    published = PolicyVersion.objects.get(pk=draft.pk)
    assert (published.status, published.number) == (PolicyVersion.Status.PUBLISHED, 3)
    assert admin_client.get(url).status_code == 404


def test_a_drafts_changes_page_shows_it_against_the_published_version(admin_client):
    draft = edited_draft()
    url = f"{CHANGELIST}{draft.pk}/changes/"
    assert f'href="{url}"' in admin_client.get(change_url(draft)).content.decode()

    page = admin_client.get(url).content.decode()

    assert "Against the published version 2" in page
    assert "small text file" in page.split("<ins>")[1]
    seed = PolicyVersion.objects.get(number=1)
    assert admin_client.get(f"{CHANGELIST}{seed.pk}/changes/").status_code == 404


def test_a_german_draft_is_compared_with_the_german_version(admin_client):
    german = PUBLISHED.get().current("de")
    draft = make_draft(language="de", body=german.body.replace("kleine", "winzige", 1))

    page = admin_client.get(f"{CHANGELIST}{draft.pk}/changes/").content.decode()

    assert "Against the published version 2" in page
    assert "winzige" in page.split("<ins>")[1]


def test_a_published_versions_page_clones_it_into_a_draft(admin_client):
    seed = PolicyVersion.objects.get(number=1)
    clone_url = f"{CHANGELIST}{seed.pk}/clone/"
    page = admin_client.get(change_url(seed)).content.decode()
    assert f'<form method="post" action="{clone_url}">' in page

    assert admin_client.get(clone_url).status_code == 405
    response = admin_client.post(clone_url)

    draft = PolicyVersion.objects.drafts().get()
    assert response["Location"] == change_url(draft)
    assert (draft.body, draft.language) == (seed.body, "en")
    again = admin_client.post(clone_url, follow=True).content.decode()
    assert "There is already a draft in this language." in again
    assert PolicyVersion.objects.drafts().count() == 1


def test_staff_who_may_not_add_cannot_clone(client):
    client.force_login(make_staff("policy.view_policyversion"))
    seed = PolicyVersion.objects.get(number=1)

    page = client.get(change_url(seed)).content.decode()
    assert "/clone/" not in page
    assert client.post(f"{CHANGELIST}{seed.pk}/clone/").status_code == 403
    assert not PolicyVersion.objects.drafts().exists()


@pytest.mark.parametrize(
    "query",
    [
        {"effective_date__year": "9" * 30},
        {"effective_date__year": str(2**63)},
        {"effective_date__year": "2026", "effective_date__month": str(2**63)},
        {
            "effective_date__year": "2026",
            "effective_date__month": "1",
            "effective_date__day": "9" * 20,
        },
        {"effective_date__year": "2026", "effective_date__month": "13"},
    ],
)
def test_a_date_hierarchy_date_out_of_range_is_the_invalid_filter_page(admin_client, query):
    response = admin_client.get(CHANGELIST, query)

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?e=1"
