"""The policy's data migrations publish frozen versions: the same bytes on every install."""

import hashlib

import pytest

from policy.models import PolicyVersion

pytestmark = pytest.mark.django_db

# What version 1 rendered to when policy/0003 still rendered it through the live registry,
# templates and settings: a fresh install must keep producing exactly this.
VERSION_1_SHA256 = "14644bed4260836f8e107321347cf80041d71d910499995b762ebf1d5be40b1e"
VERSION_2_SHA256 = {
    "en": "ec6178906846dbb5fabef981c9372167cf6e5dd8b5553ba6194246a820158ada",
    "de": "db23853b782540c38e0841435d4f43557a2deb3e2808d6748d2670ac90b78d14",
    "fr": "061de5882b5151da0b1b3ef14bd27fa5921196977862f87496942662968a6326",
}


def test_a_fresh_migrate_publishes_version_1_byte_for_byte_as_before():
    version = PolicyVersion.objects.get(language="en", number=1)

    assert version.content_sha256 == VERSION_1_SHA256
    assert hashlib.sha256(version.rendered_html.encode()).hexdigest() == VERSION_1_SHA256


@pytest.mark.parametrize("language", sorted(VERSION_2_SHA256))
def test_a_fresh_migrate_publishes_version_2(language):
    version = PolicyVersion.objects.get(language=language, number=2)

    assert version.is_published
    assert version.material
    assert version.summary
    assert version.content_sha256 == VERSION_2_SHA256[language]
    assert hashlib.sha256(version.rendered_html.encode()).hexdigest() == version.content_sha256


@pytest.mark.parametrize(
    ("language", "heading", "category"),
    [
        ("de", "Was ist ein Cookie?", "<td>Drittanbieter</td>"),
        ("fr", "Qu’est-ce qu’un cookie ?", "<td>Tiers</td>"),
    ],
)
def test_the_translations_have_translated_cookie_tables(language, heading, category):
    html = PolicyVersion.objects.get(language=language, number=2).rendered_html

    assert heading in html
    table = html[html.index('id="cookies-in-use"') :]
    assert "<code>hubspotutk</code>" in table
    assert category in table
    assert "<td>third-party</td>" not in table
    assert 'href="/cookie-settings/"' in html
