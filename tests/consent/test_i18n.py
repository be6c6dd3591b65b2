"""German and French: the banner, the settings page and the page chrome follow Accept-Language."""

import gettext
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from consent.categories import SEED_TEXT

LOCALE = Path(settings.LOCALE_PATHS[0])
LANGUAGES = ("de", "fr")

# What a visitor must see: the banner's title and buttons, and the five category names.
EXPECTED = {
    "de": {
        "title": "Cookies auf iPortalis",
        "accept": "Alle akzeptieren",
        "reject": "Alle ablehnen",
        "choose": "Auswählen",
        "save": "Meine Auswahl speichern",
        "settings": "Cookie-Einstellungen",
        "always_on": "Immer aktiv",
        "categories": ["Unbedingt erforderlich", "Erstanbieter", "Drittanbieter", "Sitzung"],
        "persistent": "Dauerhaft",
    },
    "fr": {
        "title": "Les cookies sur iPortalis",
        "accept": "Tout accepter",
        "reject": "Tout refuser",
        "choose": "Choisir",
        "save": "Enregistrer mes choix",
        "settings": "Paramètres des cookies",
        "always_on": "Toujours actifs",
        "categories": ["Strictement nécessaires", "Internes", "Tiers", "Session"],
        "persistent": "Persistants",
    },
}
ENGLISH = ["Accept all", "Reject all", "Cookies on iPortalis", "Save my choices", "Always on"]


def page(client, path, language=None):
    extra = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client.get(path, **extra)
    assert response.status_code == 200
    return response, response.content.decode()


def translated_page(client, path, language):
    """Return the HTML of the page in `language`, after checking that it says so (the header and
    <html lang>), that its accept and reject buttons speak it, and that none of the English is
    left."""
    expected = EXPECTED[language]
    response, html = page(client, path, language)
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in html
    assert f'value="accept_all">{expected["accept"]}</button>' in html
    assert f'value="reject_all">{expected["reject"]}</button>' in html
    for english in ENGLISH:
        assert english not in html
    return html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_banner_speaks_the_browsers_language(client, language):
    expected = EXPECTED[language]

    html = translated_page(client, "/", language)

    assert 'id="consent-banner"' in html
    assert f">{expected['title']}</h2>" in html
    assert f'<summary class="consent-button">{expected["choose"]}</summary>' in html
    assert f">{expected['save']}</button>" in html
    for name in [*expected["categories"], expected["persistent"]]:
        assert name in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_settings_page_speaks_the_browsers_language(client, language):
    expected = EXPECTED[language]

    html = translated_page(client, "/cookie-settings/", language)

    assert f"<h1>{expected['settings']}</h1>" in html
    assert f"<title>{expected['settings']} · iPortalis</title>" in html
    assert expected["always_on"] in html
    for name in [*expected["categories"], expected["persistent"]]:
        assert f"{name}</label>" in html or f"{name} <span" in html
    # The descriptions are the cookie policy's own wording, translated, not left in English.
    with translation.override(language):
        for _name, description in SEED_TEXT.values():
            assert translation.gettext(description) in html


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/cookie-settings/"])
def test_english_is_served_without_accept_language(client, path):
    response, html = page(client, path)

    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in html
    assert "Accept all" in html
    assert "Strictly necessary" in html
    assert "Alle akzeptieren" not in html
    assert "Tout accepter" not in html


@pytest.mark.django_db
def test_an_unsupported_language_falls_back_to_english(client):
    response, html = page(client, "/", "es")

    assert '<html lang="en">' in html
    assert "Accept all" in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_holds_the_banner_labels(language):
    expected = EXPECTED[language]
    with translation.override(language):
        assert translation.gettext("Accept all") == expected["accept"]
        assert translation.gettext("Reject all") == expected["reject"]
        assert translation.gettext("Choose") == expected["choose"]
        assert translation.gettext("Cookies on iPortalis") == expected["title"]
        names = [translation.gettext(name) for name, _description in SEED_TEXT.values()]
    assert names == [*expected["categories"], expected["persistent"]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_category_description_is_translated(language):
    # The names are checked one by one above: the French for "Session" is "Session".
    with translation.override(language):
        for _name, description in SEED_TEXT.values():
            assert translation.gettext(description) != description


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_po_file_is_complete_and_the_committed_mo_matches_it(language, tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    fresh = tmp_path / "django.mo"

    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", str(fresh), str(po)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )

    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr
    assert "untranslated" not in result.stderr
    with mo.open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == (
            gettext.GNUTranslations(compiled)._catalog
        ), f"{mo} is stale: run manage.py compilemessages"
