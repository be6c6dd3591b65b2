"""The auditor's tool: check a site's consent log from outside the operator's control.

    python -m consent.log.auditor check --site URL --state DIR [--key KEY]
    python -m consent.log.auditor witness --site URL --state DIR --witness-key FILE [--key KEY]
    python -m consent.log.auditor witness-key --name NAME --out FILE
    python -m consent.log.auditor verify-export FILE --key KEY

It needs no database access and no secret, only the site's public endpoints under
/consent-log/ and the log's public key (KEY: `<origin>+<key ID>+<base64 key>`, or a file
holding it). It imports no Django: the standard library, `cryptography` and the log's pure
modules, so an auditor can run it on a machine of their own from these few files.
docs/auditing.md says what each check proves and what it cannot.

Exit status: 0 verified; 1 the log failed a check (a fork, a rollback, a bad signature, a tile
that does not hash to the signed root...); 2 usage or network error: nothing was concluded.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import merkle, note, tiles

OK, FAILED, ERROR = 0, 1, 2
TIMEOUT = 10.0  # seconds, for each connection and each read
MAX_KEY = 1024
MAX_TILE = tiles.WIDTH * merkle.HASH_SIZE
MAX_REPLY = 2048  # of an error page or of the site's answer to a cosignature, to show
USER_AGENT = "iportalis-consent-auditor/1"


class Failed(Exception):
    """The log failed a check (exit 1). `alarm` names what it is caught doing, if anything."""

    def __init__(self, message: str, alarm: str | None = None) -> None:
        super().__init__(message)
        self.alarm = alarm


class Trouble(Exception):
    """A usage or network error (exit 2): the check could not be made."""


# The site ------------------------------------------------------------------------------------


class Site:
    """The log's public endpoints at one site. Every answer is untrusted and read up to a
    limit, so a hostile site cannot make the tool read without end."""

    def __init__(self, url: str, timeout: float) -> None:
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError as error:
            raise Trouble(f"--site {url!r}: {error}") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Trouble(f"--site must be an http:// or https:// URL, not {url!r}")
        self.base = url.rstrip("/") + "/consent-log/"
        self.timeout = timeout

    def get(self, path: str, limit: int) -> bytes:
        # no-cache: a cache's stale checkpoint would look like a rollback.
        headers = {"User-Agent": USER_AGENT, "Cache-Control": "no-cache"}
        return self._open(urllib.request.Request(self.base + path, headers=headers), limit)

    def post(self, path: str, body: str) -> str:
        headers = {"User-Agent": USER_AGENT, "Content-Type": "text/plain; charset=utf-8"}
        request = urllib.request.Request(
            self.base + path, data=body.encode(), headers=headers, method="POST"
        )
        return self._open(request, MAX_REPLY).decode(errors="replace").strip()

    def _open(self, request: urllib.request.Request, limit: int) -> bytes:
        url = request.full_url
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data: bytes = response.read(limit + 1)
        except urllib.error.HTTPError as error:
            detail = error.read(MAX_REPLY).decode(errors="replace").strip()
            raise Trouble(
                f"{url}: the site answered {error.code} {error.reason}"
                + (f": {detail}" if detail else "")
            ) from None
        except urllib.error.URLError as error:
            raise Trouble(f"{url}: {error.reason}") from None
        except (OSError, http.client.HTTPException, ValueError) as error:
            # Timeouts, resets, answers that are not HTTP, URLs that http.client refuses.
            raise Trouble(f"{url}: {error or type(error).__name__}") from None
        if len(data) > limit:
            raise Failed(f"{url}: the answer is longer than the {limit} bytes it may be")
        return data


class TileReader:
    """`read_tile` for tiles.hash_reader: fetch each tile once, as wide as the tree of `size`
    leaves has it (C2SP tlog-tiles), and keep what was read to prove it afterwards."""

    def __init__(self, site: Site, size: int) -> None:
        self.site = site
        self.size = size
        self.read: dict[tuple[int, int], bytes] = {}

    def __call__(self, level: int, index: int, width: int) -> bytes:
        if (level, index) not in self.read:
            available = tiles.available_width(level, index, self.size)
            if width > available:
                raise LookupError(f"the tree of {self.size} has no tile {level}/{index}.p/{width}")
            path = tiles.tile_path(level, index, available)
            data = self.site.get(f"tile/{path}", MAX_TILE)
            if len(data) != available * merkle.HASH_SIZE:
                raise Failed(
                    f"tile {path} is {len(data)} bytes, not {available} hashes of 32", "BAD TILE"
                )
            self.read[level, index] = data
        return self.read[level, index]

    def prove(self, root: bytes) -> None:
        """Check that every tile read hashes up to `root`; raise Failed if one does not.

        merkle.root reads every hash of the partial tiles at the tree's right edge (the tree's
        perfect subtrees are exactly those, folded), so a matching root proves them. A full tile
        is proved by its parent's hash of it, and the parent in turn, up to the edge.
        """
        if merkle.root(self.size, tiles.hash_reader(self)) != root:
            raise Failed(
                "the tiles at the right edge of the tree do not hash to the checkpoint's root: "
                "the site serves another tree than the one it signed",
                "LYING TILES",
            )
        pending = [key for key, data in self.read.items() if len(data) == MAX_TILE]
        proved: set[tuple[int, int]] = set()
        while pending:
            level, index = pending.pop()
            if (level, index) in proved:
                continue
            parent, slot = divmod(index, tiles.WIDTH)
            above = self(level + 1, parent, slot + 1)
            expected = above[slot * merkle.HASH_SIZE : (slot + 1) * merkle.HASH_SIZE]
            if tiles.fold(tiles.split_hashes(self.read[level, index])) != expected:
                raise Failed(
                    f"tile {tiles.tile_path(level, index)} does not hash to its parent "
                    f"{tiles.tile_path(level + 1, parent)}: the site serves another tree than "
                    "the one it signed",
                    "LYING TILE",
                )
            proved.add((level, index))
            if len(above) == MAX_TILE:
                pending.append((level + 1, parent))


# The state directory -------------------------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    text: str
    checkpoint: note.Checkpoint


class State:
    """What the auditor keeps between runs, in DIR: `key` (the pinned log key), `latest` (the
    last checkpoint verified), `checkpoints/<size>` (every one verified), `evidence/` (the
    signed notes of each fork or rollback caught) and, for a witness, `cosigned/<size>`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            (path / "checkpoints").mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise Trouble(f"--state {path}: {error.strerror or error}") from None

    def pinned_key(self) -> note.Verifier | None:
        text = self._read(self.path / "key")
        if text is None:
            return None
        try:
            return note.parse_verifier(text)
        except note.NoteError as error:
            raise Trouble(f"{self.path / 'key'} holds no verifier key: {error}") from None

    def latest(self, verifier: note.Verifier) -> Kept | None:
        text = self._read(self.path / "latest")
        if text is None:
            return None
        try:
            checkpoint, _ = note.open_checkpoint(text, verifier)
        except note.NoteError as error:
            raise Trouble(
                f"{self.path / 'latest'} does not verify with the pinned key ({error}): "
                "the state directory is damaged"
            ) from None
        return Kept(text, checkpoint)

    def keep(self, verifier: note.Verifier, served: str, checkpoint: note.Checkpoint) -> Path:
        """Pin the key and keep a verified checkpoint; return where it went."""
        if self._read(self.path / "key") is None:
            self.write(self.path / "key", f"{verifier}\n")
        path = self.path / "checkpoints" / str(checkpoint.size)
        if not path.exists():  # the first note of a size stays, whatever cosigned it later
            self.write(path, served)
        self.write(self.path / "latest", served)
        return path

    def evidence(self, kind: str, kept: Kept, served: str) -> Path:
        """Keep both signed notes that prove a fork or a rollback; return their directory."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        folder = self.path / "evidence" / f"{stamp}-{kind}"
        self.write(folder / f"kept-{kept.checkpoint.size}.note", kept.text)
        self.write(folder / "served.note", served)
        return folder

    def caught(self, kind: str, kept: Kept, served: str, message: str, alarm: str) -> Failed:
        """Keep the evidence of `kind` and return the failure to raise: `message` ends by naming
        the signed notes, and " are in <their folder>" follows."""
        return Failed(f"{message} are in {self.evidence(kind, kept, served)}", alarm)

    def write(self, path: Path, text: str) -> None:
        # Through a temporary file: a run killed half-way leaves the old file whole.
        temporary = path.with_name(f".{path.name}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)
        except OSError as error:
            raise Trouble(f"cannot write {path}: {error.strerror or error}") from None

    def _read(self, path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise Trouble(f"cannot read {path}: {error}") from None


# check ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    verifier: note.Verifier
    served: str
    checkpoint: note.Checkpoint
    previous: note.Checkpoint | None
    kept_at: Path
    tiles_read: int


def read_key(value: str, option: str = "--key") -> note.Verifier:
    """Return the log's verifier key given on the command line, itself or in a file."""
    try:
        verifier = note.read_verifier(value)
    except (OSError, UnicodeDecodeError) as error:
        raise Trouble(f"{option} {value}: {error}") from None
    except note.NoteError as error:
        raise Trouble(
            f"{option}: not a verifier key (name+id+base64) nor a file of one: {error}"
        ) from None
    if verifier.key_type != note.ED25519:
        raise Trouble(f"{option}: {verifier.name} is a witness key (0x04), not a log's key")
    return verifier


def log_key(site: Site, state: State, given: str | None) -> note.Verifier:
    """Return the key to check the log with: the one given, else the pinned one, else (trust
    on first use) the one the site serves. A key other than the pinned one is an error."""
    pinned = state.pinned_key()
    if given is not None:
        verifier = read_key(given)
        if pinned is not None and str(pinned) != str(verifier):
            raise Failed(
                f"the key given ({verifier}) is not the key pinned in {state.path / 'key'} "
                f"({pinned}). If the site really changed its key, confirm the new one out of "
                "band and start a new state directory; keep the old one as evidence",
                "KEY CHANGED",
            )
        return verifier
    if pinned is not None:
        return pinned
    served = site.get("key", MAX_KEY)
    try:
        verifier = note.parse_verifier(served.decode("utf-8"))
    except (UnicodeDecodeError, note.NoteError) as error:
        raise Failed(f"the site's /consent-log/key is no verifier key: {error}") from None
    if verifier.key_type != note.ED25519:
        raise Failed(f"the site's /consent-log/key is a witness key, not a log's: {verifier}")
    warn(
        "TRUST ON FIRST USE",
        f"No --key was given and none is pinned in {state.path}, so the key is taken from the\n"
        f"site itself: {verifier}\n"
        "A site that lies could serve a key of its own making. Compare this key with one\n"
        "obtained out of band (the operator's published statement, another auditor, a receipt)\n"
        "and give it with --key. It is pinned once this check passes: a later different key\n"
        "is an error.",
    )
    return verifier


def check(site: Site, state: State, given_key: str | None) -> Checked:
    """Verify the site's latest checkpoint and that the log only grew since the one kept."""
    verifier = log_key(site, state, given_key)
    data = site.get("checkpoint", note.MAX_NOTE)
    try:
        served = data.decode("utf-8")
        checkpoint, _others = note.open_checkpoint(served, verifier)
    except (UnicodeDecodeError, note.NoteError) as error:
        raise Failed(
            f"the checkpoint served does not verify with the key {verifier}: {error}",
            "BAD SIGNATURE",
        ) from None
    kept = state.latest(verifier)
    previous = kept.checkpoint if kept is not None else None
    if kept is not None:
        if checkpoint.size == kept.checkpoint.size and checkpoint.root != kept.checkpoint.root:
            raise state.caught(
                "fork",
                kept,
                served,
                f"the log signed two different trees of {checkpoint.size} entries: root "
                f"{_b64(kept.checkpoint.root)} kept, root {_b64(checkpoint.root)} served now. "
                f"The two signed notes, proof that the log's key signed both,",
                "FORK",
            )
        if checkpoint.size < kept.checkpoint.size:
            raise state.caught(
                "rollback",
                kept,
                served,
                f"the log shrank from {kept.checkpoint.size} entries (kept) to "
                f"{checkpoint.size} (served now): entries were removed or the site serves an "
                f"old tree. Both signed notes",
                "ROLLBACK",
            )
    reader = TileReader(site, checkpoint.size)
    grown_from = kept if kept is not None and 0 < kept.checkpoint.size < checkpoint.size else None
    try:
        # The proof is built here from the tiles, not taken from the site; the tiles it read
        # are then proved against the signed root, so a failure below is the log's, not a tile's.
        proof = (
            merkle.consistency_proof(
                grown_from.checkpoint.size, checkpoint.size, tiles.hash_reader(reader)
            )
            if grown_from is not None
            else []
        )
        reader.prove(checkpoint.root)
    except LookupError as error:
        raise Failed(f"the site does not serve the tree it signed: {error}", "BAD TILE") from None
    if grown_from is not None:
        old = grown_from.checkpoint
        try:
            merkle.verify_consistency(old.size, checkpoint.size, old.root, checkpoint.root, proof)
        except merkle.ProofError as error:
            raise state.caught(
                "inconsistent",
                grown_from,
                served,
                f"the tree of {checkpoint.size} entries does not extend the tree of {old.size} "
                f"kept ({error}): the log's history was rewritten. Both signed notes",
                "HISTORY REWRITTEN",
            ) from None
    kept_at = state.keep(verifier, served, checkpoint)
    return Checked(verifier, served, checkpoint, previous, kept_at, len(reader.read))


def run_check(args: argparse.Namespace) -> int:
    checked = check(Site(args.site, args.timeout), State(Path(args.state)), args.key)
    report(checked)
    return OK


def report(checked: Checked) -> None:
    checkpoint, previous = checked.checkpoint, checked.previous
    if previous is None:
        growth = "first checkpoint kept: the next check proves the log only grew from here"
    elif previous.size == checkpoint.size:
        growth = "unchanged since the last check"
    else:
        growth = f"grew by {checkpoint.size - previous.size} since the last check ({previous.size})"
    print(f"OK {checkpoint.origin}")
    print(f"  size  {checkpoint.size} ({growth})")
    print(f"  root  {_b64(checkpoint.root)}")
    print(f"  tiles {checked.tiles_read} read and proved against the root")
    print(f"  kept  {checked.kept_at}")


# witness -------------------------------------------------------------------------------------


def read_witness_key(path: str) -> note.Signer:
    try:
        signer = note.parse_signer(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise Trouble(f"--witness-key {path}: {error}") from None
    except note.NoteError as error:
        raise Trouble(f"--witness-key {path} holds no signer key: {error}") from None
    if signer.key_type != note.COSIGNATURE_V1:
        raise Trouble(f"--witness-key {path} is not a witness key (type 0x04): see witness-key")
    return signer


def run_witness(args: argparse.Namespace) -> int:
    """Check the log and, only if it passed, cosign its checkpoint and send the cosignature."""
    witness = read_witness_key(args.witness_key)
    site, state = Site(args.site, args.timeout), State(Path(args.state))
    checked = check(site, state, args.key)
    report(checked)
    text, others = note.open_note(checked.served, checked.verifier)
    _, signatures = note.split_note(checked.served)
    # Send the log's own signature and ours only: other witnesses speak for themselves.
    logs = [s for s in signatures if s not in others]
    cosignature = note.cosign(text, witness, int(time.time()))
    submission = text + "\n" + "".join(s.line() for s in logs) + cosignature.line()
    answer = site.post("cosignature", submission)
    state.write(state.path / "cosigned" / str(checked.checkpoint.size), cosignature.line())
    print(f"cosigned as {witness.name}: {answer}")
    return OK


def run_witness_key(args: argparse.Namespace) -> int:
    try:
        signer = note.generate_signer(args.name, note.COSIGNATURE_V1)
    except note.NoteError as error:
        raise Trouble(f"--name: {error}") from None
    try:
        # Created, never overwritten, readable by its owner only: it is the witness's secret.
        descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Trouble(f"--out {args.out} exists: a witness key is never overwritten") from None
    except OSError as error:
        raise Trouble(f"--out {args.out}: {error.strerror or error}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(f"{signer}\n")
    print(
        f"Witness signer key written to {args.out}: keep it secret. Give the site's admin this\n"
        "verifier key to register (admin: Witnesses); it is also the key a receipt's --witness\n"
        "option takes:",
        file=sys.stderr,
    )
    print(signer.verifier)
    return OK


# verify-export -------------------------------------------------------------------------------


def run_verify_export(args: argparse.Namespace) -> int:
    verifier = read_key(args.key)
    path = Path(args.file)
    if not path.is_file():
        raise Trouble(f"{path}: no such file")
    try:
        from .exportproof import verify_export
    except ImportError as error:
        raise Trouble(f"export verification is not available: {error}") from None
    try:
        problems = verify_export(path, verifier)
    except OSError as error:
        raise Trouble(f"{path}: {error.strerror or error}") from None
    if problems:
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        raise Failed(f"{path}: {len(problems)} problem(s), listed above")
    print(f"OK {path}: its rows verify against the checkpoint it carries, signed by {verifier}")
    return OK


# The command line ----------------------------------------------------------------------------


def warn(title: str, message: str) -> None:
    rule = "*" * 78
    print(f"{rule}\n{title}\n{message}\n{rule}", file=sys.stderr)


def wrap(text: str) -> str:
    # Never inside a key, a path or a hash: they stay whole, to be copied.
    return textwrap.fill(text, 78, break_long_words=False, break_on_hyphens=False)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m consent.log.auditor",
        description="Check a site's consent log from outside, with its public key alone.",
        epilog="Exit status: 0 verified, 1 a check failed, 2 usage or network error.",
    )
    commands = main.add_subparsers(required=True, metavar="COMMAND")

    def site_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--site", required=True, help="the site's base URL")
        command.add_argument("--state", required=True, help="the directory kept between runs")
        command.add_argument(
            "--key", help="the log's verifier key, or a file of it (else the pinned one)"
        )
        command.add_argument("--timeout", type=float, default=TIMEOUT, help=argparse.SUPPRESS)

    check_command = commands.add_parser(
        "check", help="verify the latest checkpoint and that the log only grew"
    )
    site_options(check_command)
    check_command.set_defaults(run=run_check)

    witness = commands.add_parser("witness", help="check, then cosign the checkpoint")
    site_options(witness)
    witness.add_argument("--witness-key", required=True, help="the witness's signer key file")
    witness.set_defaults(run=run_witness)

    witness_key = commands.add_parser("witness-key", help="generate a witness's key")
    witness_key.add_argument("--name", required=True, help="the witness's name, e.g. its host")
    witness_key.add_argument("--out", required=True, help="the file to write the signer key to")
    witness_key.set_defaults(run=run_witness_key)

    export = commands.add_parser("verify-export", help="prove an export's entries are in the log")
    export.add_argument("file")
    export.add_argument("--key", required=True, help="the log's verifier key, or a file of it")
    export.set_defaults(run=run_verify_export)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)  # exits 2 on a usage error
    try:
        status: int = args.run(args)
    except Failed as failure:
        if failure.alarm:
            warn(f"{failure.alarm} DETECTED", wrap(str(failure)))
            print(f"FAILED: {failure.alarm.lower()} detected (above)", file=sys.stderr)
        else:
            print(f"FAILED: {failure}", file=sys.stderr)
        return FAILED
    except Trouble as trouble:
        print(f"error: {trouble}", file=sys.stderr)
        return ERROR
    return status


if __name__ == "__main__":
    sys.exit(main())
