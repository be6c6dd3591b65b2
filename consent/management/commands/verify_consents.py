from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.forms import TimeRangeForm, error_text
from consent.integrity import CHAINS
from consent.verification import Report, verify_log


class Command(BaseCommand):
    help = (
        "Check that no consent record was changed, removed or inserted: walk every hash chain, "
        "whole or between --since and --until, and print where each one ends. Exits non-zero "
        "and names the first break."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", default="", help="First time included (2026-01-31).")
        parser.add_argument("--until", default="", help="First time excluded (2026-02-01).")
        parser.add_argument(
            "--processes",
            type=int,
            default=min(os.cpu_count() or 1, CHAINS),
            help="Chains verified in parallel (default: one per CPU).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        form = TimeRangeForm({"since": options["since"], "until": options["until"]})
        if not form.is_valid():
            raise CommandError(error_text(form, options=True))
        report = verify_log(**form.cleaned_data, processes=max(options["processes"], 1))
        for line in summary(report):
            self.stdout.write(line)
        if not report.ok:
            for problem in report.breaks:
                self.stderr.write(f"BROKEN {problem}")
            raise CommandError(
                f"Integrity broken in {len(report.breaks)} of {len(report.chains)} chains "
                f"({report.checked:,} records read). First: {report.first_break}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {report.checked:,} records in {len(report.chains)} chains, all links intact."
            )
        )


def summary(report: Report) -> list[str]:
    """Return the report as lines: the range, then each chain's count and where it ends.

    Keep this output: the last hash of each chain, compared with a later run, shows whether the
    newest records were removed together with their chain's head.
    """
    since = report.since.isoformat() if report.since else "the beginning"
    until = report.until.isoformat() if report.until else "now"
    lines = [
        f"Verified records from {since} until {until}: {report.checked:,} records "
        f"in {len(report.chains)} chains in {report.seconds:.1f} s.",
        f"{'chain':>5}  {'records':>11}  {'seq':>21}  hash at the last seq",
    ]
    for chain in report.chains:
        seqs = f"{chain.start_seq + 1}–{chain.end_seq}" if chain.end_seq > chain.start_seq else "–"
        state = f"BROKEN: {chain.problem.kind}" if chain.problem else chain.end_hash
        lines.append(f"{chain.chain:>5}  {chain.checked:>11,}  {seqs:>21}  {state}")
    return lines
