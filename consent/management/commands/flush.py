"""`flush`, run as the owner role when DATABASE_OWNER_URL names one (consent.roles): only the
owner may empty the consent records and the log. Django's TransactionTestCase flushes this way
between tests."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from consent.roles import as_owner


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with as_owner(options["database"]):
            super().handle(**options)
