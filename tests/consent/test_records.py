import io
import threading
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, connections, transaction

from consent import records
from consent.integrity import CHAINS, GENESIS
from consent.models import ChainHead, ConsentRecord
from consent.records import shorten_user_agent
from tests.factories import make_record

pytestmark = pytest.mark.django_db


def run_sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify():
    """Return what verify_consents says, and whether it passed."""
    out = io.StringIO()
    try:
        call_command("verify_consents", stdout=out)
    except CommandError as error:
        return str(error), False
    return out.getvalue(), True


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


def test_a_process_links_its_records_into_the_chain_it_wrote_last():
    first = make_record()
    second = make_record(event="withdraw", choices={})

    assert second.chain == first.chain
    assert second.seq == first.seq + 1
    assert second.prev_hash == first.hash
    head = ChainHead.objects.get(chain=first.chain)
    assert (head.seq, head.hash) == (second.seq, second.hash)


def test_a_record_follows_a_head_only_while_it_is_still_the_head():
    first = make_record(chain=3)
    stale = records._read_head(3)
    make_record(chain=3)  # another process extends chain 3
    record = ConsentRecord.objects.get(pk=first.pk)
    record.pk, record.seq, record.prev_hash = None, stale.seq + 1, stale.hash

    assert records._insert_after(record) is False
    assert ConsentRecord.objects.filter(chain=3).count() == 2
    assert ChainHead.objects.get(chain=3).seq == 2


def test_a_writer_whose_chain_moved_on_appends_after_the_real_head():
    make_record(chain=3)
    remembered = list(records._free_heads)  # this process: chain 3 ends at its first record
    other = make_record(chain=3)  # another process appends to chain 3 meanwhile
    records._free_heads[:] = remembered

    record = make_record()

    head = ChainHead.objects.get(chain=record.chain)
    assert (head.seq, head.hash) == (record.seq, record.hash)
    if record.chain == 3:  # it happened to pick chain 3 again: after the other's record
        assert (record.seq, record.prev_hash) == (other.seq + 1, other.hash)
    output, passed = verify()
    assert passed, output


@pytest.mark.django_db(transaction=True)
def test_records_go_in_on_a_new_connection_and_after_a_rollback():
    from django.apps import apps

    from consent.seed import seed_registry
    from policy.models import PolicyVersion
    from policy.seed import publish_seed_policy

    seed_registry(apps)
    publish_seed_policy(PolicyVersion)
    first = make_record()  # prepares the append on this connection
    connection.close()
    second = make_record()  # a new connection: prepared again
    with pytest.raises(RuntimeError), transaction.atomic():
        make_record()
        raise RuntimeError("rolled back")
    third = make_record()  # the statement outlives the rollback; the remembered head does not

    assert set(ConsentRecord.objects.values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
        third.pk,
    }
    output, passed = verify()
    assert passed, output


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE consent_consentrecord SET third_party = true",
        "DELETE FROM consent_consentrecord",
        "TRUNCATE consent_consentrecord",
    ],
)
def test_the_database_refuses_to_change_or_remove_records(sql):
    make_record()

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        # The test database allows TRUNCATE so Django can empty it between tests; others do not.
        run_sql("SET LOCAL consent.allow_truncate = 'off'")
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts are still pending
        run_sql(sql)

    assert ConsentRecord.objects.count() == 1


def test_the_orm_cannot_change_or_remove_records_either():
    record = make_record()

    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(event="reject_all")
    with pytest.raises(IntegrityError), transaction.atomic():
        record.delete()

    assert ConsentRecord.objects.get(pk=record.pk).event == "accept_all"


def test_the_purge_setting_is_the_only_way_to_delete():
    make_record()

    with transaction.atomic():
        run_sql("SET LOCAL consent.purge = 'on'")
        run_sql("DELETE FROM consent_consentrecord")

    assert ConsentRecord.objects.count() == 0


def test_verify_passes_on_an_untouched_log():
    for _ in range(20):
        make_record()

    output, passed = verify()

    assert passed, output
    assert f"OK: 20 records in {CHAINS} chains" in output


def without_guard(sql, params=()):
    """Tamper the way someone with database access would: switch the guard off, then write."""
    with transaction.atomic():
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts are still pending
        run_sql("ALTER TABLE consent_consentrecord DISABLE TRIGGER consent_record_append_only")
        run_sql(sql, params)
        run_sql("ALTER TABLE consent_consentrecord ENABLE TRIGGER consent_record_append_only")


COLUMNS = [field.column for field in ConsentRecord._meta.concrete_fields if field.column != "id"]


def insert_copy(record, **expressions):
    """Insert a copy of a record's row, with some columns replaced by SQL expressions."""
    select = ", ".join(expressions.get(column, column) for column in COLUMNS)
    without_guard(
        f"INSERT INTO consent_consentrecord ({', '.join(COLUMNS)}) "
        f"SELECT {select} FROM consent_consentrecord WHERE id = %s",
        [record.pk],
    )


def three_records_in_one_chain():
    consent_id = uuid.uuid4()
    return [make_record(consent_id, event=e) for e in ("accept_all", "custom", "withdraw")]


def test_verify_catches_an_edited_record():
    first, second, _third = three_records_in_one_chain()

    without_guard("UPDATE consent_consentrecord SET third_party = false WHERE id = %s", [second.pk])

    output, passed = verify()
    assert not passed
    assert f"chain {second.chain}, seq {second.seq} (record {second.pk}): changed" in output


def test_verify_catches_a_deleted_record():
    _first, second, _third = three_records_in_one_chain()

    without_guard("DELETE FROM consent_consentrecord WHERE id = %s", [second.pk])

    output, passed = verify()
    assert not passed
    assert f"chain {second.chain}, seq {second.seq}" in output
    assert "missing" in output


def test_verify_catches_the_newest_record_deleted():
    *_, third = three_records_in_one_chain()

    without_guard("DELETE FROM consent_consentrecord WHERE id = %s", [third.pk])

    output, passed = verify()
    assert not passed
    assert f"chain {third.chain}, seq {third.seq} (after the last record): missing" in output


def test_verify_catches_an_inserted_record():
    first, second, third = three_records_in_one_chain()

    # A forged record squeezed in after the first: everything after it moves up one place.
    for shift in (1000, -999):  # in two steps: (chain, seq) stays unique throughout
        without_guard(
            "UPDATE consent_consentrecord SET seq = seq + %s WHERE chain = %s AND seq > %s",
            [shift, first.chain, first.seq],
        )
    insert_copy(
        first,
        event="'reject_all'",
        first_party="false",
        third_party="false",
        session="false",
        persistent="false",
        seq="seq + 1",
        prev_hash="hash",
        hash="md5(random()::text) || md5(random()::text)",
    )

    output, passed = verify()
    assert not passed
    assert f"chain {first.chain}, seq {first.seq + 1}" in output
    assert "inserted" in output


def test_verify_catches_a_record_appended_past_the_head():
    first, *_ = three_records_in_one_chain()

    insert_copy(first, seq="4", prev_hash=f"'{GENESIS}'", hash=f"'{GENESIS}'")

    output, passed = verify()
    assert not passed
    assert "inserted" in output


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_every_chain_intact(settings):
    from django.apps import apps

    from consent.seed import seed_registry
    from policy.models import PolicyVersion
    from policy.seed import publish_seed_policy

    seed_registry(apps)
    publish_seed_policy(PolicyVersion)
    # Every writer starts out believing it may append to the end of chain 3: all but one must
    # find the head moved, and move on.
    records._free_heads[:] = [records._read_head(3)] * 8
    errors = []

    def write(n):
        try:
            for _ in range(n):
                make_record()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(25,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert ConsentRecord.objects.count() == 200
    assert ConsentRecord.objects.filter(chain=3, seq=1).count() == 1
    output, passed = verify()
    assert passed, output
