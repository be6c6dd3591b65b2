"""The auditor's tool, run as an auditor runs it: `python -m consent.log.auditor` in a subprocess.

Most tests point it at a fake site of our own (an http.server in a thread serving checkpoints
and tiles made with consent/log's pure modules), because only a fake site can be made to fork,
roll back or lie about a tile; the last ones run it against the real site (live_server).
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from consent.log import merkle, note, tiles

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "auditor.test/consent-log"


def auditor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consent.log.auditor", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def leaves(count: int, salt: str = "") -> list[bytes]:
    return [merkle.leaf_hash(f"entry {salt}{i}".encode()) for i in range(count)]


class FakeLog:
    """What the fake site serves: a tree of leaf hashes, its key and a checkpoint, with lies
    wherever a test puts them."""

    def __init__(self) -> None:
        self.signer = note.generate_signer(ORIGIN)
        self.key = str(self.signer.verifier)
        self.leaves: list[bytes] = []
        self.checkpoint = ""
        self.lies: dict[str, bytes | None] = {}  # tile path: bytes served instead (None: 404)
        self.received: list[str] = []  # cosignature submissions

    def publish(self, hashes: list[bytes]) -> str:
        self.leaves = list(hashes)
        self.checkpoint = self.sign(len(hashes))
        return self.checkpoint

    def serve(self, checkpoint: str) -> str:
        self.checkpoint = checkpoint
        return checkpoint

    def sign(self, size: int, signer: note.Signer | None = None) -> str:
        root = merkle.root(size, merkle.in_memory(self.leaves[:size]))
        return note.sign_note(note.Checkpoint(ORIGIN, size, root).body(), signer or self.signer)

    def tile(self, path: str) -> bytes | None:
        if path in self.lies:
            return self.lies[path]
        level, index, width = tiles.parse_tile_path(path)
        if width > tiles.available_width(level, index, len(self.leaves)):
            return None
        hash_at = merkle.in_memory(self.leaves)
        span = 1 << (tiles.HEIGHT * level)
        nodes = range(index * tiles.WIDTH, index * tiles.WIDTH + width)
        return b"".join(hash_at(n * span, (n + 1) * span) for n in nodes)


class Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def do_GET(self) -> None:
        log = self.server.log
        if self.path == "/consent-log/key":
            self.answer(200, f"{log.key}\n".encode())
        elif self.path == "/consent-log/checkpoint":
            self.answer(200, log.checkpoint.encode())
        elif self.path.startswith("/consent-log/tile/"):
            data = log.tile(self.path.removeprefix("/consent-log/tile/"))
            self.answer(404, b"no such tile\n") if data is None else self.answer(200, data)
        else:
            self.answer(404, b"not found\n")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.log.received.append(body.decode())
        self.answer(201, b"Kept 1 cosignature(s).\n")

    def answer(self, status: int, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the auditor stopped reading an oversized answer, as it should

    def log_message(self, format: str, *args: object) -> None:
        pass


class FakeServer(ThreadingHTTPServer):
    log: FakeLog


@pytest.fixture
def fake() -> Iterator[tuple[str, FakeLog]]:
    server = FakeServer(("127.0.0.1", 0), Handler)
    server.log = FakeLog()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", server.log
    server.shutdown()
    server.server_close()
    thread.join()


def check(url: str, state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return auditor("check", "--site", url, "--state", str(state), *extra)


def assert_failed(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    said = " ".join(result.stderr.split())  # alarms are wrapped to the terminal's width
    for word in words:
        assert word in said


def evidence(state: Path) -> dict[str, str]:
    (folder,) = (state / "evidence").iterdir()
    return {path.name: path.read_text() for path in folder.iterdir()}


def assert_caught(url: str, state: Path, kept: str, *words: str) -> dict[str, str]:
    """Check again: it fails saying `words`, keeps `kept` as the latest checkpoint and returns
    the evidence it kept."""
    assert_failed(check(url, state), *words)
    assert (state / "latest").read_text() == kept
    return evidence(state)


# check: the log only grows ------------------------------------------------------------------


def test_check_pins_the_key_on_first_use_and_proves_that_the_log_grew(fake, tmp_path):
    url, log = fake
    first = log.publish(leaves(100))
    result = check(url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "TRUST ON FIRST USE" in result.stderr
    assert "out of band" in result.stderr
    assert "size  100 (first checkpoint kept" in result.stdout
    assert (tmp_path / "key").read_text() == f"{log.key}\n"
    assert (tmp_path / "latest").read_text() == first

    second = log.publish(leaves(700))
    result = check(url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "TRUST ON FIRST USE" not in result.stderr
    assert "size  700 (grew by 600 since the last check (100))" in result.stdout
    root = note.parse_checkpoint(note.split_note(second)[0]).root
    assert f"root  {base64.b64encode(root).decode()}" in result.stdout
    assert (tmp_path / "latest").read_text() == second
    assert (tmp_path / "checkpoints" / "100").read_text() == first
    assert (tmp_path / "checkpoints" / "700").read_text() == second

    result = check(url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "size  700 (unchanged since the last check)" in result.stdout


@pytest.mark.parametrize(
    ("old", "new"), [(1, 2), (1, 256), (255, 257), (256, 512), (300, 300), (7, 66_000)]
)
def test_check_proves_growth_across_tile_edges(fake, tmp_path, old, new):
    url, log = fake
    log.publish(leaves(old))
    assert check(url, tmp_path, "--key", log.key).returncode == 0
    log.publish(leaves(new))
    result = check(url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"size  {new} (" in result.stdout


def test_an_empty_log_checks_and_then_grows(fake, tmp_path):
    url, log = fake
    log.publish([])
    assert check(url, tmp_path, "--key", log.key).returncode == 0
    log.publish(leaves(3))
    result = check(url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "grew by 3" in result.stdout


# check: what it catches ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lie", "alarm"),
    [
        # Another history of the same size, genuinely signed.
        (
            lambda log: log.publish(leaves(700, salt="another history ")),
            ("FORK DETECTED", "two different trees of 700 entries"),
        ),
        # Genuinely signed, but an older, smaller tree.
        (
            lambda log: log.serve(log.sign(600)),
            ("ROLLBACK DETECTED", "shrank from 700 entries (kept) to 600"),
        ),
    ],
    ids=["fork", "rollback"],
)
def test_a_fork_or_a_rollback_is_reported_with_both_signed_notes_kept(fake, tmp_path, lie, alarm):
    url, log = fake
    kept = log.publish(leaves(700))
    assert check(url, tmp_path, "--key", log.key).returncode == 0
    served = lie(log)
    caught = assert_caught(url, tmp_path, kept, *alarm)
    assert caught == {"kept-700.note": kept, "served.note": served}


def test_a_rewritten_history_that_grew_is_caught_by_the_consistency_proof(fake, tmp_path):
    url, log = fake
    kept = log.publish(leaves(300))
    assert check(url, tmp_path, "--key", log.key).returncode == 0
    rewritten = leaves(400)
    rewritten[17] = merkle.leaf_hash(b"a record quietly changed")
    log.publish(rewritten)
    caught = assert_caught(
        url, tmp_path, kept, "HISTORY REWRITTEN", "does not extend the tree of 300"
    )
    assert caught["kept-300.note"] == kept


def test_a_checkpoint_kept_elsewhere_seeds_a_check(fake, tmp_path):
    # What docs/auditing.md tells auditors to do with another's checkpoint or a receipt's.
    url, log = fake
    theirs = log.publish(leaves(40, salt="the history shown to someone else "))
    log.publish(leaves(90))  # the history shown to us
    ours = tmp_path / "ours"
    assert check(url, ours, "--key", log.key).returncode == 0
    seeded = tmp_path / "seeded"
    seeded.mkdir()
    (seeded / "key").write_text(f"{log.key}\n")
    (seeded / "latest").write_text(theirs)
    result = check(url, seeded)
    assert_failed(result, "HISTORY REWRITTEN", "does not extend the tree of 40 kept")


def test_a_checkpoint_signed_by_another_key_fails(fake, tmp_path):
    url, log = fake
    log.publish(leaves(5))
    impostor = note.generate_signer(ORIGIN)  # the same name, another key
    log.checkpoint = log.sign(5, impostor)
    result = check(url, tmp_path, "--key", log.key)
    assert_failed(result, "BAD SIGNATURE", f"is not signed by {ORIGIN}")
    assert not (tmp_path / "latest").exists()
    assert not (tmp_path / "key").exists()  # a key is pinned only once a check passed


def test_a_changed_key_is_an_error(fake, tmp_path):
    url, log = fake
    log.publish(leaves(5))
    assert check(url, tmp_path).returncode == 0  # pins the site's key
    pinned = log.key
    log.signer = note.generate_signer(ORIGIN)  # the site now signs with a new key
    log.key = str(log.signer.verifier)
    log.publish(leaves(8))
    result = check(url, tmp_path)
    assert_failed(result, "BAD SIGNATURE", f"does not verify with the key {pinned}")
    result = check(url, tmp_path, "--key", log.key)
    assert_failed(result, "KEY CHANGED", "is not the key pinned")
    assert (tmp_path / "key").read_text() == f"{pinned}\n"


def flipped(data: bytes, slot: int) -> bytes:
    at = slot * merkle.HASH_SIZE
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


@pytest.mark.parametrize(
    ("old", "new", "path", "slot", "alarm"),
    [
        # The partial tile at the right edge: the root does not match.
        (100, 700, "0/002.p/188", 50, "LYING TILES"),
        (100, 700, "1/000.p/2", 1, "LYING TILES"),
        # A full tile the consistency proof reads.
        (100, 700, "0/000", 120, "LYING TILE"),
        # A hash the proof from 1 does not use (the old root is the proof's start): only the
        # check of every tile read against its parent catches it.
        (1, 300, "0/000", 0, "LYING TILE"),
    ],
)
def test_a_tile_that_does_not_hash_to_the_root_fails(fake, tmp_path, old, new, path, slot, alarm):
    url, log = fake
    kept = log.publish(leaves(old))
    assert check(url, tmp_path, "--key", log.key).returncode == 0
    log.publish(leaves(new))
    log.lies[path] = flipped(log.tile(path), slot)
    result = check(url, tmp_path)
    assert_failed(result, f"{alarm} DETECTED", "serves another tree than the one it signed")
    assert (tmp_path / "latest").read_text() == kept


def test_a_tile_of_the_wrong_width_fails(fake, tmp_path):
    url, log = fake
    log.publish(leaves(300))
    log.lies["0/001.p/44"] = log.tile("0/001.p/43")
    result = check(url, tmp_path, "--key", log.key)
    assert_failed(result, "BAD TILE", "tile 0/001.p/44 is 1376 bytes, not 44 hashes")


def test_answers_past_their_limit_are_not_read(fake, tmp_path):
    url, log = fake
    log.publish(leaves(300))
    log.lies["0/001.p/44"] = bytes(50 * 1024 * 1024)
    result = check(url, tmp_path, "--key", log.key)
    assert_failed(result, "is longer than the 8192 bytes it may be")
    log.lies.clear()
    log.checkpoint = log.checkpoint + "— x " + "A" * note.MAX_NOTE + "\n"
    result = check(url, tmp_path, "--key", log.key)
    assert_failed(result, f"is longer than the {note.MAX_NOTE} bytes it may be")
    assert not (tmp_path / "latest").exists()


# Usage and network errors: exit 2, a message, no traceback -------------------------------------


def test_network_and_usage_errors_exit_2_with_a_message(fake, tmp_path):
    url, log = fake
    log.publish(leaves(300))
    log.lies["0/001.p/44"] = None
    result = check(url, tmp_path, "--key", log.key)
    assert result.returncode == 2
    assert "tile/0/001.p/44: the site answered 404 Not Found: no such tile" in result.stderr

    with socket_closed() as closed:
        result = check(closed, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: http://127.0.0.1:")
    assert "Connection refused" in result.stderr

    for wrong in ("ftp://example.test", "http://[::1", "http://exa mple.test"):
        result = check(wrong, tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.stderr
    result = check(url, tmp_path, "--key", "not-a-key")
    assert result.returncode == 2
    assert "--key: not a verifier key" in result.stderr
    assert auditor("check", "--site", url).returncode == 2  # --state is required
    for result in (auditor("check", "--site", url), check("ftp://x", tmp_path)):
        assert "Traceback" not in result.stderr


class socket_closed:
    """The URL of a local port where nothing listens."""

    def __enter__(self) -> str:
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.socket.close()


def test_the_tool_imports_no_django():
    probe = (
        "import sys, consent.log.auditor; print(sorted(m for m in sys.modules if 'django' in m))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout == "[]\n"


# Witnessing ---------------------------------------------------------------------------------


def make_witness_key(path: Path, name: str = "witness.test") -> note.Verifier:
    result = auditor("witness-key", "--name", name, "--out", str(path))
    assert result.returncode == 0, result.stderr
    return note.parse_verifier(result.stdout)


def test_witness_key_writes_a_secret_0x04_key_and_never_overwrites_it(tmp_path):
    path = tmp_path / "witness.key"
    verifier = make_witness_key(path)
    assert verifier.key_type == note.COSIGNATURE_V1
    assert verifier.name == "witness.test"
    assert note.parse_signer(path.read_text()).verifier == verifier
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    before = path.read_text()
    result = auditor("witness-key", "--name", "other", "--out", str(path))
    assert result.returncode == 2
    assert "is never overwritten" in result.stderr
    assert path.read_text() == before


def test_a_witness_cosigns_only_what_it_checked(fake, tmp_path):
    url, log = fake
    verifier = make_witness_key(tmp_path / "witness.key")
    witness = ["--witness-key", str(tmp_path / "witness.key"), "--key", log.key]
    state = tmp_path / "state"
    log.publish(leaves(50))
    # Another witness's cosignature served with the checkpoint is not sent back as ours.
    other = note.generate_signer("other.witness", note.COSIGNATURE_V1)
    body = note.split_note(log.checkpoint)[0]
    log.checkpoint += note.cosign(body, other, 1_700_000_000).line()
    result = auditor("witness", "--site", url, "--state", str(state), *witness)
    assert result.returncode == 0, result.stderr
    assert "cosigned as witness.test: Kept 1 cosignature(s)." in result.stdout
    (submitted,) = log.received
    text, cosignatures = note.open_note(submitted, log.signer.verifier)
    assert text == body
    (cosignature,) = cosignatures
    assert note.verify_cosignature(text, cosignature, verifier) > 1_700_000_000
    assert (state / "cosigned" / "50").read_text() == cosignature.line()

    log.publish(leaves(50, salt="forked "))
    result = auditor("witness", "--site", url, "--state", str(state), *witness)
    assert_failed(result, "FORK DETECTED")
    assert len(log.received) == 1  # nothing cosigned


def test_a_witness_needs_a_witness_key(fake, tmp_path):
    url, log = fake
    log.publish(leaves(5))
    log_key = tmp_path / "log.key"
    log_key.write_text(f"{log.signer}\n")  # a log's signer key, type 0x01: not a witness's
    state = str(tmp_path / "state")
    result = auditor("witness", "--site", url, "--state", state, "--witness-key", str(log_key))
    assert result.returncode == 2
    assert "is not a witness key (type 0x04)" in result.stderr
    assert log.received == []


# Against the real site ----------------------------------------------------------------------


def integrate_records(count: int) -> int:
    """Write `count` records and integrate them; return the log's size."""
    from tests.factories import integrate_committed, make_record

    for _ in range(count):
        make_record()
    return integrate_committed().size


def test_check_and_witness_the_real_site(migrated_db, live_server, tmp_path):
    from consent.log import store
    from consent.models import Witness
    from policy.models import PolicyVersion

    published = PolicyVersion.objects.published().count()
    first = published + 3  # the published versions' publications, and three records
    assert integrate_records(3) == first
    state = tmp_path / "state"
    result = check(live_server.url, state)
    assert result.returncode == 0, result.stderr
    assert f"size  {first} (first checkpoint kept" in result.stdout
    assert (state / "key").read_text() == f"{store.verifier()}\n"

    assert integrate_records(260) == first + 260  # across the edge of the first tile
    result = check(live_server.url, state, "--key", str(store.verifier()))
    assert result.returncode == 0, result.stderr
    assert f"size  {first + 260} (grew by 260 since the last check ({first}))" in result.stdout
    assert (state / "latest").read_text() == store.latest().note

    verifier = make_witness_key(tmp_path / "witness.key")
    witness = ["witness", "--site", live_server.url, "--state", str(state)]
    witness += ["--witness-key", str(tmp_path / "witness.key")]
    result = auditor(*witness)  # not registered yet: the site refuses the cosignature
    assert result.returncode == 2
    assert "answered 403 Forbidden: witness.test" in result.stderr
    assert "is no active registered witness" in result.stderr

    Witness.objects.create(name="Test witness", key=str(verifier))
    assert integrate_records(1) == first + 261
    result = auditor(*witness)
    assert result.returncode == 0, result.stderr
    assert "grew by 1" in result.stdout
    assert (
        f"cosigned as witness.test: Kept 1 cosignature(s) of the checkpoint of size {first + 261}"
        in result.stdout
    )
    with urllib.request.urlopen(f"{live_server.url}/consent-log/checkpoint") as response:
        served = response.read().decode()
    text, others = note.open_note(served, store.verifier())
    assert served.startswith(store.latest().note)
    (cosignature,) = others
    note.verify_cosignature(text, cosignature, verifier)
    assert served.endswith(cosignature.line())

    # The checkpoint now carries the cosignature: the next check reads it as the same tree.
    result = check(live_server.url, state)
    assert result.returncode == 0, result.stderr
    assert "unchanged since the last check" in result.stdout


# verify-export ------------------------------------------------------------------------------


def test_verify_export_needs_a_file_and_a_log_key(tmp_path):
    log_key = str(note.generate_signer(ORIGIN).verifier)
    result = auditor("verify-export", str(tmp_path / "missing.csv"), "--key", log_key)
    assert result.returncode == 2
    assert "missing.csv: no such file" in result.stderr
    export = tmp_path / "consents.csv"
    export.write_text("id\n")
    witness = str(note.generate_signer("witness.test", note.COSIGNATURE_V1).verifier)
    result = auditor("verify-export", str(export), "--key", witness)
    assert result.returncode == 2
    assert "is a witness key (0x04), not a log's key" in result.stderr


# Runs once engineer C's consent/log/exportproof.py (verify_export) is in; skipped until then.
@pytest.mark.django_db
@pytest.mark.parametrize("form", ["csv", "jsonl"])
def test_verify_export_proves_an_export_and_catches_a_changed_row(tmp_path, form):
    pytest.importorskip(
        "consent.log.exportproof", reason="consent/log/exportproof.py is not in yet"
    )
    from django.core.management import call_command

    from consent.log import store
    from consent.log.integration import integrate
    from tests.factories import make_record

    for event in ("accept_all", "reject_all", "custom"):
        make_record(event=event)
    integrate()
    export = tmp_path / f"consents.{form}"
    call_command("export_consents", format=form, output=str(export))
    key = str(store.verifier())
    result = auditor("verify-export", str(export), "--key", key)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK {export}")

    text = export.read_text()
    assert text.count("reject_all") == 1
    export.write_text(text.replace("reject_all", "accept_all"))  # one record's choice changed
    result = auditor("verify-export", str(export), "--key", key)
    assert_failed(result, "problem(s), listed above")


@pytest.mark.django_db
def test_verify_export_proves_a_csv_whose_hostile_cells_were_escaped(tmp_path):
    """Cells a spreadsheet would run as formulas carry a leading apostrophe; the tool takes it
    off again, so the escaped export still proves the records as the log holds them."""
    from django.core.management import call_command

    from consent.log import store
    from consent.log.integration import integrate
    from tests.factories import make_record

    make_record(user_agent='=HYPERLINK("https://evil.example/","x")', path="/a;@b")
    make_record(user_agent="'quoted", path="+1\t-2")
    integrate()
    export = tmp_path / "consents.csv"
    call_command("export_consents", format="csv", output=str(export))
    rows = export.read_bytes().decode()
    assert "'=HYPERLINK(" in rows and "/a;'@b" in rows and "''quoted" in rows

    result = auditor("verify-export", str(export), "--key", str(store.verifier()))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"OK {export}")
