"""The signed log: integration of records and publications, tiles, proofs and checkpoints."""

from __future__ import annotations

import json
import threading

import pytest
import rfc8785
from django.db import connection, connections

from consent.log import entries, merkle, note, store, tiles
from consent.log.integration import LOCK, integrate
from consent.log.models import LogCheckpoint, LogLeaf, LogTile
from consent.models import ConsentRecord
from policy.models import PUBLISHED, PolicyVersion
from tests.factories import integrate_committed, make_record, make_records

pytestmark = pytest.mark.django_db

HOSTILE = [
    "",
    'quote " backslash \\\\ slash /',
    "\\b\\f\\n\\r\\t \\x01\\x1f \\x7f",
    "é ü ß 中文 \\u2028\\u2029 \\U0001f36a \\ufffd",
    "</script><script>alert(1)</script>",
]


def publications() -> list[PolicyVersion]:
    """Return the published policy versions in the order the integrator logs them."""
    return list(PolicyVersion.objects.published().order_by("published_at", "id"))


def leaf_hashes() -> list[bytes]:
    return [bytes(h) for h in LogLeaf.objects.order_by("index").values_list("hash", flat=True)]


@pytest.mark.parametrize("text", HOSTILE)
def test_entries_are_rfc8785_canonical_json(text):
    entry = {"b": True, "a": text, "n": 9007199254740991, "f": False, "type": "x"}
    assert entries.encode(entry) == rfc8785.dumps(entry)


@pytest.mark.parametrize("text", HOSTILE)
def test_postgresql_builds_the_same_entry_bytes_as_python(text):
    make_record(path=text.replace("\\x00", ""), user_agent=text)
    integrate()
    record = ConsentRecord.objects.select_related("policy_version").get()
    leaf = LogLeaf.objects.get(source="record", ref=record.pk)
    assert bytes(leaf.hash) == merkle.leaf_hash(entries.encode(entries.record_entry(record)))
    for version in publications():
        publication = LogLeaf.objects.get(source="policy", ref=version.pk)
        expected = merkle.leaf_hash(entries.encode(entries.publication_entry(version)))
        assert bytes(publication.hash) == expected


def test_a_record_entry_holds_every_field_and_its_policy():
    record = make_record()
    entry = json.loads(entries.encode(entries.record_entry(record)))
    version = PUBLISHED.get().current("en")
    assert entry["id"] == record.pk
    assert (entry["policy_version"], entry["policy_language"], entry["policy_sha256"]) == (
        version.number,
        version.language,
        version.content_sha256,
    )
    columns = {f.attname for f in ConsentRecord._meta.concrete_fields} - {"policy_version_id"}
    assert columns <= set(entry) | {"pk"}


def test_integration_gives_publications_then_records_the_next_indexes():
    first, second = make_record(), make_record()
    checkpoint = integrate()
    leaves = list(LogLeaf.objects.order_by("index").values_list("index", "source", "ref"))
    logged = [(n, "policy", version.pk) for n, version in enumerate(publications())]
    p = len(logged)
    assert leaves == [*logged, (p, "record", first.pk), (p + 1, "record", second.pk)]
    assert checkpoint.size == p + 2
    assert integrate() is None  # nothing pending: no new checkpoint
    third = make_record()
    assert integrate().size == p + 3
    assert LogLeaf.objects.get(index=p + 2).ref == third.pk


def test_the_checkpoint_is_a_signed_note_of_the_tree_root():
    for _ in range(5):
        make_record()
    checkpoint = integrate()
    body, others = note.open_checkpoint(checkpoint.note, store.verifier())
    assert others == []
    size = len(publications()) + 5
    assert body.size == size
    assert body.origin == store.signer().name
    assert body.root == merkle.root(size, merkle.in_memory(leaf_hashes()))
    tampered = checkpoint.note.replace(f"\n{size}\n", f"\n{size + 1}\n")
    with pytest.raises(note.NoteError):
        note.open_checkpoint(tampered, store.verifier())


def test_tiles_hold_the_tree_and_serve_proofs_in_batches_of_any_size():
    # 600 records in batches that cross tile boundaries: two full level-0 tiles, one partial.
    for count in (1, 255 - len(publications()), 2, 300, 43):
        make_records(count)
        integrate()
    size = store.latest().size
    assert size == 601
    hashes = leaf_hashes()
    reference = merkle.in_memory(hashes)
    full = list(LogTile.objects.order_by("level", "index").values_list("level", "index"))
    assert full == [(0, 0), (0, 1)]
    assert store.tile(0, 1, 256, size) == b"".join(hashes[256:512])
    assert store.tile(0, 2, 89, size) == b"".join(hashes[512:601])
    assert store.tile(0, 2, 90, size) is None
    assert store.tile(1, 0, 2, size) == tiles.fold(hashes[:256]) + tiles.fold(hashes[256:512])
    assert store.tile(1, 0, 3, size) is None
    for index in (0, 255, 256, 600):
        proof = store.inclusion_proof(index, size)
        assert proof == merkle.inclusion_proof(index, size, reference)
        merkle.verify_inclusion(index, size, hashes[index], proof, store.latest().root)
    for old in (1, 255, 257, 555):
        proof = store.consistency_proof(old, size)
        merkle.verify_consistency(
            old, size, merkle.root(old, reference), store.latest().root, proof
        )


def test_a_backlog_goes_in_over_several_batches_in_order():
    make_records(250)
    batches = 0
    while integrate(limit=100) is not None:
        batches += 1
    assert batches == 3
    refs = list(
        LogLeaf.objects.filter(source="record").order_by("index").values_list("ref", flat=True)
    )
    assert refs == sorted(ConsentRecord.objects.values_list("id", flat=True))


def test_integrators_sign_one_checkpoint_an_interval_unless_a_backlog_waits():
    make_record()
    first = integrate()
    assert not first.full_batch
    make_record()
    assert integrate(not_within=60) is None  # the last checkpoint is younger than that
    assert integrate(not_within=0.0).size == first.size + 1
    make_records(3)
    assert integrate(limit=2).full_batch
    assert not integrate(limit=2).full_batch


def test_no_second_integrator_runs_while_one_holds_the_lock():
    make_record()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN; SELECT pg_advisory_xact_lock(%s)", [LOCK])
            assert integrate() is None
            assert not LogLeaf.objects.exists()
            cursor.execute("ROLLBACK")
        assert integrate().size == len(publications()) + 1
    finally:
        other.close()


def test_a_batch_that_dies_leaves_nothing_half_done(monkeypatch):
    make_record()

    def die(*args, **kwargs):
        raise RuntimeError("killed mid-batch")

    monkeypatch.setattr(store, "_copy_leaves", die)
    with pytest.raises(RuntimeError):
        integrate()
    assert not LogLeaf.objects.exists()
    assert not LogCheckpoint.objects.exists()
    monkeypatch.undo()
    assert integrate().size == len(publications()) + 1


def test_records_committed_by_concurrent_writers_all_land_once(migrated_db):
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(n: int) -> None:
        try:
            for _ in range(n):
                make_record()
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    def integrate_meanwhile() -> None:
        try:
            while not stop.is_set():
                integrate()
        finally:
            connection.close()

    integrator = threading.Thread(target=integrate_meanwhile)
    integrator.start()
    writers = [threading.Thread(target=write, args=(40,)) for _ in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    integrator.join()
    integrate_committed()
    assert errors == []
    refs = list(LogLeaf.objects.filter(source="record").values_list("ref", flat=True))
    assert sorted(refs) == sorted(ConsentRecord.objects.values_list("id", flat=True))
    assert len(refs) == 160
    size = store.latest().size
    assert size == LogLeaf.objects.count()
    assert store.latest().root == merkle.root(size, merkle.in_memory(leaf_hashes()))
