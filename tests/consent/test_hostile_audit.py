"""Hostile input against the auditors' and admins' pages (issue 14, items 4 and 8).

What a visitor sent (a user agent, a path) must run no formula when an auditor opens an export
in a spreadsheet, and the export must still verify; no number typed into a query string of the
audit or admin pages answers 500. Every request goes through `Probe.send` and is counted.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from consent.log import store
from consent.log.exportproof import check_export
from consent.log.integration import integrate
from tests.factories import make_auditor, make_record
from tests.helpers import HOSTILE_TEXT, starts_a_formula
from tests.hostile import FORM, Probe

pytestmark = pytest.mark.django_db


RECORDS = "/admin/consent/consentrecord/"
HUGE = ("9" * 30, str(2**63), str(2**31), f"-{2**63}")


@pytest.fixture
def auditor() -> Client:
    client = Client()
    client.force_login(make_auditor())
    return client


@pytest.fixture
def hostile_log() -> list[Any]:
    """Records whose user agent or path is what a visitor could send to run a formula."""
    records = [make_record(path=f"/{n}", user_agent=text) for n, text in enumerate(HOSTILE_TEXT)]
    records += [make_record(path=text) for text in HOSTILE_TEXT]
    integrate()
    return records


def content(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def assert_runs_no_formula(data: bytes) -> None:
    for row in csv.reader(io.StringIO(data.decode())):
        for cell in row:
            assert not starts_a_formula(cell), cell


def test_a_web_csv_of_hostile_records_runs_no_formula_and_verifies(
    probe: Probe, auditor: Client, hostile_log: list[Any], tmp_path: Any
) -> None:
    response = probe.get("/audit/consents.csv", client=auditor)
    path = tmp_path / "consents.csv"
    path.write_bytes(content(response))
    link = response["Link"]
    proof = probe.get(link[1 : link.index(">")], client=auditor)
    (tmp_path / "consents.csv.proof.json").write_bytes(content(proof))

    assert_runs_no_formula(path.read_bytes())
    check = check_export(path, store.verifier())
    assert (check.problems, check.proved) == ([], len(hostile_log))


def test_the_admins_csv_zip_of_hostile_records_runs_no_formula_and_verifies(
    probe: Probe, admin_client: Client, hostile_log: list[Any], tmp_path: Any
) -> None:
    body = urlencode(
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": "1"}
    ).encode()
    response = probe.send("POST", RECORDS, body, FORM, client=admin_client)
    path = tmp_path / "export.zip"
    path.write_bytes(content(response))

    archive = zipfile.ZipFile(path)
    assert_runs_no_formula(archive.read(archive.namelist()[0]))
    check = check_export(path, store.verifier())
    assert (check.problems, check.proved) == ([], len(hostile_log))


def test_json_lines_of_hostile_records_carry_them_as_they_are_and_verify(
    probe: Probe, auditor: Client, hostile_log: list[Any], tmp_path: Any
) -> None:
    path = tmp_path / "consents.jsonl"
    path.write_bytes(content(probe.get("/audit/consents.jsonl", client=auditor)))

    rows = [json.loads(line) for line in path.read_bytes().decode().splitlines()[:-1]]
    assert [row["user_agent"] for row in rows] == [r.user_agent for r in hostile_log]
    assert [row["path"] for row in rows] == [r.path for r in hostile_log]
    check = check_export(path, store.verifier())
    assert (check.problems, check.proved) == ([], len(hostile_log))


# Each URL with a number in {n}: it is given every number of HUGE.
AUDIT_NUMBERS = (
    "/audit/consents.csv?policy_version={n}",
    "/audit/consents.jsonl?policy_version={n}",
    "/audit/consents.csv.proof.json?policy_version={n}",
    "/audit/consents.csv.proof.json?size={n}",
)
ADMIN_NUMBERS = (
    RECORDS + "?policy_version__id__exact={n}",
    RECORDS + "?q={n}",
    RECORDS + "?p={n}",
    RECORDS + "?o={n}",
    RECORDS + "{n}/change/",
    "/admin/consent/logcheckpoint/?size={n}",
    "/admin/consent/cosignature/?witness__id__exact={n}",
    "/admin/policy/policyversion/?effective_date__year={n}",
    "/admin/policy/policyversion/?effective_date__year=2026&effective_date__month={n}",
    "/admin/policy/policyversion/?effective_date__year=2026&effective_date__month=1"
    "&effective_date__day={n}",
    "/admin/policy/policyversion/{n}/changes/",
)
ADMIN_DATES = (
    f"{RECORDS}?created_at__lte=9999-12-31",
    f"{RECORDS}?created_at__gte=0001-01-01&created_at__lte=9999-12-31",
    "/audit/statistics/?start=9990-01-01&end=9999-12-30",
    "/audit/statistics/?start=9999-12-31&end=9999-12-31",
)


def with_huge(urls: tuple[str, ...]) -> list[str]:
    return [url.format(n=number) for number in HUGE for url in urls]


def test_numbers_beyond_every_column_on_the_audit_pages_are_a_400(
    probe: Probe, auditor: Client
) -> None:
    make_record()
    integrate()
    for url in with_huge(AUDIT_NUMBERS):
        response = probe.get(url, client=auditor)
        content(response)
        assert response.status_code == 400, url
        name = url.split("?")[1].split("=")[0]
        assert f"{name}: " in response.content.decode(), url  # the reason, by its parameter


def test_numbers_and_dates_beyond_every_column_on_the_admin_pages_fail_nothing(
    probe: Probe, admin_client: Client
) -> None:
    make_record()
    for url in with_huge(ADMIN_NUMBERS) + list(ADMIN_DATES):
        response = probe.get(url, client=admin_client)
        content(response)
        assert response.status_code in (200, 302, 400, 404), url
        if response.status_code == 302:  # the admin's "invalid filter" or "no such object"
            assert response["Location"].startswith("/admin/"), url


@pytest.mark.parametrize("action", ["export_csv", "export_jsonl"])
def test_the_admins_exports_of_filters_beyond_every_column_are_empty(
    probe: Probe, admin_client: Client, action: str
) -> None:
    record = make_record()
    integrate()
    for number in HUGE:
        for query in (f"policy_version__id__exact={number}", f"q={number}"):
            body = urlencode(
                {"action": action, "select_across": "1", "_selected_action": record.pk}
            ).encode()
            response = probe.send("POST", f"{RECORDS}?{query}", body, FORM, client=admin_client)
            assert response.status_code == 200, query
            data = content(response)
            if action == "export_jsonl":
                assert data.count(b"\n") == 1, query  # the proof alone
            else:
                archive = zipfile.ZipFile(io.BytesIO(data))
                assert archive.read(archive.namelist()[0]).count(b"\n") == 1, query
