import pytest
from asgiref.sync import async_to_sync

from policy.models import PolicyVersion
from tests.factories import make_draft, make_published

pytestmark = pytest.mark.django_db


def test_current_policy_is_version_2_with_its_hash(client):
    revision = PolicyVersion.objects.get(language="en", number=2)

    response = client.get("/cookie-policy/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Cookie Policy</h1>" in html
    assert "Version 2" in html
    assert '<time datetime="2026-12-01">1 December 2026</time>' in html
    assert revision.content_sha256 in html
    assert "What is a Cookie?" in html
    assert "By using the service you consent" not in html
    assert '<a href="/cookie-settings/" rel="noopener noreferrer">cookie settings</a>' in html


def test_every_page_links_to_cookie_settings_and_policy_in_the_footer(client):
    for url in ["/", "/cookie-policy/", "/cookie-policy/versions/", "/cookie-settings/"]:
        html = client.get(url).content.decode()
        footer = html[html.index('<footer class="site-footer">') :]
        assert 'href="/cookie-settings/"' in footer, url
        assert 'href="/cookie-policy/"' in footer, url


def test_current_policy_follows_the_newest_published_version(client):
    make_published(title="Cookie Policy", body="Version two text.")
    make_draft(body="Unpublished draft text.")

    html = client.get("/cookie-policy/").content.decode()

    assert "Version 3" in html
    assert "Version two text." in html
    assert "Unpublished draft text." not in html


def test_a_language_without_its_own_policy_falls_back_to_english(client):
    response = client.get("/cookie-policy/", headers={"accept-language": "de"})

    assert response.status_code == 200
    assert "What is a Cookie?" in response.content.decode()


def test_version_list_shows_published_versions_newest_first(client):
    make_published(summary="Clarified the chatbot section.")
    make_draft()

    html = client.get("/cookie-policy/versions/").content.decode()

    assert (
        html.index('href="/cookie-policy/versions/3/"')
        < html.index('href="/cookie-policy/versions/2/"')
        < html.index('href="/cookie-policy/versions/1/"')
    )
    assert "Clarified the chatbot section." in html
    assert html.count('<li>\n    <h2><a href="/cookie-policy/versions/') == 3


@pytest.mark.parametrize(
    "url",
    [
        "/cookie-policy/versions/3/",
        "/cookie-policy/versions/0/",
        "/cookie-policy/versions/999999999999/",
        "/cookie-policy/versions/3/changes/",
        "/cookie-policy/versions/abc/",
        "/cookie-policy/versions/-1/",
    ],
)
def test_unknown_and_draft_versions_are_404(client, url):
    make_draft()  # a draft has no number, so it is never reachable by one

    assert client.get(url).status_code == 404


def main_content(response) -> bytes:
    """Return the page's <main>: the banner around it carries a fresh CSRF token each time."""
    content = response.content
    return content[content.index(b"<main") : content.index(b"</main>")]


def test_version_page_is_unchanged_byte_for_byte_after_a_new_version(client):
    before = [main_content(client.get(f"/cookie-policy/versions/{n}/")) for n in (1, 2)]

    draft = PolicyVersion.objects.get(language="en", number=2).clone_to_draft()
    draft.body = draft.body.replace("small piece of data", "small text file")
    draft.save()
    draft.publish()

    after = [main_content(client.get(f"/cookie-policy/versions/{n}/")) for n in (1, 2)]
    assert after == before
    assert b"small text file" in client.get("/cookie-policy/versions/3/").content


def test_changes_page_shows_what_a_version_changed(client):
    draft = PolicyVersion.objects.get(language="en", number=2).clone_to_draft()
    draft.body = draft.body.replace("small piece of data", "small text file")
    draft.summary = "Plainer definition of a cookie."
    draft.save()
    draft.publish()

    html = client.get("/cookie-policy/versions/3/changes/").content.decode()

    assert "Plainer definition of a cookie." in html
    assert "A cookie is a small piece of data that is stored" in html.split("<del>")[1]
    assert "A cookie is a small text file that is stored" in html.split("<ins>")[1]
    assert html.count("<del>") == 1
    assert html.count("<ins>") == 1


def test_changes_page_of_the_first_version_says_there_is_nothing_before(client):
    html = client.get("/cookie-policy/versions/1/changes/").content.decode()

    assert "first published version" in html
    assert "<ins>" not in html


def test_policy_pages_send_a_strict_content_security_policy(client):
    response = client.get("/cookie-policy/")

    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_policy_pages_are_served_under_asgi_too(async_client):
    response = async_to_sync(async_client.get)("/cookie-policy/versions/1/")

    assert response.status_code == 200
    assert "What is a Cookie?" in response.content.decode()
