from __future__ import annotations

import base64
import time
from contextlib import ExitStack
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from tqdm import tqdm

from consent.audit.export import FORMATS, copy_to, records
from consent.audit.forms import ExportForm, error_text
from consent.audit.replica import describe, read_database
from consent.log import merkle
from consent.log.exportproof import PROOF_SUFFIX


class Command(BaseCommand):
    help = (
        "Export consent records as CSV or JSON Lines, each with its leaf index, and the proof "
        "that lets an auditor check them offline with the log's public key: the last line of "
        "JSON Lines, or a sidecar FILE.proof.json beside a CSV file (docs/export-columns.md). "
        "Times are UTC: a date means its midnight."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--since", default="", help="First time included (2026-01-31).")
        parser.add_argument("--until", default="", help="First time excluded (2026-02-01).")
        parser.add_argument("--consent-id", default="", help="One visitor's records only.")
        parser.add_argument("--policy-version", default="", help="One policy version number.")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument(
            "--proof",
            help="Where a CSV export's proof goes (default: the output file's name followed by "
            f"{PROOF_SUFFIX}; on standard output, none unless given).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = ("since", "until", "consent_id", "policy_version")
        form = ExportForm({name: options[name] or "" for name in names})
        if not form.is_valid():
            raise CommandError(error_text(form, options=True))
        queryset = records(**form.cleaned_data).using(read_database())
        started = time.monotonic()
        proof_path = options["proof"]
        if proof_path is None and options["output"] and options["format"] == "csv":
            proof_path = f"{options['output']}{PROOF_SUFFIX}"
        with ExitStack() as stack:
            proof = None
            try:
                if options["output"]:
                    target: Any = stack.enter_context(open(options["output"], "wb"))
                if proof_path and options["format"] == "csv":
                    proof = stack.enter_context(open(proof_path, "wb"))
            except OSError as error:
                raise CommandError(f"Cannot write {error.filename}: {error}") from None
            if not options["output"]:
                # Straight to the bytes under sys.stdout; a text stream without them gets text.
                target = getattr(self.stdout, "buffer", None) or _Unended(self.stdout)
            if self.stderr.isatty():
                # Bytes written, not rows: the total would cost a COUNT(*) of its own, and
                # the bytes need no assumption about how COPY hands its rows over.
                bar = stack.enter_context(
                    tqdm(
                        desc="Exporting",
                        unit="B",
                        unit_scale=True,
                        unit_divisor=1024,
                        file=_Unended(self.stderr),
                    )
                )
                target = _Progressing(target, bar)
            count, checkpoint = copy_to(queryset, options["format"], target, proof)
            target.flush()
        where = options["output"] or "standard output"
        if options["format"] == "jsonl":
            carried = "; its proof is the last line"
        elif proof:
            carried = f"; its proof is in {proof_path}"
        else:
            carried = "; no proof written (give --proof FILE)"
        # Read from a replica, the checkpoint may be older than the primary's: say which it is.
        size = checkpoint.size if checkpoint else 0
        root = base64.b64encode(bytes(checkpoint.root) if checkpoint else merkle.EMPTY_ROOT)
        self.stderr.write(
            f"Exported {count:,} records to {where} in {time.monotonic() - started:.1f} s"
            f"{carried}. Proved against the checkpoint of size {size:,}, root {root.decode()}, "
            f"read from {describe(queryset.db)}.",
            style_func=str,  # a summary, not an error
        )


class _Progressing:
    """Passes on what the export writes and moves the progress bar by as many bytes."""

    def __init__(self, target: Any, bar: tqdm[Any]) -> None:
        self._target = target
        self._bar = bar

    def write(self, data: bytes) -> None:
        self._target.write(data)
        self._bar.update(len(data))

    def flush(self) -> None:
        self._target.flush()


class _Unended:
    """An OutputWrapper written to as a file is: with no line ending or style added, bytes
    decoded (tqdm writes text to stderr; the export writes bytes, which a test's StringIO
    stdout takes only as text)."""

    def __init__(self, stream: OutputWrapper) -> None:
        self._stream = stream

    def write(self, data: str | bytes) -> None:
        text = data.decode() if isinstance(data, bytes) else data
        self._stream.write(text, style_func=str, ending="")

    def flush(self) -> None:
        self._stream.flush()
