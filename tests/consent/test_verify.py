"""verify_consents: the log rebuilt from the database with the public key alone, and each attack
of issue #12 caught, given a checkpoint kept from before it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from consent.audit.verification import verify_log
from consent.log import note, store
from consent.log.integration import integrate, integrate_all
from consent.log.models import LogCheckpoint, LogLeaf
from consent.models import ConsentRecord
from policy.models import PolicyVersion
from tests.factories import (
    integrate_committed,
    make_auditor,
    make_published,
    make_record,
    make_records,
    make_staff,
)
from tests.helpers import LOG_TABLES, tamper, verify, verify_fails

pytestmark = pytest.mark.django_db


def rebuild_log() -> None:
    """Throw the log away and integrate what the records now say, signed with the real key:
    a log rewritten by the operator who holds the key."""
    tamper(*(f"DELETE FROM {table}" for table in LOG_TABLES.split(", ")))
    integrate_all()


def published() -> int:
    """Return how many policy versions are published: each is an entry of the log, integrated
    before the records."""
    return PolicyVersion.objects.published().count()


@pytest.fixture
def log():
    """Ten records, each integrated in a batch of its own: a checkpoint at every size (the
    first also holds the published policy versions)."""
    records = []
    for _ in range(10):
        records.append(make_record())
        integrate()
    return records


@pytest.fixture
def keep(tmp_path):
    """Return a function that writes today's checkpoint to a file kept away from the site."""

    def kept() -> str:
        path = tmp_path / f"checkpoint-{store.latest().size}.txt"
        path.write_text(store.latest().note, encoding="utf-8")
        return str(path)

    return kept


def test_an_untouched_log_verifies(log, keep):
    make_record()  # not integrated yet: pending, not a problem

    output, passed = verify("--checkpoint", keep())

    assert passed, output
    size = published() + 10
    assert (
        f"{size} entries (10 records checked, 0 purged, 1 pending), 0 full tiles, 10 checkpoints"
        in output
    )
    assert (
        f"OK: {size} entries, 10 records match their leaves; every tile and checkpoint verifies;"
        in output
    )
    assert "consistent with the 1 kept checkpoint" in output


def test_an_empty_log_verifies():
    output, passed = verify()

    assert passed, output
    assert "OK: 0 entries" in output


def test_the_tree_root_printed_is_the_latest_checkpoint_root(log):
    output, _passed = verify()

    body, _ = note.open_checkpoint(store.latest().note, store.verifier())
    import base64

    assert f"Tree root: {base64.b64encode(body.root).decode()}" in output


def caught_only_by(kept: str) -> str:
    """The database alone verifies: return what verifying against the kept checkpoint says."""
    assert verify()[1]
    return verify_fails("--checkpoint", kept)


def test_the_last_records_deleted_and_the_log_rolled_back(log, keep):
    kept = keep()
    last = log[-3:]
    ids = ", ".join(str(r.pk) for r in last)
    cut = published() + 7  # the leaf of the first of the last three records
    assert LogLeaf.objects.get(source="record", ref=last[0].pk).index == cut
    tamper(
        f"DELETE FROM consent_consentrecord WHERE id IN ({ids})",
        f"DELETE FROM consent_logleaf WHERE index >= {cut}",
        f"DELETE FROM consent_logcheckpoint WHERE size > {cut}",
    )
    removed = f"the log has {cut} entries, fewer than the kept checkpoint's {cut + 3}: entries"
    assert f"kept checkpoint: {removed} were removed" in caught_only_by(kept)


def test_the_whole_log_wiped_and_a_new_one_signed_with_the_real_key(log, keep):
    kept = keep()
    size = published() + 10
    tamper(
        "DELETE FROM consent_consentrecord", *(f"DELETE FROM {t}" for t in LOG_TABLES.split(", "))
    )
    for _ in range(12):
        make_record()
    integrate()
    rewritten = f"the log's first {size} entries are not those of the kept checkpoint"
    assert f"kept checkpoint: {rewritten}: the log was rewritten since" in caught_only_by(kept)


def test_every_record_of_one_day_deleted(monkeypatch, keep):
    day = timezone.now() - timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: day)
    that_day = [make_record() for _ in range(3)]
    monkeypatch.undo()
    others = [make_record() for _ in range(2)]
    integrate()
    kept = keep()
    tamper("DELETE FROM consent_consentrecord WHERE created_at < %s", params=[day + timedelta(1)])

    output = verify_fails()

    leaves = dict(LogLeaf.objects.filter(source="record").values_list("ref", "index"))
    for record in that_day:
        assert (
            f"leaf {leaves[record.pk]} (record {record.pk}): removed: the record is missing and "
            "no purge removed it"
        ) in output
    assert all(f"(record {record.pk})" not in output for record in others)

    rebuild_log()  # and the log rebuilt without them
    output = verify_fails("--checkpoint", kept)
    size = published() + 5  # the published policy versions and five records
    assert f"the log has {size - 3} entries, fewer than the kept checkpoint's {size}" in output


def test_a_record_edited_and_the_log_rewritten_and_resigned(log, keep):
    kept = keep()
    tamper(
        "UPDATE consent_consentrecord SET event = 'reject_all' WHERE id = %s", params=[log[4].pk]
    )

    output = verify_fails()
    index = LogLeaf.objects.get(source="record", ref=log[4].pk).index
    assert f"leaf {index} (record {log[4].pk}): changed: the record no longer matches" in output

    rebuild_log()
    output = caught_only_by(kept)  # consistent in itself, signed with the real key
    size = published() + 10
    assert f"the log's first {size} entries are not those of the kept checkpoint" in output


def test_two_records_ids_swapped(log, keep):
    kept = keep()
    a, b = log[2].pk, log[7].pk
    tamper(
        f"UPDATE consent_consentrecord SET id = -id WHERE id IN ({a}, {b})",
        f"UPDATE consent_consentrecord SET id = {b} WHERE id = -{a}",
        f"UPDATE consent_consentrecord SET id = {a} WHERE id = -{b}",
    )

    output = verify_fails()
    for record in (a, b):
        index = LogLeaf.objects.get(source="record", ref=record).index
        assert f"leaf {index} (record {record}): changed" in output

    rebuild_log()
    output = verify_fails("--checkpoint", kept)
    assert "not those of the kept checkpoint" in output


def test_a_published_policy_text_edited_in_the_database(log, keep):
    kept = keep()
    version = PolicyVersion.objects.published().get(language="en", number=2)
    index = LogLeaf.objects.get(source="policy", ref=version.pk).index
    tamper(
        "UPDATE policy_policyversion SET rendered_html = rendered_html || '<p>We sell data.</p>'"
        " WHERE id = %s",
        params=[version.pk],
    )

    output = verify_fails("--checkpoint", kept)
    assert (
        f"policy text: version {version.number} (en): its text does not match its SHA-256"
    ) in output

    # Its SHA-256 edited to match: the publication's entry no longer does.
    tamper(
        "UPDATE policy_policyversion SET content_sha256 = encode(sha256(convert_to("
        "rendered_html, 'UTF8')), 'hex') WHERE id = %s",
        params=[version.pk],
    )
    output = verify_fails("--checkpoint", kept)
    assert "policy text" not in output
    assert f"leaf {index} (policy {version.pk}): changed: the row no longer matches its leaf" in (
        output
    )


def test_a_new_publication_verifies_and_its_text_is_checked(log):
    version = make_published(body="A new policy.\n\n[[cookie-table]]\n")
    assert verify()[0].count("pending") == 1  # published, not yet integrated
    integrate()

    output, passed = verify()

    assert passed, output
    assert LogLeaf.objects.filter(source="policy", ref=version.pk).exists()


def test_a_record_slipped_in_below_the_integrators_cursor_is_reported(log):
    # A copy of a record, written as if by a transaction long ended (txid 1).
    columns = ", ".join(f.column for f in ConsentRecord._meta.concrete_fields if f.column != "id")
    tamper(
        f"INSERT INTO consent_consentrecord ({columns}, txid) "
        f"SELECT {columns}, '1'::xid8 FROM consent_consentrecord WHERE id = %s",
        params=[log[0].pk],
    )
    inserted = ConsentRecord.objects.order_by("-pk").first()

    output = verify_fails()

    assert f"(record {inserted.pk}): not integrated: older than the integrator's cursor" in output


def test_a_tile_or_a_checkpoint_edited_is_named(keep):
    for _ in range(300):
        make_record()
    integrate()
    tamper("UPDATE consent_logtile SET root = sha256(root) WHERE level = 0 AND index = 0")

    output = verify_fails()
    assert "tile: tile 0/000 has another root than its hashes make" in output

    other = note.generate_signer(store.signer().name)
    size = store.latest().size
    forged = note.sign_note(note.Checkpoint(other.name, size, store.latest().root).body(), other)
    tamper("UPDATE consent_logcheckpoint SET note = %s WHERE size = %s", params=[forged, size])
    output, passed = verify()
    assert f"checkpoint: checkpoint of size {size:,}:" in output


def test_a_kept_checkpoint_of_another_log_or_key_is_refused(log, tmp_path):
    other = note.generate_signer("elsewhere.example/log")
    path = tmp_path / "other.txt"
    path.write_text(note.sign_note(note.Checkpoint(other.name, 3, b"\0" * 32).body(), other))

    output = verify_fails("--checkpoint", str(path))

    assert "kept checkpoint: kept checkpoint 1 does not verify" in output


def test_an_unreadable_checkpoint_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read the checkpoint"):
        call_command("verify_consents", "--checkpoint", str(tmp_path / "missing.txt"))


def test_an_older_kept_checkpoint_still_verifies_after_growth(log, keep):
    kept = keep()
    for _ in range(5):
        make_record()
        integrate()

    output, passed = verify("--checkpoint", kept, "--checkpoint", keep())

    assert passed, output
    assert "consistent with the 2 kept checkpoints" in output


def test_outside_a_transaction_both_passes_share_one_snapshot(migrated_db):
    for _ in range(20):
        make_record()
    integrate_committed()
    tamper(
        "UPDATE consent_consentrecord SET path = '/x' WHERE id = (SELECT min(id) FROM "
        "consent_consentrecord)"
    )

    report = verify_log()

    assert [p.kind for p in report.problems] == ["changed"]
    assert report.size == published() + 20 and report.checkpoints == LogCheckpoint.objects.count()


# The auditors' page ---------------------------------------------------------------------------


def test_auditors_verify_the_log_against_a_pasted_checkpoint(client, log):
    kept = store.latest().note
    client.force_login(make_auditor())
    tamper("DELETE FROM consent_consentrecord WHERE id = %s", params=[log[3].pk])

    response = client.get("/audit/verify/", {"run": "1", "checkpoint": kept.replace("\n", "\r\n")})

    assert response.status_code == 200
    text = response.content.decode()
    assert "Broken: 1 problem." in text
    assert "the record is missing and no purge removed it" in text


def test_the_page_says_intact_for_an_untouched_log(client, log):
    client.force_login(make_auditor())

    response = client.get("/audit/verify/", {"run": "1"})

    size = published() + 10
    assert f"Intact: {size} entries, every leaf, tile and checkpoint verified." in (
        response.content.decode()
    )


def test_a_garbled_pasted_checkpoint_is_reported_not_a_500(client, log):
    client.force_login(make_auditor())

    response = client.get("/audit/verify/", {"run": "1", "checkpoint": "not a note\n"})

    assert response.status_code == 200
    assert "kept checkpoint 1 does not verify" in response.content.decode()


def test_the_page_needs_the_verify_permission(client):
    client.force_login(make_staff())

    assert client.get("/audit/verify/", {"run": "1"}).status_code == 403


def test_tiles_and_checkpoints_that_cross_tile_boundaries_verify(keep):

    # Checkpoints at 256 (a tile's exact end), 258, 558 and 601 entries, after a first one that
    # holds the published policy versions and one record.
    records = (1, 255 - published(), 2, 300, 43)
    kept = []
    for count in records:
        make_records(count)
        integrate()
        kept.append(keep())

    output, passed = verify(*(arg for path in kept for arg in ("--checkpoint", path)))

    assert passed, output
    assert f"601 entries ({sum(records)} records checked, 0 purged, 0 pending)" in output
    assert [c.size for c in LogCheckpoint.objects.order_by("size")][1:] == [256, 258, 558, 601]
    assert "2 full tiles, 5 checkpoints" in output


def test_an_oversized_pasted_checkpoint_is_a_400_and_verifies_nothing(client):
    client.force_login(make_auditor())

    response = client.get("/audit/verify/", {"run": "1", "checkpoint": "x" * (note.MAX_NOTE + 1)})

    assert response.status_code == 400
    assert "report" not in response.context
