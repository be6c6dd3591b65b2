"""Check a consent receipt offline, with nothing but the log's public key.

    python -m consent.log.receipt verify receipt.json --key KEY [--witness KEY]...

KEY is the log's verifier key (`<origin>+<key ID>+<base64 key>`, as /consent-log/key serves
it), or a file holding it. Exit status: 0 the receipt is valid, 1 it is not (the reason is
printed), 2 the command was used wrongly. No Django: the standard library, `cryptography`, and
the log's pure modules (consent/log/{merkle,note}.py, consent/log/entries.py).

The algorithm, to rewrite in any language (docs/receipts.md says the same):

1. The receipt is a JSON object with `"format": "iportalis-consent-receipt/1"`, a `record`
   object and a `log` object. KEY's name is the log's origin: `log.origin` must equal it and
   `log.key` must equal KEY.
2. entry = base64-decode(`log.entry`). It must be exactly the RFC 8785 canonical JSON (UTF-8)
   of `record`, so what the receipt shows is what the log holds; `record.type` is
   "consent-record".
3. leaf = SHA-256(0x00 ‖ entry) (RFC 9162 §2.1.1).
4. A receipt with `log.checkpoint` is integrated:
   a. The checkpoint is a C2SP signed note: text, a blank line, then lines
      "— <name> <base64(key ID[4] ‖ signature)>". One line must name KEY (same name, same key
      ID) and its Ed25519 signature must verify over the text.
   b. The text is a C2SP checkpoint: origin (= KEY's name), tree size, base64 root hash, one
      to a line.
   c. `log.index` < size, and the inclusion proof (`log.inclusion_proof`, base64 SHA-256
      hashes, RFC 9162 order) leads from leaf at that index to the root (RFC 9162 §2.1.3.2).
   d. Each `--witness` key (type 0x04) must have a valid C2SP tlog-cosignature among the other
      lines; lines of unknown keys are counted, not checked.
5. A receipt with `"integrated": false` carries instead `log.promise.note`, a signed note of
   KEY (checked as in 4a) whose text is exactly four lines:
       iportalis-consent-promise/v1
       <origin>
       <RFC 3339 UTC time the log accepted the entry>
       <base64 leaf hash>
   The origin must be KEY's name and the hash must equal leaf. (Its first line is no origin
   and its second no tree size, so no checkpoint verifier can mistake it for a checkpoint.)
   A promise is the log's signed word that it will include the entry, not proof that it has:
   download the receipt again later for the inclusion proof.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from consent.log import entries, merkle, note

FORMAT = "iportalis-consent-receipt/1"
PROMISE = "iportalis-consent-promise/v1"
MAX_RECEIPT = 1024 * 1024  # a real one is a few kilobytes


class InvalidReceipt(ValueError):
    """The receipt does not prove what it claims; the message says why, in plain words."""


def promise_text(origin: str, accepted_at: str, leaf: bytes) -> str:
    """Return the text of the log's promise to include the entry whose leaf hash is `leaf`."""
    return f"{PROMISE}\n{origin}\n{accepted_at}\n{_b64(leaf)}\n"


def verify(receipt: Any, key: note.Verifier, witnesses: Sequence[note.Verifier] = ()) -> list[str]:
    """Return what a receipt proves, sentence by sentence; raise InvalidReceipt if it does not."""
    if not isinstance(receipt, dict) or receipt.get("format") != FORMAT:
        raise InvalidReceipt(f'this is not a consent receipt (no "format": "{FORMAT}")')
    log = _field(receipt, "log", dict)
    record = _field(receipt, "record", dict)
    if _field(log, "origin", str) != key.name:
        raise InvalidReceipt(f"the receipt is of the log {log['origin']!r}, not {key.name!r}")
    if _field(log, "key", str) != str(key):
        raise InvalidReceipt("the receipt names another key than the one given")

    entry = _decode(_field(log, "entry", str), "the entry")
    try:
        shown = entries.encode(record)
    except (TypeError, ValueError, RecursionError):
        shown = b""
    if shown != entry:
        raise InvalidReceipt("the record shown is not the entry the log holds")
    if record.get("type") != entries.RECORD:
        raise InvalidReceipt("the entry is not a consent record")
    leaf = merkle.leaf_hash(entry)
    what = _describe(record)

    if log.get("integrated") is False:
        if witnesses:
            raise InvalidReceipt("a promise carries no witness cosignatures: try again later")
        accepted_at = _open_promise(_field(_field(log, "promise", dict), "note", str), key, leaf)
        return [
            f"The log {key.name} signed a promise to include {what}.",
            f"It accepted the entry at {accepted_at}; its leaf hash is {_b64(leaf)}.",
            "This is not yet proof of inclusion: download the receipt again later.",
        ]

    checkpoint_note = _field(log, "checkpoint", str)
    try:
        checkpoint, others = note.open_checkpoint(checkpoint_note, key)
    except note.NoteError as error:
        raise InvalidReceipt(f"the checkpoint does not verify: {error}") from None
    index = _field(log, "index", int)
    proof = [_decode(h, "a proof hash") for h in _field(log, "inclusion_proof", list)]
    if any(len(h) != merkle.HASH_SIZE for h in proof):
        raise InvalidReceipt("a proof hash is not 32 bytes")
    try:
        merkle.verify_inclusion(index, checkpoint.size, leaf, proof, checkpoint.root)
    except merkle.ProofError as error:
        raise InvalidReceipt(f"the inclusion proof fails: {error}") from None
    proved = [
        f"The log {key.name} signed a checkpoint of {checkpoint.size} entries "
        f"with root hash {_b64(checkpoint.root)}.",
        f"Entry {index} of that tree is {what}.",
    ]
    text = note.split_note(checkpoint_note)[0]  # the body the witnesses cosigned
    for witness in witnesses:
        proved.append(_cosigned(text, others, witness))
    unchecked = len(others) - len(witnesses)
    if unchecked > 0:
        proved.append(f"{unchecked} other signature(s) on the checkpoint were not checked.")
    return proved


def _open_promise(promise: str, key: note.Verifier, leaf: bytes) -> str:
    try:
        text, _others = note.open_note(promise, key)
    except note.NoteError as error:
        raise InvalidReceipt(f"the promise does not verify: {error}") from None
    lines = text.split("\n")
    if len(lines) != 5 or lines[0] != PROMISE or lines[1] != key.name:
        raise InvalidReceipt(f"the promise is not an {PROMISE} of this log")
    try:
        datetime.datetime.fromisoformat(lines[2])
    except ValueError:
        raise InvalidReceipt("the promise's time is not an RFC 3339 time") from None
    if lines[3] != _b64(leaf):
        raise InvalidReceipt("the promise is for another entry")
    return lines[2]


def _cosigned(text: str, others: list[note.Signature], witness: note.Verifier) -> str:
    for signature in others:
        if signature.name == witness.name and signature.id == witness.id:
            try:
                at = note.verify_cosignature(text, signature, witness)
            except note.NoteError as error:
                raise InvalidReceipt(f"{witness.name}'s cosignature: {error}") from None
            moment = datetime.datetime.fromtimestamp(at, tz=datetime.UTC).isoformat()
            return f"The witness {witness.name} cosigned that checkpoint at {moment}."
    raise InvalidReceipt(f"the checkpoint carries no cosignature by {witness.name}")


def _describe(record: dict[str, Any]) -> str:
    optional = ("first_party", "third_party", "session", "persistent")
    allowed = [name.replace("_", "-") for name in optional if record.get(name) is True]
    return (
        f"consent record {record.get('id')} of consent ID {record.get('consent_id')}: "
        f"{record.get('event')} at {record.get('created_at')} under cookie policy version "
        f"{record.get('policy_version')} ({record.get('policy_language')}, SHA-256 "
        f"{record.get('policy_sha256')}), allowing necessary"
        + "".join(f", {name}" for name in allowed)
    )


def _field(mapping: dict[str, Any], name: str, kind: type) -> Any:
    value = mapping.get(name)
    # bool is an int to Python, never to JSON.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidReceipt(f'the receipt\'s "{name}" is missing or not a JSON {kind.__name__}')
    return value


def _decode(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise InvalidReceipt(f"{what} is not base64")
    try:
        return note.b64decode(text, what)
    except note.NoteError as error:
        raise InvalidReceipt(str(error)) from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m consent.log.receipt",
        description="Check a consent receipt offline, with the log's public key alone.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="check a receipt")
    check.add_argument("receipt", type=Path, help="the receipt's JSON file")
    check.add_argument("--key", required=True, help="the log's verifier key, or a file holding it")
    check.add_argument(
        "--witness",
        action="append",
        default=[],
        help="a witness's cosignature key (or file) whose cosignature must be there; repeatable",
    )
    args = parser.parse_args(argv)
    try:
        key = note.read_verifier(args.key)
        witnesses = [note.read_verifier(w) for w in args.witness]
    except (OSError, UnicodeDecodeError, note.NoteError) as error:
        parser.error(f"not a verifier key: {error}")  # exits 2
    try:
        with args.receipt.open("rb") as file:
            data = file.read(MAX_RECEIPT + 1)
    except OSError as error:
        parser.error(f"cannot read {args.receipt}: {error}")
    try:
        if len(data) > MAX_RECEIPT:
            raise InvalidReceipt("the file is far too large to be a receipt")
        try:
            receipt = json.loads(data)
        except (ValueError, RecursionError):
            raise InvalidReceipt("the file is not JSON") from None
        proved = verify(receipt, key, witnesses)
    except InvalidReceipt as error:
        print(f"INVALID: {error}.", file=sys.stderr)
        return 1
    print("VALID. This receipt proves, with the log's public key alone:")
    for sentence in proved:
        print(f"- {sentence}")
    print("(Its summary, site and issued_at are for reading; they are not signed.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
