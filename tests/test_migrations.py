"""Data migrations run no live code: a fresh install gets the same rows whatever code it runs."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.db import connection
from psycopg2 import sql

from tests.helpers import VERSION_1_SHA256, VERSION_2_SHA256, manage_on

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[1]
MIGRATIONS = sorted(
    path for app in ("consent", "policy") for path in (BASE_DIR / app / "migrations").glob("0*.py")
)


@pytest.mark.parametrize("path", MIGRATIONS, ids=lambda path: f"{path.parts[-3]}/{path.stem}")
def test_a_migration_imports_no_project_code(path):
    source = path.read_text(encoding="utf-8")
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }

    assert imported <= {"django"} | sys.stdlib_module_names
    assert "import_module" not in source


@pytest.fixture
def empty_database() -> Iterator[str]:
    """Return the URL of a new, empty database beside the suite's, dropped after the test."""
    suite = connection.settings_dict
    name = f"{suite['NAME']}_fresh"
    login = {
        "user": suite["USER"],
        "password": suite["PASSWORD"] or None,
        "host": suite["HOST"] or None,
        "port": suite["PORT"] or None,
    }
    admin = psycopg2.connect(dbname="postgres", **login)
    admin.autocommit = True

    def drop() -> None:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    drop()  # left by an interrupted run
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    password = f":{quote(suite['PASSWORD'], safe='')}" if suite["PASSWORD"] else ""
    host = quote(suite["HOST"] or "", safe="")
    port = f":{suite['PORT']}" if suite["PORT"] else ""
    try:
        yield f"postgres://{quote(suite['USER'], safe='')}{password}@{host}{port}/{name}"
    finally:
        drop()
        admin.close()


def test_migrate_from_zero_publishes_the_versions_with_their_documented_hashes(empty_database):
    result = manage_on(empty_database, "migrate", "--noinput")
    assert result.returncode == 0, result.stderr

    with psycopg2.connect(empty_database) as fresh, fresh.cursor() as cursor:
        cursor.execute(
            "SELECT language, number, content_sha256,"
            " encode(sha256(convert_to(rendered_html, 'UTF8')), 'hex')"
            " FROM policy_policyversion WHERE status = 'published' ORDER BY number, language"
        )
        versions = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM auth_group g JOIN auth_group_permissions p ON p.group_id = g.id"
            " WHERE g.name = 'Auditors'"
        )
        (auditor_permissions,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM consent_registeredcookie")
        (cookies,) = cursor.fetchone()
    fresh.close()

    assert versions[0] == ("en", 1, VERSION_1_SHA256, VERSION_1_SHA256)
    assert versions[1:] == [
        (language, 2, sha256, sha256) for language, sha256 in sorted(VERSION_2_SHA256.items())
    ]
    assert auditor_permissions == 13
    assert cookies == 14
