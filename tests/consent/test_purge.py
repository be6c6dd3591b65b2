import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from consent.integrity import CHAINS, GENESIS
from consent.models import ChainCheckpoint, ChainHead, ConsentRecord
from tests.consent.test_records import without_guard
from tests.consent.test_verify import verify
from tests.factories import make_record

pytestmark = pytest.mark.django_db

YEARS_AGO = timezone.now() - timedelta(days=3 * 365)
CUTOFF = YEARS_AGO + timedelta(days=365)


@pytest.fixture
def log(monkeypatch):
    """Records from three and two years ago and from today, in chains 3 and 5 (and 7: old only).

    Return the records older than CUTOFF, and those kept.
    """
    moments = [YEARS_AGO + timedelta(days=n) for n in (0, 1, 2)]
    moments += [CUTOFF + timedelta(days=n) for n in (0, 1)]
    records = []
    for moment in moments:
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        records += [make_record(chain=chain) for chain in (3, 5)]
    monkeypatch.setattr(timezone, "now", lambda: YEARS_AGO + timedelta(hours=1))
    old_only = make_record(chain=7)
    monkeypatch.undo()
    records += [make_record(chain=chain) for chain in (3, 5)]
    old = [r for r in records if r.created_at < CUTOFF] + [old_only]
    return old, [r for r in records if r.created_at >= CUTOFF]


def purge(*args):
    out = io.StringIO()
    call_command("purge_consents", "--before", CUTOFF.isoformat(), *args, stdout=out)
    return out.getvalue()


def remaining_ids():
    return set(ConsentRecord.objects.values_list("pk", flat=True))


def test_the_purge_removes_exactly_the_records_before_the_date(log):
    old, kept = log

    output = purge("--noinput")

    assert remaining_ids() == {record.pk for record in kept}
    assert f"Purged {len(old)} records created before {CUTOFF:%Y-%m-%d %H:%M:%S} UTC" in output
    assert "from 3 chains" in output


def test_the_purge_leaves_a_checkpoint_where_it_cut_each_chain(log):
    old, _kept = log

    purge("--noinput")

    checkpoints = {c.chain: c for c in ChainCheckpoint.objects.all()}
    assert set(checkpoints) == {3, 5, 7}
    for chain, checkpoint in checkpoints.items():
        last = max((r for r in old if r.chain == chain), key=lambda r: r.seq)
        assert (checkpoint.seq, checkpoint.hash) == (last.seq, last.hash)
        assert checkpoint.records == sum(1 for r in old if r.chain == chain)
        assert checkpoint.purged_before == CUTOFF
        assert len(checkpoint.signature) == 64


def test_the_log_verifies_after_a_purge_and_keeps_growing(log):
    _old, kept = log
    purge("--noinput")
    make_record(chain=7)
    make_record(chain=3)

    output, passed = verify()

    assert passed, output
    assert f"OK: {len(kept) + 2} records in {CHAINS} chains" in output
    assert ChainHead.objects.get(chain=7).seq == 2


def test_a_plain_delete_is_still_refused_after_a_purge(log):
    purge("--noinput")

    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM consent_consentrecord")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ChainCheckpoint.objects.update(seq=0)


def test_tampering_after_a_purge_is_still_caught(log):
    _old, kept = log
    purge("--noinput")
    first_kept = min((r for r in kept if r.chain == 3), key=lambda r: r.seq)

    without_guard("DELETE FROM consent_consentrecord WHERE id = %s", [first_kept.pk])

    output, passed = verify()
    assert not passed
    assert f"chain 3, seq {first_kept.seq}" in output
    assert "missing" in output


def test_deleting_old_records_is_no_purge_without_the_key(log):
    """Someone with database access, but not the key, removes records and fakes a checkpoint."""
    old, _kept = log
    in_chain = sorted((r for r in old if r.chain == 5), key=lambda r: r.seq)
    last = in_chain[-1]
    without_guard("DELETE FROM consent_consentrecord WHERE chain = 5 AND seq <= %s", [last.seq])

    output, passed = verify()
    assert not passed
    assert "chain 5, seq 1" in output
    assert "missing" in output

    ChainCheckpoint.objects.create(
        chain=5,
        seq=last.seq,
        hash=last.hash,
        purged_before=CUTOFF,
        purged_at=timezone.now(),
        records=len(in_chain),
        signature="0" * 64,
    )

    output, passed = verify()
    assert not passed
    assert f"chain 5, seq {last.seq} (purge checkpoint): forged" in output


def test_an_edited_checkpoint_is_caught(log):
    purge("--noinput")
    checkpoint = ChainCheckpoint.objects.get(chain=3)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE consent_chaincheckpoint DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE consent_chaincheckpoint SET purged_before = purged_before + interval '1 day'"
            " WHERE id = %s",
            [checkpoint.pk],
        )
        cursor.execute("ALTER TABLE consent_chaincheckpoint ENABLE TRIGGER USER")

    output, passed = verify()
    assert not passed
    assert f"chain 3, seq {checkpoint.seq} (purge checkpoint): forged" in output


def test_removing_the_latest_checkpoint_shows_the_records_as_missing(log):
    purge("--noinput")
    checkpoint = ChainCheckpoint.objects.get(chain=5)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE consent_chaincheckpoint DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM consent_chaincheckpoint WHERE id = %s", [checkpoint.pk])
        cursor.execute("ALTER TABLE consent_chaincheckpoint ENABLE TRIGGER USER")

    output, passed = verify()
    assert not passed
    assert "chain 5, seq 1" in output
    assert "missing" in output


def test_a_second_purge_starts_from_the_first_ones_checkpoint(log, monkeypatch):
    _old, kept = log
    purge("--noinput")
    later = CUTOFF + timedelta(days=1)  # between the two days kept from two years ago

    call_command("purge_consents", "--before", later.isoformat(), "--noinput", stdout=io.StringIO())

    assert remaining_ids() == {r.pk for r in kept if r.created_at >= later}
    assert ChainCheckpoint.objects.filter(chain=3).count() == 2
    output, passed = verify()
    assert passed, output


def test_a_dry_run_verifies_and_deletes_nothing(log):
    old, _kept = log
    before = remaining_ids()

    output = purge("--dry-run")

    assert remaining_ids() == before
    assert not ChainCheckpoint.objects.exists()
    assert f"Dry run: would purge {len(old)} records" in output
    assert "chain  3:" in output


def test_the_purge_refuses_to_erase_evidence_of_tampering(log):
    old, _kept = log
    without_guard("UPDATE consent_consentrecord SET third_party = false WHERE id = %s", [old[1].pk])
    before = remaining_ids()

    with pytest.raises(CommandError, match=rf"Purge refused: .*record {old[1].pk}\): changed"):
        purge("--noinput")

    assert remaining_ids() == before
    assert not ChainCheckpoint.objects.exists()


def test_the_purge_refuses_records_that_may_prove_a_consent_in_force(log):
    with pytest.raises(CommandError, match="may still prove a consent in force"):
        call_command(
            "purge_consents",
            "--before",
            (timezone.now() - timedelta(days=30)).date().isoformat(),
            "--noinput",
        )


def test_the_purge_asks_first(log, monkeypatch):
    old, _kept = log
    before = remaining_ids()
    questions = []
    monkeypatch.setattr("builtins.input", lambda q: questions.append(q) or "no")

    with pytest.raises(CommandError, match="Purge cancelled"):
        purge()
    assert remaining_ids() == before
    assert f"This permanently deletes {len(old)} consent records" in questions[0]

    monkeypatch.setattr("builtins.input", lambda q: "yes")
    purge()
    assert len(remaining_ids()) == len(before) - len(old)


def test_nothing_to_purge(log):
    output = io.StringIO()
    call_command(
        "purge_consents", "--before", YEARS_AGO.date().isoformat(), "--noinput", stdout=output
    )

    assert "Nothing to purge" in output.getvalue()


def test_a_bad_date_is_a_command_error():
    with pytest.raises(CommandError, match="--before: Enter a date such as 2026-01-31"):
        call_command("purge_consents", "--before", "last year", "--noinput")


def test_a_chain_purged_whole_continues_from_its_checkpoint(log):
    purge("--noinput")

    assert not ConsentRecord.objects.filter(chain=7).exists()
    record = make_record(chain=7)
    checkpoint = ChainCheckpoint.objects.get(chain=7)
    assert (record.seq, record.prev_hash) == (checkpoint.seq + 1, checkpoint.hash)
    assert record.prev_hash != GENESIS


def test_a_clock_that_went_back_never_makes_the_purge_delete_a_younger_record(monkeypatch):
    records = []
    for moment in (YEARS_AGO, CUTOFF + timedelta(days=10), CUTOFF + timedelta(days=1)):
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        records.append(make_record(chain=9))
    monkeypatch.undo()

    with pytest.raises(CommandError, match="nothing was removed"):
        purge("--noinput")

    assert remaining_ids() == {record.pk for record in records}
