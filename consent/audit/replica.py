"""The optional read replica, DATABASE_REPLICA_URL: where exports, statistics and verification
read, so that an auditor's export of millions of rows does not load the primary.

Only those three ask `read_database()`, at their call sites (the audit pages, the statistics
page, `export_consents`, `verify_consents`), and pass its alias on with `using`. Everything
else uses Django's default database, the primary, as it would without a replica: decisions and
the integrator write, and the admin shows what was just written. An explicit alias rather than a
database router: a router would route every read of the models, the admin's and the
integrator's included, and could not route the raw SQL of the exports and the verification.

A replica lags, so what it reads is proved against the latest checkpoint it holds, which the
export names (consent.audit.export); a request that needs a checkpoint it does not hold yet, or one
made while the replica does not answer, reads from the primary instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import Error as DatabaseError
from django.utils.translation import gettext

from common.databases import REPLICA

from ..log.models import LogCheckpoint

logger = logging.getLogger(__name__)

_HELD = f"SELECT coalesce(max(size), 0) FROM {LogCheckpoint._meta.db_table}"
# Two connections to one server see the same start time: a standby has a start of its own.
_SERVER = "SELECT pg_postmaster_start_time(), current_database()"


def read_database(covering: int = 0) -> str:
    """Return the alias to read an export, the statistics or a verification from: the replica
    if one is configured, answers, and holds a checkpoint of at least `covering` leaves (one an
    auditor kept, or the one a CSV was made against); else the primary.

    A replica that does not answer is logged as a warning and costs at most the connection
    timeout: the page still answers, from the primary.
    """
    if REPLICA not in settings.DATABASES:
        return DEFAULT_DB_ALIAS
    replica = connections[REPLICA]
    try:
        with replica.cursor() as cursor:
            cursor.execute(_HELD)
            held = int(cursor.fetchone()[0])
    except DatabaseError as error:  # OperationalError, or InterfaceError on a dropped connection
        replica.close()  # reconnect next time rather than reuse a broken connection
        logger.warning("The read replica does not answer; reading from the primary: %s", error)
        return DEFAULT_DB_ALIAS
    if held < covering:
        logger.info(
            "The read replica holds %d leaves, not yet the %d asked for; reading from the primary.",
            held,
            covering,
        )
        return DEFAULT_DB_ALIAS
    return REPLICA


def describe(using: str) -> str:
    """Return, for reports, which database was read."""
    return gettext("the read replica") if using == REPLICA else gettext("the primary database")


@register(Tags.database)
def check_replica_server(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """With `check --database default --database replica`: refuse a replica that is the
    primary's own server under another name (localhost for 127.0.0.1, a DNS alias)."""
    if not databases or not {DEFAULT_DB_ALIAS, REPLICA} <= set(databases):
        return []
    found = []
    for alias in (DEFAULT_DB_ALIAS, REPLICA):
        with connections[alias].cursor() as cursor:
            cursor.execute(_SERVER)
            found.append(cursor.fetchone())
    if found[0] != found[1]:
        return []
    return [
        Error(
            "DATABASE_REPLICA_URL reaches the primary's own server and database: exports, "
            "statistics and verification would load the primary.",
            hint="Name the standby's host and port in DATABASE_REPLICA_URL, or unset it.",
            id="consent.E009",
        )
    ]
