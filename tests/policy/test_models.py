import datetime
import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from policy.models import PUBLISHED, FrozenVersionError, PolicyVersion
from tests.factories import make_draft, make_published

pytestmark = pytest.mark.django_db


def seed_version() -> PolicyVersion:
    return PolicyVersion.objects.get(language="en", number=1)


def test_seed_migration_publishes_version_1():
    version = seed_version()

    assert version.is_published
    assert version.title == "Cookie Policy"
    assert version.effective_date == datetime.date(2022, 7, 25)
    assert "This policy was last updated on 25th July 2022." in version.rendered_html
    assert '<h2 id="what-is-a-cookie">What is a Cookie?</h2>' in version.rendered_html
    assert "<li>interact with us through our chatbots;</li>" in version.rendered_html
    assert 'id="cookies-in-use"' in version.rendered_html
    expected = hashlib.sha256(version.rendered_html.encode()).hexdigest()
    assert version.content_sha256 == expected


def test_publish_numbers_renders_and_hashes_the_draft():
    draft = make_draft(body="# Changed\n\nNew text.")

    draft.publish()

    stored = PolicyVersion.objects.get(pk=draft.pk)
    assert stored.number == 3
    assert stored.status == PolicyVersion.Status.PUBLISHED
    assert stored.published_at is not None
    assert stored.rendered_html == '<h1 id="changed">Changed</h1>\n<p>New text.</p>'
    assert stored.content_sha256 == hashlib.sha256(stored.rendered_html.encode()).hexdigest()
    assert PUBLISHED.get().current("en") == stored


def test_versions_are_numbered_per_language():
    german_before = PolicyVersion.objects.published().filter(language="de").count()
    german = make_published(language="de", body="Deutsch")

    assert german.number == german_before + (2 if german_before else 1)
    assert PUBLISHED.get().current("de") == german
    assert PUBLISHED.get().current("en").number == 2


def test_model_refuses_to_change_a_published_version():
    version = seed_version()
    version.body = "Rewritten history."

    with pytest.raises(FrozenVersionError):
        version.save()
    with pytest.raises(FrozenVersionError):
        version.delete()

    assert seed_version().body != "Rewritten history."


def test_publishing_a_version_someone_else_just_published_is_refused():
    draft = make_draft()
    same_draft_in_another_admin = PolicyVersion.objects.get(pk=draft.pk)
    draft.publish()

    with pytest.raises(ValidationError, match="already published"):
        same_draft_in_another_admin.publish()
    assert PolicyVersion.objects.get(pk=draft.pk).number == 3


def test_database_refuses_queryset_update_of_a_published_version():
    with pytest.raises(IntegrityError, match="published and frozen"), transaction.atomic():
        PolicyVersion.objects.filter(number=1).update(body="Rewritten history.")

    assert "Rewritten history." not in seed_version().body


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE policy_policyversion SET body = 'x' WHERE number = 1",
        "UPDATE policy_policyversion SET status = 'draft' WHERE number = 1",
        "DELETE FROM policy_policyversion WHERE number = 1",
    ],
)
def test_database_refuses_raw_sql_on_a_published_version(statement):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    version = seed_version()
    assert version.is_published
    assert version.body != "x"


def test_drafts_stay_editable_and_deletable():
    draft = make_draft()
    draft.body = "Second thoughts."
    draft.save()
    PolicyVersion.objects.filter(pk=draft.pk).update(title="Renamed")

    assert PolicyVersion.objects.get(pk=draft.pk).title == "Renamed"
    draft.delete()
    assert not PolicyVersion.objects.drafts().exists()


def test_database_refuses_a_published_row_without_number_or_hash():
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(body="x", status="published")


def test_clone_to_draft_copies_the_content():
    draft = seed_version().clone_to_draft()

    assert draft.status == PolicyVersion.Status.DRAFT
    assert draft.number is None
    assert draft.body == seed_version().body
    assert draft.summary == ""


def test_only_one_draft_per_language():
    make_draft()

    with pytest.raises(ValidationError, match="already a draft"):
        seed_version().clone_to_draft()
    assert PolicyVersion.objects.drafts().count() == 1
    make_draft(language="de")  # another language may have its own


def test_an_empty_draft_cannot_be_published():
    draft = make_draft(body="   ")

    with pytest.raises(ValidationError):
        draft.publish()
    assert PolicyVersion.objects.get(pk=draft.pk).status == PolicyVersion.Status.DRAFT
