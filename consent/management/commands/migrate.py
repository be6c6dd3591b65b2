"""`migrate`, run as the owner role when DATABASE_OWNER_URL names one (consent.roles)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from consent.roles import as_owner


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options["database"]):
            super().handle(*args, **options)
