"""Receipts: one decision, proved with the log's public key alone (docs/receipts.md)."""

import base64
import copy
import datetime
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from consent.capture.state import Consent
from consent.categories import OPTIONAL
from consent.log import entries, merkle, note, receipt, store
from consent.log.integration import integrate
from consent.models import ConsentRecord, Cosignature, LogLeaf, Witness
from policy.models import PolicyVersion
from tests.factories import make_consent_cookie, make_record
from tests.helpers import decide

pytestmark = pytest.mark.django_db

COOKIE = "iportalis_consent"
RECEIPT = "/cookie-settings/receipt.json"
ROOT = Path(__file__).resolve().parents[2]


def recorded(client, action, **on):
    """Decide through the banner's form; return the record the decision wrote."""
    assert decide(client, action, **on).status_code == 303
    return ConsentRecord.objects.latest("id")


def get_receipt(client):
    response = client.get(RECEIPT)
    assert response.status_code == 200, response.content
    return response.json()


def cli(receipt_document, tmp_path, *arguments):
    """Run the real offline check in a fresh interpreter, without Django's settings."""
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt_document), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    return subprocess.run(
        [sys.executable, "-m", "consent.log.receipt", "verify", str(path), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def key():
    return store.verifier()


def invalid(document, **kwargs):
    """Return why the offline check refuses the document (failing the test if it accepts)."""
    with pytest.raises(receipt.InvalidReceipt) as refused:
        receipt.verify(document, key(), **kwargs)
    return str(refused.value)


def b64(data):
    return base64.b64encode(data).decode()


@pytest.fixture
def integrated(client):
    """A visitor's integrated decision among others', and its receipt."""
    for _ in range(4):
        make_record()
    record = recorded(client, "custom", **{"first-party": True, "session": True})
    for _ in range(3):
        make_record()
    integrate()
    return record, get_receipt(client)


def test_a_receipt_of_an_integrated_decision_verifies_offline_with_the_public_key(
    client, integrated, tmp_path
):
    record, document = integrated
    response = client.get(RECEIPT)
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]

    log = document["log"]
    entry = base64.b64decode(log["entry"])
    full = ConsentRecord.objects.select_related("policy_version").get(pk=record.pk)
    assert entry == entries.encode(entries.record_entry(full))
    assert document["format"] == "iportalis-consent-receipt/1"
    assert document["record"] == json.loads(entry)
    assert document["record"]["id"] == record.pk
    assert (document["record"]["first_party"], document["record"]["third_party"]) == (True, False)
    assert document["site"] == "testserver"
    assert log["origin"] == store.signer().name
    assert log["key"] == str(key())
    assert log["checkpoint"] == store.latest().note
    # The published policy versions, then four records, the decision, and three more.
    size = PolicyVersion.objects.published().count() + 8
    assert (log["index"], store.latest().size) == (size - 4, size)
    hashes = [bytes(h) for h in LogLeaf.objects.order_by("index").values_list("hash", flat=True)]
    expected = merkle.inclusion_proof(log["index"], size, merkle.in_memory(hashes))
    assert len(log["inclusion_proof"]) == len(expected)
    assert "promise" not in log

    (tmp_path / "key.txt").write_text(f"{key()}\n")
    for given in (str(key()), str(tmp_path / "key.txt")):
        checked = cli(document, tmp_path, "--key", given)
        assert checked.returncode == 0, checked.stderr
        assert f"Entry {log['index']} of that tree is consent record {record.pk}" in checked.stdout
        assert f"signed a checkpoint of {size} entries" in checked.stdout


def test_the_offline_check_imports_no_django(integrated, tmp_path):
    _record, document = integrated
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(document))
    # A None in sys.modules makes every import of django fail.
    script = (
        "import runpy, sys; sys.modules['django'] = None; "
        f"sys.argv = ['receipt', 'verify', {str(path)!r}, '--key', {str(key())!r}]; "
        "runpy.run_module('consent.log.receipt', run_name='__main__')"
    )
    checked = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr


def test_a_receipt_fails_when_any_byte_of_its_proof_changes(integrated):
    _record, document = integrated
    proof = [base64.b64decode(h) for h in document["log"]["inclusion_proof"]]
    for n, digest in enumerate(proof):
        for at in range(len(digest)):
            changed = copy.deepcopy(document)
            flipped = digest[:at] + bytes([digest[at] ^ 0x01]) + digest[at + 1 :]
            changed["log"]["inclusion_proof"][n] = b64(flipped)
            assert "another root" in invalid(changed)
    for cut in (proof[:-1], [*proof, proof[0]], proof[::-1]):
        changed = copy.deepcopy(document)
        changed["log"]["inclusion_proof"] = [b64(h) for h in cut]
        invalid(changed)
    for index in (document["log"]["index"] - 1, document["log"]["index"] + 1, 9, -1):
        changed = copy.deepcopy(document)
        changed["log"]["index"] = index
        invalid(changed)


def test_a_receipt_fails_when_any_byte_of_its_entry_changes(integrated, tmp_path):
    _record, document = integrated
    entry = base64.b64decode(document["log"]["entry"])
    for at in range(len(entry)):
        changed = copy.deepcopy(document)
        changed["log"]["entry"] = b64(entry[:at] + bytes([entry[at] ^ 0x01]) + entry[at + 1 :])
        invalid(changed)
    # Entry and record rewritten together, canonically: only the proof can tell.
    forged = copy.deepcopy(document)
    forged["record"]["third_party"] = True
    forged["log"]["entry"] = b64(entries.encode(forged["record"]))
    assert "another root" in invalid(forged)
    checked = cli(forged, tmp_path, "--key", str(key()))
    assert checked.returncode == 1
    assert checked.stderr.startswith("INVALID: the inclusion proof fails")
    # The record shown, changed alone, no longer is the entry.
    shown = copy.deepcopy(document)
    shown["record"]["third_party"] = 1  # equal to True in Python, not in JSON
    assert "record shown" in invalid(shown)


def test_a_receipt_fails_when_any_byte_of_its_checkpoint_changes(integrated, tmp_path):
    _record, document = integrated
    checkpoint = document["log"]["checkpoint"]
    text, signatures = note.split_note(checkpoint)
    for at in range(len(text)):
        replacement = "7" if text[at] != "7" else "8"
        changed = copy.deepcopy(document)
        changed["log"]["checkpoint"] = checkpoint[:at] + replacement + checkpoint[at:][1:]
        assert "checkpoint does not verify" in invalid(changed)
    size = text.split("\n")[1]
    bigger = copy.deepcopy(document)
    bigger["log"]["checkpoint"] = checkpoint.replace(f"\n{size}\n", f"\n{int(size) + 1}\n", 1)
    checked = cli(bigger, tmp_path, "--key", str(key()))
    assert checked.returncode == 1
    assert "checkpoint does not verify" in checked.stderr
    raw = signatures[0].id + signatures[0].signature
    for at in range(len(raw)):
        flipped = raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]
        line = f"{note.SIGNATURE_PREFIX}{signatures[0].name} {b64(flipped)}\n"
        changed = copy.deepcopy(document)
        changed["log"]["checkpoint"] = f"{text}\n{line}"
        assert "checkpoint does not verify" in invalid(changed)


def test_a_receipt_checked_with_another_key_fails(integrated, tmp_path):
    _record, document = integrated
    other = note.generate_signer(store.signer().name).verifier
    with pytest.raises(receipt.InvalidReceipt, match="another key"):
        receipt.verify(document, other)
    stolen = copy.deepcopy(document)
    stolen["log"]["key"] = str(other)  # the receipt's own key is never trusted
    with pytest.raises(receipt.InvalidReceipt, match="checkpoint does not verify"):
        receipt.verify(stolen, other)
    checked = cli(document, tmp_path, "--key", str(other))
    assert checked.returncode == 1


def test_the_offline_check_tells_usage_errors_apart(integrated, tmp_path):
    _record, document = integrated
    assert cli(document, tmp_path, "--key", "not-a-key").returncode == 2
    assert cli(document, tmp_path).returncode == 2
    with pytest.raises(SystemExit) as usage:
        receipt.main(["verify", str(tmp_path / "missing.json"), "--key", str(key())])
    assert usage.value.code == 2
    (tmp_path / "garbage.json").write_text("{not json")
    assert receipt.main(["verify", str(tmp_path / "garbage.json"), "--key", str(key())]) == 1
    for broken in ([], {"format": "something else"}, {**document, "log": []}):
        invalid(broken)


def test_a_receipt_carries_the_cosignatures_of_active_witnesses(integrated, client, tmp_path):
    record, _document = integrated
    head = store.latest()
    body = note.split_note(head.note)[0]
    lines = {}
    for name, active in (("witness.example/a", True), ("witness.example/b", False)):
        signer = note.generate_signer(name, note.COSIGNATURE_V1)
        witness = Witness.objects.create(name=name, key=str(signer.verifier), active=active)
        stamp = int(timezone.now().timestamp())
        line = note.cosign(body, signer, stamp).line()
        Cosignature.objects.create(
            checkpoint=head,
            witness=witness,
            line=line,
            signed_at=datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC),
        )
        lines[name] = (signer.verifier, line)

    document = get_receipt(client)

    checkpoint = document["log"]["checkpoint"]
    assert checkpoint == head.note + lines["witness.example/a"][1]
    witness_key = str(lines["witness.example/a"][0])
    checked = cli(document, tmp_path, "--key", str(key()), "--witness", witness_key)
    assert checked.returncode == 0, checked.stderr
    assert "The witness witness.example/a cosigned that checkpoint" in checked.stdout
    absent = cli(
        document, tmp_path, "--key", str(key()), "--witness", str(lines["witness.example/b"][0])
    )
    assert absent.returncode == 1
    assert "no cosignature by witness.example/b" in absent.stderr


def test_a_receipt_before_integration_carries_the_logs_verifiable_promise(client, tmp_path):
    record = recorded(client, "reject_all")
    page = client.get("/cookie-settings/").content.decode()
    assert "data-pending" in page
    assert "not in the signed log yet" in page

    document = get_receipt(client)

    log = document["log"]
    assert log["integrated"] is False
    assert {"index", "checkpoint", "inclusion_proof"}.isdisjoint(log)
    entry = base64.b64decode(log["entry"])
    assert document["record"] == json.loads(entry)
    text, _others = note.open_note(log["promise"]["note"], key())
    assert text == (
        f"iportalis-consent-promise/v1\n{store.signer().name}\n"
        f"{entries.utc_text(record.created_at)}\n{b64(merkle.leaf_hash(entry))}\n"
    )
    # A promise is never a checkpoint, whatever verifies it.
    with pytest.raises(note.NoteError):
        note.parse_checkpoint(text)
    with pytest.raises(note.NoteError):
        note.open_checkpoint(log["promise"]["note"], key())
    checked = cli(document, tmp_path, "--key", str(key()))
    assert checked.returncode == 0, checked.stderr
    assert "signed a promise to include consent record" in checked.stdout
    assert "not yet proof of inclusion" in checked.stdout

    other = make_record()
    full = ConsentRecord.objects.select_related("policy_version").get(pk=other.pk)
    another = copy.deepcopy(document)
    another["record"] = entries.record_entry(full)
    another["log"]["entry"] = b64(entries.encode(another["record"]))
    assert "another entry" in invalid(another)
    signed = log["promise"]["note"]
    forged = copy.deepcopy(document)
    forged["log"]["promise"]["note"] = signed.replace("\n\n", "\nextra\n\n")
    assert "promise does not verify" in invalid(forged)

    integrate()

    assert "data-pending" not in client.get("/cookie-settings/").content.decode()
    document = get_receipt(client)
    assert "promise" not in document["log"]
    assert document["record"]["id"] == record.pk
    receipt.verify(document, key())


def test_a_gpc_signal_gets_a_receipt_of_its_own_record(tmp_path):
    browser = Client(HTTP_SEC_GPC="1")
    browser.get("/")
    record = ConsentRecord.objects.get()
    assert record.event == ConsentRecord.Event.GPC
    assert Consent.loads(browser.cookies[COOKIE].value).record_id == record.pk

    document = get_receipt(browser)

    assert document["record"]["id"] == record.pk
    assert document["record"]["event"] == "gpc"
    receipt.verify(document, key())


def test_a_browser_never_gets_a_receipt_of_another_browsers_record():
    alice = Client(REMOTE_ADDR="203.0.113.7")
    first = recorded(alice, "accept_all")
    bob = Client(REMOTE_ADDR="198.51.100.66")
    bob.cookies[COOKIE] = alice.cookies[COOKIE].value
    second = recorded(bob, "reject_all")
    assert second.consent_id == first.consent_id

    for integrated in (False, True):
        for browser, mine in ((alice, first), (bob, second)):
            document = get_receipt(browser)
            assert ("promise" not in document["log"]) is integrated
            assert document["record"]["id"] == mine.pk
            assert document["record"]["event"] == mine.event
            receipt.verify(document, key())
        integrate()

    # A cookie naming another consent's record gets nothing, not even that record's existence.
    stranger = Consent(
        consent_id=uuid.uuid4(),
        choices=Consent.loads(alice.cookies[COOKIE].value).choices,
        policy_version=1,
        policy_language="en",
        given_at=timezone.now(),
        record_id=first.pk,
    )
    response = Client().get(RECEIPT, HTTP_COOKIE=f"{COOKIE}={stranger.dumps()}")
    assert response.status_code == 404
    assert str(first.pk).encode() not in response.content


def test_an_old_cookie_without_a_record_gets_a_clear_404_and_stays_a_consent(client):
    make_record()
    client.cookies[COOKIE] = make_consent_cookie(*OPTIONAL)

    response = client.get(RECEIPT)

    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "saved before receipts named the record" in response.content.decode()
    assert "Make your choice again" in response.content.decode()
    assert client.get("/api/consent/").json()["needs_decision"] is False
    page = client.get("/cookie-settings/").content.decode()
    assert "make your choice again to get a receipt" in page
    assert 'href="/cookie-settings/receipt.json"' not in page


def test_no_consent_no_receipt(client):
    response = client.get(RECEIPT)

    assert response.status_code == 404
    assert response.content.decode() == "There is no consent to give a receipt for."


def test_a_factory_cookie_naming_a_record_gets_its_receipt(client):
    record = make_record()
    client.cookies[COOKIE] = make_consent_cookie(*OPTIONAL, record=record)

    document = get_receipt(client)

    assert document["record"]["id"] == record.pk
