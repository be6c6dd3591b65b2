"""`consent_partitions`: make the consent records' partitions ahead, as the owner role
(consent.partitions; docs/operations.md, "Partitions"). Run it daily from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.conf import conf
from consent.partitions import MAX_AHEAD, default_rows, ensure, is_partitioned, valid_ahead
from consent.roles import as_owner


class Command(BaseCommand):
    help = (
        "Make the monthly partitions of the consent records for this month and the "
        "CONSENT_PARTITIONS_AHEAD months after it, and one for every month whose records went "
        "to the DEFAULT partition, moving them in. Idempotent; runs as the owner role "
        "(DATABASE_OWNER_URL). Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ahead",
            type=int,
            help=f"Months ahead, 1 to {MAX_AHEAD} (default: CONSENT_PARTITIONS_AHEAD).",
        )

    def handle(self, *args: Any, ahead: int | None, **options: Any) -> None:
        ahead = conf.CONSENT_PARTITIONS_AHEAD if ahead is None else ahead
        if not valid_ahead(ahead):
            raise CommandError(f"--ahead must be a number of months from 1 to {MAX_AHEAD}.")
        with as_owner():
            if not is_partitioned():
                raise CommandError("The consent records are not partitioned: run migrate first.")
            made = ensure(ahead)
            left = default_rows()
        for name in made:
            self.stdout.write(f"Made the partition {name}.")
        if not made:
            self.stdout.write(f"Every partition up to {ahead} months ahead exists.")
        if left:  # cannot happen: every month the DEFAULT held got its partition
            raise CommandError(f"The DEFAULT partition still holds {left} records.")
