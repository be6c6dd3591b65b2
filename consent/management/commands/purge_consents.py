from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.forms import MomentField
from consent.models import ChainCheckpoint, ConsentRecord
from consent.purge import PurgeError, purge


class Command(BaseCommand):
    help = (
        "Retention purge: delete the consent records created before --before and leave a "
        "signed checkpoint in each hash chain, so the remaining log still verifies "
        "(docs/integrity.md). Asks for confirmation unless --noinput."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before", required=True, help="First time kept, UTC (2024-01-01 or ISO 8601)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Verify and show what would go; delete nothing."
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation (for scripts).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            before = MomentField().clean(options["before"])
        except ValidationError as error:
            raise CommandError(f"--before: {' '.join(error.messages)}") from None
        when = f"{before:%Y-%m-%d %H:%M:%S} UTC"
        estimate = ConsentRecord.objects.filter(created_at__lt=before).count()
        if not estimate:
            self.stdout.write(f"Nothing to purge: no record was created before {when}.")
            return
        if not options["dry_run"] and options["interactive"]:
            answer = input(
                f"This permanently deletes {estimate:,} consent records created before {when}.\n"
                "Type 'yes' to continue, or anything else to cancel: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Purge cancelled: nothing was deleted.")
        try:
            checkpoints = purge(before, dry_run=options["dry_run"])
        except PurgeError as error:
            raise CommandError(f"Purge refused: {error}") from None
        for checkpoint in checkpoints:
            self.stdout.write(_describe(checkpoint))
        total = sum(checkpoint.records for checkpoint in checkpoints)
        if options["dry_run"]:
            self.stdout.write(
                f"Dry run: would purge {total:,} records created before {when} from "
                f"{len(checkpoints)} chains. They verify. Nothing was deleted."
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Purged {total:,} records created before {when} from {len(checkpoints)} "
                    "chains; each chain now starts at its signed checkpoint."
                )
            )


def _describe(checkpoint: ChainCheckpoint) -> str:
    first = checkpoint.seq - checkpoint.records + 1
    return (
        f"chain {checkpoint.chain:>2}: {checkpoint.records:>11,} records, "
        f"seq {first}–{checkpoint.seq}, last hash {checkpoint.hash}"
    )
