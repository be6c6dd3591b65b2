"""The hostile suite's probe (tests/consent/test_hostile*.py): every request goes through
`Probe.send`, which checks what must hold whatever the input and counts the cases."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode, urlsplit

from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from consent.models import ConsentRecord

COOKIE = "iportalis_consent"
HOST = "testserver"
# What every injection attempt tries to smuggle into the response.
INJECTED_HEADER = "x-hostile"
INJECTED_COOKIE = "hostile"
FORM = "application/x-www-form-urlencoded"


class Probe:
    """Send hostile requests, check what every answer must hold, and count them."""

    def __init__(self) -> None:
        self.sent = 0
        self.server_errors = 0
        self.unintended_records = 0
        self.decisions = 0

    def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str = "application/json",
        *,
        client: Client | AsyncClient | None = None,
        records: int = 0,
        **extra: Any,
    ) -> Any:
        """Send one request and check it: below 500, exactly `records` records written, no
        consent cookie without a record, nothing injected, no redirect off the site."""
        client = client or Client()
        before = ConsentRecord.objects.count()
        self.sent += 1
        try:
            if isinstance(client, AsyncClient):
                response = async_to_sync(awaited)(
                    client.generic(method, path, body, content_type, **extra)
                )
            else:
                response = client.generic(method, path, body, content_type, **extra)
        except Exception:
            # The test client re-raises what would have been a 500.
            self.server_errors += 1
            raise
        written = ConsentRecord.objects.count() - before
        if response.status_code >= 500:
            self.server_errors += 1
        if records:
            self.decisions += written
        else:
            self.unintended_records += written
        case = f"{method} {path} {body[:200]!r} {extra}"
        assert response.status_code < 500, case
        assert written == records, case
        if not records:
            assert COOKIE not in response.cookies, case
        assert_nothing_injected(response, case)
        if response.has_header("Location"):
            assert not leaves_site(response["Location"]), case
        return response

    def get(self, path: str, **extra: Any) -> Any:
        return self.send("GET", path, **extra)

    def post_json(self, body: bytes, **extra: Any) -> Any:
        return self.send("POST", "/api/consent/", body, "application/json", **extra)

    def post_form(self, fields: dict[str, str] | bytes, **extra: Any) -> Any:
        body = fields if isinstance(fields, bytes) else urlencode(fields).encode()
        return self.send("POST", "/consent/", body, FORM, **extra)


async def awaited(request: Awaitable[Any]) -> Any:
    return await request


def assert_nothing_injected(response: Any, case: str) -> None:
    for name, value in response.items():
        assert name.lower() != INJECTED_HEADER, case
        assert not set(value) & {"\r", "\n", "\x00"}, case
    # The middleware may expire a refused cookie of that name; nothing may set one.
    assert not (INJECTED_COOKIE in response.cookies and response.cookies[INJECTED_COOKIE].value)
    for morsel in response.cookies.values():
        assert not set(morsel.OutputString()) & {"\r", "\n", "\x00"}, case


def leaves_site(location: str) -> bool:
    """Return whether a browser following this Location could land on another site.

    Read the way browsers read URLs (WHATWG): leading controls and spaces dropped, tabs and
    newlines removed anywhere, backslashes taken for slashes; conservative about the rest.
    """
    url = location.lstrip("".join(map(chr, range(0x21))))
    url = url.translate({ord("\t"): None, ord("\n"): None, ord("\r"): None}).replace("\\", "/")
    try:
        parts = urlsplit("http:" + url if url.startswith("//") else url)
    except ValueError:
        return True
    if not parts.scheme:
        return False  # relative: this site
    return parts.scheme not in ("http", "https") or parts.netloc != HOST


EDITS = ("truncate", "replace", "insert", "append")


def edited(valid: str, cut: int, replacement: str, kind: str) -> str:
    """`valid` cut short at `cut` (modulo its length), or with `replacement` in place of, before
    or after it (an edit of EDITS)."""
    at = cut % len(valid)
    return {
        "truncate": valid[:at],
        "replace": valid[:at] + replacement + valid[at + 1 :],
        "insert": valid[:at] + replacement + valid[at:],
        "append": valid + replacement,
    }[kind]


def raw(data: bytes) -> str:
    """Return the WSGI value of a header that carried these bytes: one character per byte."""
    return data.decode("latin-1")
