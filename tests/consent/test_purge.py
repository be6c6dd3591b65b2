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

from consent import entries
from consent.integration import integrate
from consent.log import merkle, store
from consent.log.models import LogLeaf
from consent.models import ConsentPurge, ConsentRecord
from consent.roles import as_owner
from tests.factories import make_record
from tests.helpers import tamper, verify

pytestmark = pytest.mark.django_db

YEARS_AGO = timezone.now() - timedelta(days=3 * 365)
CUTOFF = YEARS_AGO + timedelta(days=365)


def made_at(monkeypatch, moment):
    monkeypatch.setattr(timezone, "now", lambda: moment)
    record = make_record()
    monkeypatch.undo()
    return record


@pytest.fixture
def log(monkeypatch):
    """Records from three years ago and from two years ago (after CUTOFF) and today, all
    integrated; one kept record has a lower ID than old ones. Return (old, kept)."""
    old = [made_at(monkeypatch, YEARS_AGO)]
    kept = [made_at(monkeypatch, CUTOFF + timedelta(days=1))]
    old += [made_at(monkeypatch, YEARS_AGO + timedelta(days=n)) for n in (1, 2)]
    kept += [made_at(monkeypatch, CUTOFF + timedelta(days=n)) for n in (2, 3)]
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
    later = CUTOFF + timedelta(days=2, hours=12)

    purge("--noinput", before=later)

    assert remaining_ids() == {r.pk for r in kept if r.created_at >= later}
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
