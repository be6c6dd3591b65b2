"""`migrate`, run as the owner role when DATABASE_OWNER_URL names one (consent.roles); then
the consent records' partitions for the months ahead (consent.partitions)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from consent.conf import conf
from consent.partitions import ensure, is_partitioned, valid_ahead
from consent.roles import as_owner


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        database = options["database"]
        with as_owner(database):
            super().handle(*args, **options)
            # CONSENT_PARTITIONS_AHEAD months ahead (migration 0011 made three); a bad value
            # is consent.E010, which the checks above have reported.
            ahead = conf.CONSENT_PARTITIONS_AHEAD
            changes = not (options["plan"] or options["check_unapplied"])
            if changes and valid_ahead(ahead) and is_partitioned(database):
                ensure(ahead, using=database)
