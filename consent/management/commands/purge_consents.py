from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.audit.forms import MomentField
from consent.audit.purge import PurgeError, purge
from consent.log.integration import RECORD
from consent.log.models import LogLeaf
from consent.models import ConsentRecord
from consent.roles import as_owner


class Command(BaseCommand):
    help = (
        "Retention purge: remove the consent records created before --before that are in the "
        "signed log. Their leaves stay, so the log, its checkpoints and every receipt still "
        "verify; the purge itself becomes an entry of the log (docs/integrity.md). Runs as the "
        "owner role (DATABASE_OWNER_URL). Asks for confirmation unless --noinput."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--before", required=True, help="First time kept, UTC (2024-01-01 or ISO 8601)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and show what would go; remove nothing."
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation (for scripts).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner():
            self.purge(**options)

    def purge(self, **options: Any) -> None:
        try:
            before = MomentField().clean(options["before"])
        except ValidationError as error:
            raise CommandError(f"--before: {' '.join(error.messages)}") from None
        when = f"{before:%Y-%m-%d %H:%M:%S} UTC"
        integrated = LogLeaf.objects.filter(source=RECORD).values("ref")
        estimate = ConsentRecord.objects.filter(created_at__lt=before, pk__in=integrated).count()
        if not estimate:
            self.stdout.write(f"Nothing to purge: no integrated record was created before {when}.")
            return
        if not options["dry_run"] and options["interactive"]:
            answer = input(
                f"This permanently removes {estimate:,} consent records created before {when} "
                "(their leaves stay in the log).\n"
                "Type 'yes' to continue, or anything else to cancel: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Purge cancelled: nothing was removed.")
        try:
            done = purge(before, dry_run=options["dry_run"])
        except PurgeError as error:
            raise CommandError(f"Purge refused: {error}") from None
        if options["dry_run"]:
            self.stdout.write(
                f"Dry run: would purge {done.count:,} records created before {when} "
                f"(record IDs up to {done.highest_id}). They match their leaves. Nothing was "
                "removed."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {done.count:,} records created before {when}; their leaves stay in "
                f"the log. Purge {done.pk} is an entry of the log: {done.purged_total:,} "
                f"records purged in all, SHA-256 of their leaf indexes {done.purged_sha256}."
            )
        )
