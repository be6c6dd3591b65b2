"""The log's public endpoints, end to end: checkpoint, tiles, key, and witnesses' cosignatures;
and the admin that registers witnesses."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from consent.log import merkle, note, store, tiles
from consent.log.integration import integrate
from consent.log.models import Cosignature, LogCheckpoint, LogLeaf, Witness
from policy.models import PolicyVersion
from tests.factories import make_auditor, make_record, make_records, make_staff

pytestmark = pytest.mark.django_db

CHECKPOINT = "/consent-log/checkpoint"
KEY = "/consent-log/key"
COSIGN = "/consent-log/cosignature"
WITNESSES = "/admin/consent/witness/"
COSIGNATURES = "/admin/consent/cosignature/"
TEXT = "text/plain; charset=utf-8"
FULL = "public, max-age=31536000, immutable"


def tile_url(level: int, index: int, width: int = tiles.WIDTH) -> str:
    return f"/consent-log/tile/{tiles.tile_path(level, index, width)}"


def published() -> int:
    """Return how many policy versions are published: each is an entry of the log, integrated
    before the records."""
    return PolicyVersion.objects.published().count()


def leaf_hashes() -> list[bytes]:
    return [bytes(h) for h in LogLeaf.objects.order_by("index").values_list("hash", flat=True)]


def make_witness(name: str = "witness.example/w1", *, active: bool = True) -> note.Signer:
    """Return a witness's cosigning key, registered in the admin's table."""
    signer = note.generate_signer(name, note.COSIGNATURE_V1)
    Witness.objects.create(name=name, key=str(signer.verifier), active=active)
    return signer


def cosigned(checkpoint: LogCheckpoint, *witnesses: note.Signer, when: int | None = None) -> str:
    """Return the checkpoint's note with each witness's cosignature line added."""
    body, _ = note.split_note(checkpoint.note)
    stamp = int(time.time()) if when is None else when
    return checkpoint.note + "".join(note.cosign(body, w, stamp).line() for w in witnesses)


def post(text: str | bytes, content_type: str = "text/plain", **extra: object):
    data = text.encode() if isinstance(text, str) else text
    return Client().post(COSIGN, data, content_type=content_type, **extra)


def assert_public(response) -> None:
    """What every log endpoint holds: no cookie, nothing that varies with the visitor."""
    assert not response.cookies
    assert "cookie" not in response.get("Vary", "").lower()
    assert response["X-Content-Type-Options"] == "nosniff"


# The checkpoint ------------------------------------------------------------------------------


def test_before_anything_is_integrated_the_checkpoint_is_a_503_that_says_why(client):
    response = client.get(CHECKPOINT)

    assert response.status_code == 503
    assert response["Content-Type"] == TEXT
    assert "no checkpoint yet" in response.content.decode()


def test_the_checkpoint_is_the_latest_signed_note_of_the_tree(client):
    for _ in range(3):
        make_record()
    integrate()
    make_record()
    latest = integrate()

    response = client.get(CHECKPOINT)

    assert response.status_code == 200
    assert response["Content-Type"] == TEXT
    assert response["Cache-Control"] == "public, max-age=5"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert_public(response)
    assert response.content.decode() == latest.note
    checkpoint, others = note.open_checkpoint(response.content.decode(), store.verifier())
    assert others == []
    size = published() + 4  # the published policy versions and four records
    assert checkpoint.size == size
    assert checkpoint.root == merkle.root(size, merkle.in_memory(leaf_hashes()))
    assert client.head(CHECKPOINT).status_code == 200


def test_the_checkpoint_carries_active_witnesses_cosignatures_of_that_checkpoint_only(client):
    alice, bob, carol = (make_witness(f"witness.example/{n}") for n in ("alice", "bob", "carol"))
    make_record()
    older = integrate()
    assert post(cosigned(older, alice)).status_code == 201
    make_record()
    latest = integrate()
    assert post(cosigned(latest, bob, carol)).status_code == 201

    served = client.get(CHECKPOINT).content.decode()

    checkpoint, others = note.open_checkpoint(served, store.verifier())
    assert checkpoint.size == latest.size
    assert [s.name for s in others] == ["witness.example/bob", "witness.example/carol"]
    body, _ = note.split_note(latest.note)
    for signature, witness in zip(others, (bob, carol), strict=True):
        assert note.verify_cosignature(body, signature, witness.verifier) <= time.time()

    Witness.objects.filter(name="witness.example/carol").update(active=False)
    served = client.get(CHECKPOINT).content.decode()
    assert [s.name for s in note.open_checkpoint(served, store.verifier())[1]] == [
        "witness.example/bob"
    ]


# Tiles ---------------------------------------------------------------------------------------


def test_tiles_hold_what_the_tree_holds_at_every_width(client):
    # 600 leaves over several checkpoints: two full level-0 tiles, a partial one, and a
    # partial level-1 tile of their two roots. The first integration logs the published policy
    # versions too, before its records.
    for count in (251 - published(), 10, 339):
        make_records(count)
        integrate()
    size = store.latest().size
    assert size == 600
    hashes = leaf_hashes()

    for index in (0, 1):
        response = client.get(tile_url(0, index))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Cache-Control"] == FULL
        assert response["Access-Control-Allow-Origin"] == "*"
        assert_public(response)
        assert response.content == b"".join(hashes[index * 256 : (index + 1) * 256])
    for width in range(1, 89):
        response = client.get(tile_url(0, 2, width))
        assert response.status_code == 200, width
        assert response.content == b"".join(hashes[512 : 512 + width])
        assert response["Cache-Control"] == "public, max-age=60"
    # A full tile answers for its partial widths too, as C2SP tlog-tiles allows.
    assert client.get(tile_url(0, 1, 7)).content == b"".join(hashes[256:263])
    roots = tiles.fold(hashes[:256]) + tiles.fold(hashes[256:512])
    assert client.get(tile_url(1, 0, 2)).content == roots
    assert client.get(tile_url(1, 0, 1)).content == roots[:32]


def test_a_tile_beyond_the_tree_is_a_404_and_a_malformed_path_a_400(client):
    make_records(300 - published())
    integrate()  # 300 leaves (the publications and the records): 0/000, 0/001.p/44, 1/000.p/1

    for path in (
        "0/001",
        "0/001.p/45",
        "0/002.p/1",
        "0/x001/000",
        "1/000",
        "1/000.p/2",
        "2/000.p/1",
    ):
        response = client.get(f"/consent-log/tile/{path}")
        assert response.status_code == 404, path
        assert response["Content-Type"] == TEXT
        assert "300 entries" in response.content.decode()
    for path in ("0/1", "0/000.p/0", "0/000.p/256", "0/x000/001", "entries/000", "0/000/"):
        response = client.get(f"/consent-log/tile/{path}")
        assert response.status_code == 400, path
        assert "Not a tile path" in response.content.decode()


def test_before_anything_is_integrated_there_is_no_tile(client):
    assert client.get(tile_url(0, 0, 1)).status_code == 404


# The key -------------------------------------------------------------------------------------


def test_the_key_is_the_verifier_of_the_checkpoints(client):
    make_record()
    latest = integrate()

    response = client.get(KEY)

    assert response.status_code == 200
    assert response["Content-Type"] == TEXT
    assert_public(response)
    key = note.parse_verifier(response.content.decode())
    assert str(key) == response.content.decode().strip() == str(store.verifier())
    assert note.open_checkpoint(latest.note, key)[0].size == latest.size


def test_a_key_whose_base64_holds_a_plus_is_read_as_go_reads_it():
    # Seed 0x08 * 32 gives a public key whose base64 holds "+", as about half of all keys' do.
    seed = Ed25519PrivateKey.from_private_bytes(bytes([8]) * 32)
    signer = note.Signer("witness.example/plus", note.COSIGNATURE_V1, seed)
    spelled = str(signer.verifier)
    assert "+" in spelled.split("+", 2)[2]

    assert note.parse_verifier(spelled) == signer.verifier
    assert str(note.parse_signer(str(signer)).verifier) == spelled


# Cosignatures --------------------------------------------------------------------------------


def test_a_registered_witness_cosignature_is_kept_once():
    witness = make_witness()
    make_record()
    checkpoint = integrate()
    submitted = cosigned(checkpoint, witness, when=1_800_000_000)

    response = post(submitted)

    assert response.status_code == 201
    assert "Kept 1 cosignature" in response.content.decode()
    kept = Cosignature.objects.get()
    assert (kept.checkpoint_id, kept.witness.name) == (checkpoint.size, "witness.example/w1")
    assert kept.signed_at.timestamp() == 1_800_000_000
    assert kept.line + "\n" == submitted[len(checkpoint.note) :]
    # The same again, or cosigned anew at another time: nothing more is written.
    assert post(submitted).status_code == 200
    again = post(cosigned(checkpoint, witness, when=1_800_000_060))
    assert again.status_code == 200
    assert "Already kept" in again.content.decode()
    assert Cosignature.objects.get().signed_at.timestamp() == 1_800_000_000


def test_a_served_checkpoint_with_others_cosignatures_can_be_cosigned_again(client):
    """A witness may cosign the note exactly as served, other witnesses' lines included."""
    first, second = make_witness("witness.example/a"), make_witness("witness.example/b")
    make_record()
    checkpoint = integrate()
    assert post(cosigned(checkpoint, first)).status_code == 201
    served = client.get(CHECKPOINT).content.decode()
    body, _ = note.split_note(checkpoint.note)

    response = post(served + note.cosign(body, second, int(time.time())).line())

    assert response.status_code == 201
    assert Cosignature.objects.count() == 2


def test_cosignatures_that_do_not_verify_are_refused_and_nothing_is_kept():
    witness = make_witness()
    inactive = make_witness("witness.example/retired", active=False)
    stranger = note.generate_signer("witness.example/w1", note.COSIGNATURE_V1)  # same name
    make_record()
    older = integrate()
    make_record()
    latest = integrate()
    body, _ = note.split_note(latest.note)
    older_line = cosigned(older, witness)[len(older.note) :]
    other_log = note.generate_signer(store.signer().name)
    forked = note.Checkpoint(other_log.name, latest.size, b"\x07" * 32).body()

    cases = [
        ("replayed from another checkpoint", latest.note + older_line, 403),
        ("unregistered key of a registered name", cosigned(latest, stranger), 403),
        ("inactive witness", cosigned(latest, inactive), 403),
        ("one good, one bad", cosigned(latest, witness, stranger), 403),
        ("not signed by the log", note.sign_note(body, other_log), 403),
        ("a fork signed with the log's key", note.sign_note(forked, store.signer()), 409),
        ("no cosignature", latest.note, 400),
        ("not a note", "hello\n", 400),
        ("oversized", cosigned(latest, witness) + "x" * note.MAX_NOTE, 413),
    ]
    unknown = note.sign_note(
        note.Checkpoint(other_log.name, 99, b"\x01" * 32).body(), store.signer()
    )
    cases.append(("a size the log never had", unknown + older_line, 404))
    for name, text, status in cases:
        response = post(text)
        assert response.status_code == status, name
        assert response["Content-Type"] == TEXT, name
        assert len(response.content.decode().strip()) > 10, name
    assert post(cosigned(latest, witness), "application/json").status_code == 415
    assert Client().get(COSIGN).status_code == 405
    assert not Cosignature.objects.exists()


def test_the_cosignature_endpoint_needs_no_csrf_token_and_is_rate_limited(settings):
    settings.CONSENT_RATE_LIMIT = "2/m"
    witness = make_witness()
    make_record()
    checkpoint = integrate()
    client = Client(enforce_csrf_checks=True)
    for _ in range(2):
        assert client.post(COSIGN, "x", content_type="text/plain").status_code == 400

    response = client.post(COSIGN, cosigned(checkpoint, witness), content_type="text/plain")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not Cosignature.objects.exists()
    # Decisions are counted apart: the witness used up none of this address's.
    decision = Client().post("/api/consent/", {"action": "accept_all"}, "application/json")
    assert decision.status_code == 201


# The admin -----------------------------------------------------------------------------------


def test_a_witness_is_added_with_a_cosignature_key_only(admin_client):
    signer = note.generate_signer("witness.example/w1", note.COSIGNATURE_V1)
    key = str(signer.verifier)
    log_key = str(store.verifier())
    form = {"name": "Example witness", "active": "on"}

    for bad, problem in (
        (log_key, "a witness cosigns with a 0x04 key"),
        ("witness.example+00000000+AAAA", "Not a verifier key"),
        (key.replace(key.split("+", 2)[1], "deadbeef"), "the key ID does not match"),
    ):
        page = admin_client.post(f"{WITNESSES}add/", {**form, "key": bad}).content.decode()
        assert problem in page, bad
    assert not Witness.objects.exists()

    name, key_id, public = key.split("+", 2)
    upper = f"{name}+{key_id.upper()}+{public}"
    assert admin_client.post(f"{WITNESSES}add/", {**form, "key": upper}).status_code == 302
    witness = Witness.objects.get()
    assert (witness.name, witness.key, witness.active) == ("Example witness", key, True)
    page = admin_client.post(f"{WITNESSES}add/", {**form, "name": "Again", "key": key})
    assert "already exists" in page.content.decode()
    assert Witness.objects.count() == 1


def test_witnesses_are_deactivated_and_activated_and_keep_their_key(admin_client):
    make_witness("witness.example/a")
    make_witness("witness.example/b")
    ids = [str(pk) for pk in Witness.objects.values_list("pk", flat=True)]

    admin_client.post(WITNESSES, {"action": "deactivate", "_selected_action": ids})
    assert not Witness.objects.filter(active=True).exists()
    admin_client.post(WITNESSES, {"action": "activate", "_selected_action": ids[:1]})
    assert Witness.objects.filter(active=True).count() == 1

    witness = Witness.objects.get(pk=ids[0])
    other = str(note.generate_signer("witness.example/c", note.COSIGNATURE_V1).verifier)
    url = f"{WITNESSES}{witness.pk}/change/"
    admin_client.post(url, {"name": "Renamed", "key": other, "active": "on"})
    witness.refresh_from_db()
    assert witness.name == "Renamed"
    assert witness.key != other


def test_cosignatures_are_shown_and_never_changed(admin_client):
    witness = make_witness()
    make_record()
    checkpoint = integrate()
    post(cosigned(checkpoint, witness))
    kept = Cosignature.objects.get()

    page = admin_client.get(COSIGNATURES).content.decode()
    assert "witness.example/w1" in page
    assert admin_client.get(f"{COSIGNATURES}add/").status_code == 403
    assert kept.line in admin_client.get(f"{COSIGNATURES}{kept.pk}/change/").content.decode()
    response = admin_client.post(f"{COSIGNATURES}{kept.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Cosignature.objects.count() == 1


def test_an_auditor_sees_witnesses_and_cosignatures_and_changes_nothing(client):
    make_witness()
    client.force_login(make_auditor())

    assert client.get(WITNESSES).status_code == 200
    assert client.get(COSIGNATURES).status_code == 200
    assert client.get(f"{WITNESSES}add/").status_code == 403
    staff = make_staff(username="other")
    client.force_login(staff)
    assert client.get(WITNESSES).status_code == 403
