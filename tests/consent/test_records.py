import pytest
from django.db import IntegrityError, ProgrammingError, connection, transaction

from consent.log.models import LogLeaf
from consent.models import ConsentRecord
from consent.roles import as_owner
from consent.sanitise import shorten_user_agent
from tests.factories import integrate_committed, make_record

pytestmark = pytest.mark.django_db


def run_sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_record_holds_every_category_and_no_raw_ip():
    record = make_record(choices={"first-party": True, "session": True}, event="custom")
    record.refresh_from_db()

    assert record.choices == {
        "necessary": True,
        "first-party": True,
        "third-party": False,
        "session": True,
        "persistent": False,
    }
    assert record.policy_version.number == 2
    assert record.policy_sha256 == record.policy_version.content_sha256
    assert len(record.ip_hmac) == 64
    row = ConsentRecord.objects.filter(pk=record.pk).values().get()
    assert not any("203.0.113.7" in str(value) for value in row.values())
    assert record.user_agent == "Mozilla/5 (X11; Linux x86_64) Chrome/156"


def test_user_agent_keeps_major_versions_and_at_most_200_characters():
    assert shorten_user_agent("Firefox/133.0.1 Gecko/20100101") == "Firefox/133 Gecko/20100101"
    assert len(shorten_user_agent("A" * 1000)) == 200


def test_writing_a_record_is_one_insert_and_touches_no_shared_row(django_assert_num_queries):
    import uuid

    from consent.categories import all_accepted
    from consent.log.records import append_record
    from policy.models import PUBLISHED

    make_record()  # the statement is prepared once per connection
    policy = PUBLISHED.get().current("en")
    with django_assert_num_queries(1) as captured:
        append_record(
            consent_id=uuid.uuid4(),
            event="accept_all",
            surface="banner",
            choices=all_accepted(),
            policy=policy,
            path="/",
            gpc=False,
            language="en",
            ip="203.0.113.7",
            user_agent="Mozilla/5.0",
        )
    assert captured.captured_queries[0]["sql"].startswith("EXECUTE consent_append_record")


def test_records_go_in_on_a_new_connection_and_after_a_rollback(migrated_db):
    first = make_record()  # prepares the append on this connection
    connection.close()
    second = make_record()  # a new connection: prepared again
    with pytest.raises(RuntimeError), transaction.atomic():
        make_record()
        raise RuntimeError("rolled back")
    third = make_record()  # the statement outlives the rollback

    assert set(ConsentRecord.objects.values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
        third.pk,
    }
    integrate_committed()
    logged = set(LogLeaf.objects.filter(source="record").values_list("ref", flat=True))
    assert logged == {first.pk, second.pk, third.pk}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE consent_consentrecord SET third_party = true",
        "DELETE FROM consent_consentrecord",
        "TRUNCATE consent_consentrecord",
    ],
)
def test_the_app_cannot_change_or_remove_records(sql):
    make_record()

    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        run_sql(sql)

    assert ConsentRecord.objects.count() == 1


def test_not_even_the_tables_owner_can_change_a_record():
    record = make_record(event="reject_all")

    with as_owner(), pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts are still pending
        run_sql("UPDATE consent_consentrecord SET event = 'accept_all'")

    assert ConsentRecord.objects.get(pk=record.pk).event == "reject_all"


def test_the_orm_cannot_change_or_remove_records_either():
    record = make_record()

    with pytest.raises(ProgrammingError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(event="reject_all")
    with pytest.raises(ProgrammingError), transaction.atomic():
        record.delete()

    assert ConsentRecord.objects.get(pk=record.pk).event == "accept_all"


@pytest.mark.parametrize("setting", ["consent.purge", "consent.allow_truncate"])
def test_the_old_escape_hatches_open_nothing(setting):
    make_record()

    for statement in ("DELETE FROM consent_consentrecord", "TRUNCATE consent_consentrecord"):
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            run_sql(f"SET LOCAL {setting} = 'on'")
            run_sql(statement)
    with as_owner(), pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        run_sql(f"SET LOCAL {setting} = 'on'")
        run_sql("UPDATE consent_consentrecord SET third_party = true")

    assert ConsentRecord.objects.count() == 1
