"""The retention purge. Being rewritten for the Merkle log (issue #12)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from .conf import conf


class PurgeError(Exception):
    """The purge was refused and nothing was removed."""


def oldest_allowed(now: datetime | None = None) -> datetime:
    """Return the latest `before` a purge accepts: younger records may prove a consent in force."""
    return (now or timezone.now()) - timedelta(seconds=conf.CONSENT_MAX_AGE)


def purge(before: datetime, *, dry_run: bool = False) -> Any:
    raise NotImplementedError("the purge of the Merkle log is being written")
