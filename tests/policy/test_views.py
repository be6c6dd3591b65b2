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


@pytest.mark.parametrize(
    ("accept_language", "title", "date"),
    [
        ("en", "<h1>Cookie Policy</h1>", '<time datetime="2026-12-01">1 December 2026</time>'),
        ("de", "<h1>Cookie-Richtlinie</h1>", '<time datetime="2026-12-01">1. Dezember 2026</time>'),
        ("fr-FR,fr;q=0.9", "<h1>Politique relative aux cookies</h1>", "1 décembre 2026</time>"),
    ],
)
def test_the_policy_follows_accept_language(client, accept_language, title, date):
    html = client.get("/cookie-policy/", headers={"accept-language": accept_language}).content
    html = html.decode()

    assert title in html
    assert "Version 2" in html
    assert date in html
    assert "not available in your language" not in html


def test_the_policy_page_links_to_every_language_it_is_published_in(client):
    html = client.get("/cookie-policy/", headers={"accept-language": "de"}).content.decode()

    nav = html[html.index('class="policy-languages"') :].split("</nav>")[0]
    assert 'href="/cookie-policy/?lang=en" hreflang="en" lang="en">English</a>' in nav
    assert 'href="/cookie-policy/?lang=de" hreflang="de" lang="de" aria-current="page"' in nav
    assert 'href="/cookie-policy/?lang=fr" hreflang="fr" lang="fr">français</a>' in nav


def test_a_language_chosen_by_link_wins_over_accept_language(client):
    response = client.get("/cookie-policy/?lang=fr", headers={"accept-language": "de"})

    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "<h1>Politique relative aux cookies</h1>" in html
    assert 'href="/cookie-policy/versions/2/?lang=fr"' in html
    assert response.headers["Content-Language"] == "fr"
    assert "django_language" not in response.cookies  # the choice is in the address


def test_a_version_only_in_english_is_shown_in_english_and_says_so(client):
    response = client.get("/cookie-policy/versions/1/", headers={"accept-language": "de"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "By using the service you consent" in html
    assert '<time datetime="2022-07-25">25. Juli 2022</time>' in html
    assert "nicht in Ihrer Sprache verfügbar; sie wird auf Englisch angezeigt" in html


def test_the_first_german_version_points_to_the_english_comparison(client):
    html = client.get(
        "/cookie-policy/versions/2/changes/", headers={"accept-language": "de"}
    ).content.decode()

    assert "erstmals auf Deutsch" in html
    assert 'href="/cookie-policy/versions/2/changes/?lang=en"' in html


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


def test_the_german_version_list_points_to_the_versions_only_in_english(client):
    html = client.get("/cookie-policy/versions/", headers={"accept-language": "de"}).content
    html = html.decode()

    assert 'href="/cookie-policy/versions/2/"' in html
    assert 'href="/cookie-policy/versions/1/"' not in html
    assert "Eine frühere Version ist nur auf Englisch veröffentlicht." in html
    assert 'href="/cookie-policy/versions/?lang=en"' in html
    french = client.get("/cookie-policy/versions/", headers={"accept-language": "fr"}).content
    assert "Une version antérieure n’est publiée qu’en anglais." in french.decode()
    english = client.get("/cookie-policy/versions/").content.decode()
    assert 'class="notice"' not in english
