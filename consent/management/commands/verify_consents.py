from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.audit.replica import read_database
from consent.audit.verification import Report, largest_kept, verify_log
from consent.log import note


class Command(BaseCommand):
    help = (
        "Check the signed consent log against the database, with the public key alone: "
        "rebuild every entry from its record, policy publication or purge, every tile and "
        "every checkpoint, and check every published policy's text. With --checkpoint, also "
        "prove that the log only grew since each checkpoint kept elsewhere. Exits non-zero "
        "and says what broke, and where."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="A checkpoint kept elsewhere (a signed note, as /consent-log/checkpoint "
            "serves it, or a receipt's); repeatable.",
        )
        parser.add_argument(
            "--key",
            help="The log's verifier key (default: the one of CONSENT_LOG_SIGNING_KEY).",
        )

    def handle(self, *args: Any, checkpoint: list[str], key: str | None, **options: Any) -> None:
        kept = []
        for name in checkpoint:
            try:
                kept.append(Path(name).read_text(encoding="utf-8")[: note.MAX_NOTE + 1])
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"Cannot read the checkpoint {name}: {error}") from None
        try:
            verifier = note.parse_verifier(key) if key else None
        except note.NoteError as error:
            raise CommandError(f"--key: {error}") from None
        using = read_database(covering=largest_kept(kept, verifier))
        report = verify_log(kept, verifier, using=using)
        for line in summary(report):
            self.stdout.write(line)
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"BROKEN {problem}")
            if report.unlisted:
                self.stderr.write(f"BROKEN and {report.unlisted:,} more")
            raise CommandError(
                f"The consent log does not verify: {report.problem_count:,} problems. "
                f"First: {report.problems[0]}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {report.size:,} entries, {report.records:,} records match their leaves"
                f"{f', {report.purged:,} purged' if report.purged else ''}; every tile and "
                f"checkpoint verifies{_kept(report)}."
            )
        )


def _kept(report: Report) -> str:
    count = len(report.kept)
    if not count:
        return ""
    return f"; consistent with the {count} kept checkpoint{'s' if count > 1 else ''}"


def summary(report: Report) -> list[str]:
    """Return the report's figures as lines. Keep the latest checkpoint: given to a later run
    with --checkpoint, it proves the log only grew in between."""
    root = base64.b64encode(report.root).decode()
    lines = [
        f"Verified the consent log in {report.seconds:.1f} s: {report.size:,} entries "
        f"({report.records:,} records checked, {report.purged:,} purged, "
        f"{report.pending:,} pending), {report.tiles:,} full tiles, "
        f"{report.checkpoints:,} checkpoints, read from {report.read_from}.",
        f"Tree root: {root}",
    ]
    for kept in report.kept:
        lines.append(f"Kept checkpoint of size {kept.size:,}: {_b64(kept.root)}")
    return lines


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
