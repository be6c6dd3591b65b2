"""The policy's data migrations publish frozen versions: the same bytes on every install."""

import hashlib

import pytest

from policy.models import PolicyVersion
from tests.helpers import VERSION_1_SHA256, VERSION_2_SHA256

pytestmark = pytest.mark.django_db


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
