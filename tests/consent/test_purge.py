"""The retention purge: records' contents go, their leaves stay, the purge is itself an entry of
the log, and verification tells it from a deletion."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from consent.log import entries, merkle, store
from consent.log.integration import integrate
from consent.log.models import LogLeaf
from consent.models import ConsentPurge, ConsentRecord
from consent.partitions import add_months, month_of, name_of, start_of
from consent.roles import as_owner
from tests.factories import make_record
from tests.helpers import tamper, verify

pytestmark = pytest.mark.django_db

# Purges remove whole months: CUTOFF is the first of a month over a year ago, NEXT the first of
# the month after it.
THIS_MONTH = month_of(timezone.now())
CUTOFF = start_of(add_months(THIS_MONTH, -13))
NEXT = start_of(add_months(THIS_MONTH, -12))
YEARS_AGO = CUTOFF - timedelta(days=2 * 365)


def made_at(monkeypatch, moment):
    monkeypatch.setattr(timezone, "now", lambda: moment)
    record = make_record()
    monkeypatch.undo()
    return record


@pytest.fixture
def log(monkeypatch):
    """Records from three years ago, from CUTOFF's month and the month after it, and today, all
    integrated; one kept record has a lower ID than old ones. Return (old, kept)."""
    old = [made_at(monkeypatch, YEARS_AGO)]
    kept = [made_at(monkeypatch, CUTOFF + timedelta(days=1))]
    old += [made_at(monkeypatch, YEARS_AGO + timedelta(days=n)) for n in (1, 2)]
    kept += [made_at(monkeypatch, moment) for moment in (CUTOFF + timedelta(days=2), NEXT)]
    kept += [make_record(), make_record()]
    integrate()
    return old, kept


def purge(*args, before=CUTOFF):
    out = io.StringIO()
    call_command("purge_consents", "--before", before.isoformat(), *args, stdout=out)
    return out.getvalue()


def remaining_ids():
    return set(ConsentRecord.objects.values_list("pk", flat=True))


def leaf_of(record):
    return LogLeaf.objects.get(source="record", ref=record.pk)


def test_the_purge_removes_exactly_the_integrated_records_before_the_date(log, monkeypatch):
    old, kept = log
    late = made_at(monkeypatch, YEARS_AGO)  # old, but not in the log yet: it stays

    output = purge("--noinput")

    assert remaining_ids() == {r.pk for r in kept} | {late.pk}
    assert f"Purged {len(old)} records created before {CUTOFF:%Y-%m-%d %H:%M:%S} UTC" in output


def test_the_leaves_stay_and_the_purge_is_an_entry_of_the_log(log):
    old, _kept = log
    size = store.latest().size
    leaves = {r.pk: bytes(leaf_of(r).hash) for r in old}

    purge("--noinput")

    assert {r.pk: bytes(leaf_of(r).hash) for r in old} == leaves
    done = ConsentPurge.objects.get()
    assert (done.count, done.highest_id, done.tree_size, done.purged_total) == (
        3,
        max(r.pk for r in old),
        size,
        3,
    )
    leaf = LogLeaf.objects.get(source="purge", ref=done.pk)
    assert leaf.index == size
    assert bytes(leaf.hash) == merkle.leaf_hash(entries.encode(entries.purge_entry(done)))
    assert store.latest().size == size + 1


def test_everything_still_verifies_after_a_purge_old_checkpoints_and_receipts_included(
    log, tmp_path
):
    old, _kept = log
    kept_checkpoint = tmp_path / "kept.txt"
    kept_checkpoint.write_text(store.latest().note)
    old_size, old_root = store.latest().size, store.latest().root
    leaf = leaf_of(old[0])
    receipt_proof = store.inclusion_proof(leaf.index, old_size)

    purge("--noinput")
    make_record()
    integrate()

    output, passed = verify("--checkpoint", str(kept_checkpoint))
    assert passed, output
    assert "3 purged" in output
    # The purged record's receipt still proves its entry against its checkpoint, and that
    # checkpoint is consistent with today's.
    merkle.verify_inclusion(leaf.index, old_size, bytes(leaf.hash), receipt_proof, old_root)
    latest = store.latest()
    merkle.verify_consistency(
        old_size, latest.size, old_root, latest.root, store.consistency_proof(old_size, latest.size)
    )


def test_a_record_deleted_after_the_purge_is_not_taken_for_a_purged_one(log):
    _old, kept = log
    purge("--noinput")
    newest = kept[-1]
    tamper("DELETE FROM consent_consentrecord WHERE id = %s", params=[newest.pk])

    output, passed = verify()

    assert not passed
    assert (
        f"leaf {leaf_of(newest).index} (record {newest.pk}): removed: the record is missing and "
        "it is newer than the last purge"
    ) in output


def test_a_record_deleted_among_the_purged_ones_is_caught_by_their_digest(log):
    _old, kept = log
    purge("--noinput")
    early = kept[0]  # a lower ID and leaf index than purged records: the purge's range
    tamper("DELETE FROM consent_consentrecord WHERE id = %s", params=[early.pk])

    output, passed = verify()

    assert not passed
    assert "removed: 4 records are missing where the purges removed 3" in output


def test_an_edited_purge_is_caught(log):
    purge("--noinput")
    done = ConsentPurge.objects.get()
    tamper("UPDATE consent_consentpurge SET count = 1 WHERE id = %s", params=[done.pk])

    output, passed = verify()

    assert not passed
    index = LogLeaf.objects.get(source="purge", ref=done.pk).index
    assert f"leaf {index} (purge {done.pk}): changed: the row no longer matches its leaf" in output


def test_the_purge_refuses_to_bless_a_deletion_that_came_before_it(log):
    old, _kept = log
    tamper("DELETE FROM consent_consentrecord WHERE id = %s", params=[old[1].pk])
    before = remaining_ids()

    with pytest.raises(CommandError, match="Records are missing .* that no purge removed"):
        purge("--noinput")

    assert remaining_ids() == before
    assert not ConsentPurge.objects.exists()


def test_the_purge_refuses_to_erase_evidence_of_tampering(log):
    old, _kept = log
    tamper(
        "UPDATE consent_consentrecord SET third_party = NOT third_party WHERE id = %s",
        params=[old[1].pk],
    )
    before = remaining_ids()

    with pytest.raises(CommandError, match=rf"Record {old[1].pk} \(leaf \d+\) no longer matches"):
        purge("--noinput")

    assert remaining_ids() == before


def test_a_second_purge_accounts_for_the_first_ones_records_too(log):
    _old, kept = log
    purge("--noinput")
    later = NEXT + timedelta(days=2, hours=12)  # rounded down to NEXT

    output = purge("--noinput", before=later)

    assert f"records created before {NEXT:%Y-%m-%d} UTC, the first of the month" in output
    assert remaining_ids() == {r.pk for r in kept if r.created_at >= NEXT}
    first, second = ConsentPurge.objects.order_by("id")
    assert (first.purged_total, second.count, second.purged_total) == (3, 2, 5)
    output, passed = verify()
    assert passed, output
    assert "5 purged" in output


def test_a_plain_delete_is_still_refused_and_a_purge_cannot_be_changed(log):
    purge("--noinput")

    for statement in (
        "DELETE FROM consent_consentrecord",
        "UPDATE consent_consentpurge SET count = 0",
        "DELETE FROM consent_consentpurge",
    ):
        with (
            pytest.raises(ProgrammingError, match="permission denied"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    with as_owner():  # not even the owner
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            ConsentPurge.objects.update(count=0)
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            ConsentPurge.objects.all().delete()


def test_a_dry_run_removes_nothing(log):
    old, _kept = log
    before = remaining_ids()

    output = purge("--dry-run")

    assert remaining_ids() == before
    assert not ConsentPurge.objects.exists()
    assert f"Dry run: would purge {len(old)} records" in output


def test_the_purge_refuses_records_that_may_prove_a_consent_in_force(log):
    with pytest.raises(CommandError, match="may still prove a consent in force"):
        purge("--noinput", before=timezone.now() - timedelta(days=30))


def test_the_purge_asks_first(log, monkeypatch):
    old, _kept = log
    before = remaining_ids()
    questions = []
    monkeypatch.setattr("builtins.input", lambda q: questions.append(q) or "no")

    with pytest.raises(CommandError, match="Purge cancelled"):
        purge()
    assert remaining_ids() == before
    assert f"This permanently removes {len(old)} consent records" in questions[0]

    monkeypatch.setattr("builtins.input", lambda q: "yes")
    purge()
    assert len(remaining_ids()) == len(before) - len(old)


def test_nothing_to_purge(log):
    assert "Nothing to purge" in purge("--noinput", before=YEARS_AGO)


def test_a_bad_date_is_a_command_error():
    with pytest.raises(CommandError, match="--before: Enter a date such as 2026-01-31"):
        call_command("purge_consents", "--before", "last year", "--noinput")


def partition_of(record):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM consent_consentrecord WHERE id = %s", [record.pk]
        )
        return cursor.fetchone()[0]


def exists(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return cursor.fetchone()[0]


@pytest.fixture
def monthly(log):
    """The log's records moved out of the DEFAULT partition into partitions of their months,
    as `consent_partitions` does once a month's partition appears."""
    with connection.cursor() as cursor:  # DDL refuses to run over the test's pending checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("consent_partitions", stdout=io.StringIO())
    return log


def test_a_purge_drops_the_whole_months_before_it_and_everything_still_verifies(monthly):
    old, kept = monthly
    old_months = {name_of(month_of(r.created_at)) for r in old}
    assert {partition_of(r) for r in old} == old_months
    assert partition_of(kept[0]) == name_of(month_of(CUTOFF))

    output = purge("--noinput")

    assert remaining_ids() == {r.pk for r in kept}
    for name in old_months:
        assert not exists(name)
        assert f"Dropped the partition {name}." in output
    assert exists(name_of(month_of(CUTOFF)))  # the month the purge starts from stays
    assert ConsentPurge.objects.get().count == len(old)
    verified, passed = verify()
    assert passed, verified
    assert f"{len(old)} purged" in verified


def test_a_month_with_a_record_not_in_the_log_yet_loses_its_logged_records_row_by_row(
    monthly, monkeypatch
):
    old, _kept = monthly
    late = made_at(monkeypatch, YEARS_AGO)  # in its month's partition, but not in the log yet
    month = name_of(month_of(YEARS_AGO))
    assert partition_of(late) == month

    output = purge("--noinput")

    assert exists(month) and f"Dropped the partition {month}." not in output
    assert late.pk in remaining_ids()
    assert not remaining_ids() & {r.pk for r in old}
    with as_owner(), connection.cursor() as cursor:  # the runtime may not read a partition
        cursor.execute(f"SELECT id FROM {month}")
        assert cursor.fetchall() == [(late.pk,)]


def test_a_dry_run_drops_no_partition(monthly):
    old, _kept = monthly

    purge("--dry-run")

    assert all(exists(partition_of(r)) for r in old)
    assert len(remaining_ids()) == len(old) + len(monthly[1])
