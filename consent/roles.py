"""The app's two database roles (docs/operations in the README, "Database roles").

The runtime role is who the app runs as: the user in DATABASE_URL, a member of the group role
RUNTIME_ROLE, which migrations grant exactly what the app needs. It may SELECT and INSERT the
consent records, the log and its checkpoints, and nothing more on them; it owns no table, so it
can neither disable a trigger nor drop one (consent/migrations/0010_runtime_role.py).

The owner role, given by DATABASE_OWNER_URL, owns the tables: it runs `migrate` and the
retention purge (`purge_consents`), through `as_owner`. Without DATABASE_OWNER_URL the one
user does both, which the `consent.W010` database check reports.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg2 import sql

# The group role that holds the runtime's privileges; frozen in migration 0010.
RUNTIME_ROLE = "iportalis_runtime"
# What DATABASE_OWNER_URL may change in a connection's settings: not the database's name.
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


@contextmanager
def as_owner(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block on a connection logged in as the owner role.

    With DATABASE_OWNER set, the connection is closed and opened again with the owner's
    credentials, and closed again after the block, so the next query runs as the runtime role
    once more; it cannot be used inside a transaction. A session that logged in as the owner
    and took the runtime role (OPTIONS["assume_role"], as the test suite's does) gives it back
    for the block instead, inside its transaction. With one role, the block runs as it is.
    """
    connection = connections[using]
    assumed = connection.settings_dict.get("OPTIONS", {}).get("assume_role")
    if assumed:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
        try:
            yield
        finally:
            if not connection.needs_rollback and connection.connection is not None:
                with connection.cursor() as cursor:
                    cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(assumed)))
        return
    # The DATABASES-style entry of the owner role; None when the app has one role.
    owner: dict[str, Any] | None = getattr(settings, "DATABASE_OWNER", None)
    if not owner or all(owner.get(key) == connection.settings_dict.get(key) for key in CREDENTIALS):
        yield
        return
    runtime = connection.settings_dict
    connection.close()
    connection.settings_dict = {**runtime, **{key: owner.get(key) for key in CREDENTIALS}}
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = runtime


def owns_records(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Return whether this connection's role owns the consent records (has the privileges of
    their owner): the one role that may purge them."""
    return _ask("pg_has_role(current_user, c.relowner, 'USAGE')", using)


def may_erase(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Return whether this connection's role could remove consent records: it owns their
    table or one of its monthly partitions, or holds DELETE or TRUNCATE on one of them."""
    erase = (
        "pg_has_role(current_user, {0}.relowner, 'USAGE') "
        "OR has_table_privilege(current_user, {0}.oid, 'DELETE, TRUNCATE')"
    )
    return _ask(
        f"{erase.format('c')} OR EXISTS (SELECT FROM pg_inherits i"
        f" JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid"
        f" AND ({erase.format('p')}))",
        using,
    )


def _ask(condition: str, using: str) -> bool:
    # No row before the records' table exists (`migrate` runs the checks first).
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT {condition} FROM pg_class c WHERE c.oid = to_regclass('consent_consentrecord')"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@register(Tags.database)
def check_runtime_role(
    app_configs: Any = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """With `check --database default`: warn when the app runs as a role that can erase."""
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    if not may_erase():
        return []
    user = connections[DEFAULT_DB_ALIAS].settings_dict.get("USER") or "(default)"
    return [
        CheckWarning(
            f"The app connects as {user}, which can remove consent records: it owns their "
            "table or may DELETE or TRUNCATE it.",
            hint=(
                f"Run the app as a member of {RUNTIME_ROLE} that owns no table (DATABASE_URL), "
                "and migrate and purge as the owner (DATABASE_OWNER_URL): see the README, "
                "'Database roles'."
            ),
            id="consent.W010",
        )
    ]
