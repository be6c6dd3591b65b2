import csv
import io
import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import translation

from consent import export
from consent.conf import conf
from consent.models import ConsentRecord
from tests.factories import make_auditor, make_published, make_record, make_staff

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "export-columns.md"


@pytest.fixture
def log():
    """Records that differ in every field, including text that CSV must quote."""
    visitor = uuid.uuid4()
    records = [
        make_record(visitor, path="/products/"),
        make_record(
            visitor,
            event="custom",
            surface="settings",
            choices={"first-party": True, "session": True},
            path='/search/"a,b"\nc',
        ),
        make_record(visitor, event="withdraw", choices={}),
        make_record(event="reject_all", choices={}, user_agent="", ip="198.51.100.9"),
    ]
    with translation.override("de"):
        records.append(make_record(user_agent='Ünïcode "quoted", Firefox/133.0', path="/de/"))
    return [ConsentRecord.objects.select_related("policy_version").get(pk=r.pk) for r in records]


def as_json(record):
    """Return a record as an export row should hold it, from the database's own values.

    Times are compared as times (see `timed`): PostgreSQL leaves out trailing zeros.
    """
    return {
        "id": record.pk,
        "consent_id": str(record.consent_id),
        "created_at": record.created_at,
        "event": record.event,
        "surface": record.surface,
        **record.choices,
        "gpc": record.gpc,
        "policy_version": record.policy_version.number,
        "policy_language": record.policy_version.language,
        "policy_version_id": record.policy_version_id,
        "policy_sha256": record.policy_sha256,
        "language": record.language,
        "path": record.path,
        "ip_hmac": record.ip_hmac,
        "user_agent": record.user_agent,
        "chain": record.chain,
        "seq": record.seq,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def as_csv(record):
    text = {True: "true", False: "false"}
    return {
        key: text[value]
        if isinstance(value, bool)
        else value
        if key == "created_at"
        else str(value)
        for key, value in as_json(record).items()
    }


def timed(rows):
    for row in rows:
        assert ISO_UTC.fullmatch(row["created_at"]), row["created_at"]
        row["created_at"] = datetime.fromisoformat(row["created_at"])
    return rows


ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00")


def read_csv(text):
    return timed(list(csv.DictReader(io.StringIO(text))))


def read_jsonl(text):
    return timed([json.loads(line) for line in text.splitlines()])


def run_export(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_consents", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_csv_export_to_a_file_holds_every_record_and_field(log, tmp_path):
    target = tmp_path / "records.csv"

    _out, err = run_export("--format", "csv", "--output", str(target))

    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(export.COLUMNS)
    assert read_csv(text) == [as_csv(record) for record in log]
    assert f"Exported 5 records to {target}" in err


def test_jsonl_export_to_stdout_holds_every_record_and_field(log):
    out, _err = run_export("--format", "jsonl")

    assert read_jsonl(out) == [as_json(record) for record in log]
    assert list(read_jsonl(out)[0]) == list(export.COLUMNS)


@pytest.mark.parametrize(
    ("microsecond", "written"), [(0, "12:30:05+00:00"), (250000, "12:30:05.25+00:00")]
)
def test_times_are_iso_8601_in_utc(monkeypatch, microsecond, written):
    from django.utils import timezone

    moment = datetime(2026, 1, 31, 13, 30, 5, microsecond, tzinfo=ZoneInfo("Europe/Paris"))
    monkeypatch.setattr(timezone, "now", lambda: moment)
    make_record()
    monkeypatch.undo()

    for fmt in ("csv", "jsonl"):
        out, _err = run_export("--format", fmt)
        assert f"2026-01-31T{written}" in out


def test_the_time_range_includes_since_and_excludes_until(log):
    _first, second, third, fourth, _fifth = log
    since, until = second.created_at.isoformat(), fourth.created_at.isoformat()

    out, _err = run_export("--format", "jsonl", "--since", since, "--until", until)

    assert [row["id"] for row in read_jsonl(out)] == [second.pk, third.pk]


def test_a_date_means_midnight_utc(log):
    today = log[0].created_at.date()

    out, _err = run_export("--format", "jsonl", "--until", today.isoformat())
    assert read_jsonl(out) == []

    out, _err = run_export("--format", "jsonl", "--since", today.isoformat())
    assert len(read_jsonl(out)) == 5


def test_export_narrowed_to_one_visitor(log):
    out, _err = run_export("--format", "csv", "--consent-id", str(log[0].consent_id))

    assert read_csv(out) == [as_csv(record) for record in log[:3]]


def test_export_narrowed_to_one_policy_version(log):
    make_published(title="Cookie Policy, second edition")
    later = make_record()
    assert later.policy_version.number == 3

    out, _err = run_export("--format", "jsonl", "--policy-version", "3")
    assert [row["id"] for row in read_jsonl(out)] == [later.pk]

    out, _err = run_export("--format", "jsonl", "--policy-version", "2")
    assert [row["id"] for row in read_jsonl(out)] == [record.pk for record in log]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since: Enter a date such as 2026-01-31"),
        (["--until", "2026-02-30"], "--until: Enter a date"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "“Since” must be earlier"),
        (["--consent-id", "not-a-uuid"], "--consent-id: Enter a valid UUID."),
        (["--policy-version", "0"], "--policy-version: Ensure this value is greater than"),
        (["--format", "xml"], "invalid choice: 'xml'"),
    ],
)
def test_bad_arguments_are_a_clear_command_error(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run_export(*args)


def test_an_unwritable_output_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        run_export("--output", str(tmp_path / "missing" / "records.csv"))


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_on_a_terminal_and_none_when_piped(log, tmp_path):
    terminal = Terminal()
    call_command("export_consents", "--output", str(tmp_path / "a.csv"), stderr=terminal)
    assert "\r[" + "#" * 30 + "] 100% 5/5 records" in terminal.getvalue()

    _out, err = run_export("--output", str(tmp_path / "b.csv"))
    assert "\r" not in err
    assert "#" not in err


def test_the_columns_reference_verifies_an_export_offline(log):
    """The recipe in docs/export-columns.md checks every hash and link of a real export."""
    recipe = re.search(r"```python\n(.*?)```", DOCS.read_text(), re.S).group(1)
    namespace = {}
    exec(recipe, namespace)
    verify_rows = namespace["verify_rows"]
    jsonl, _err = run_export("--format", "jsonl")
    rows = [json.loads(line) for line in jsonl.splitlines()]
    csv_text, _err = run_export("--format", "csv")

    assert verify_rows(rows, conf.CONSENT_INTEGRITY_KEY) is None
    assert verify_rows(csv.DictReader(io.StringIO(csv_text)), conf.CONSENT_INTEGRITY_KEY) is None
    edited = [dict(row) for row in rows]
    edited[1]["third-party"] = not edited[1]["third-party"]
    assert f"record {rows[1]['id']}" in verify_rows(edited, conf.CONSENT_INTEGRITY_KEY)
    # The visitor's three records are one chain: without the middle one, the last is adrift.
    assert f"record {rows[2]['id']}" in verify_rows(rows[:1] + rows[2:], conf.CONSENT_INTEGRITY_KEY)


# Over HTTP


@pytest.fixture
def auditor_client(client):
    client.force_login(make_auditor())
    return client


def body(response):
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize(
    ("url", "read", "row"),
    [
        ("/audit/consents.csv", read_csv, as_csv),
        ("/audit/consents.jsonl", read_jsonl, as_json),
    ],
)
def test_the_audit_pages_stream_every_record_and_field(auditor_client, log, url, read, row):
    response = auditor_client.get(url)

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="consent-records-')
    assert "no-store" in response["Cache-Control"]
    assert read(body(response)) == [row(record) for record in log]


def test_the_audit_pages_take_the_same_filters(auditor_client, log):
    first, second, third, *_others = log
    response = auditor_client.get(
        "/audit/consents.jsonl",
        {
            "since": second.created_at.isoformat(),
            "until": "2999-01-01",
            "consent_id": str(first.consent_id),
            "policy_version": "2",
        },
    )

    assert [row["id"] for row in read_jsonl(body(response))] == [second.pk, third.pk]


def test_the_csv_download_opens_in_a_spreadsheet_the_same_as_the_commands(auditor_client, log):
    command_csv, _err = run_export("--format", "csv")

    assert read_csv(body(auditor_client.get("/audit/consents.csv"))) == read_csv(command_csv)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "soon"}, "since: Enter a date such as 2026-01-31"),
        ({"consent_id": "42"}, "consent_id: Enter a valid UUID."),
        ({"since": "2026-02-01", "until": "2026-02-01"}, "“Since” must be earlier"),
    ],
)
def test_bad_filters_are_a_clear_400(auditor_client, log, query, message):
    response = auditor_client.get("/audit/consents.csv", query)

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in response.content.decode()


def test_the_download_is_read_in_chunks_through_a_server_side_cursor(monkeypatch, log):
    monkeypatch.setattr(export, "CHUNK_ROWS", 2)
    response = export.streaming_response(ConsentRecord.objects.all(), "jsonl", "x.jsonl")
    chunks = iter(response.streaming_content)

    first = next(chunks)

    # Half the records are out, and the rest wait in an open cursor on the server.
    assert len(first.splitlines()) == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        assert cursor.fetchone() == (1,)
    rest = list(chunks)
    assert [len(chunk.splitlines()) for chunk in rest] == [2, 1]
    response.close()


def test_under_asgi_the_download_is_streamed_not_read_whole_first(monkeypatch, log):
    """Django reads a plain sync iterator whole under ASGI, with a warning (an error here)."""
    monkeypatch.setattr(export, "CHUNK_ROWS", 1)
    response = export.streaming_response(ConsentRecord.objects.all(), "csv", "x.csv")

    async def read():
        return [chunk async for chunk in response]

    chunks = async_to_sync(read)()

    assert len(chunks) == 1 + len(log)  # the header, then one record per chunk
    assert read_csv(b"".join(chunks).decode()) == [as_csv(record) for record in log]


# Who may export


@pytest.mark.parametrize("url", ["/audit/consents.csv", "/audit/consents.jsonl"])
def test_anonymous_visitors_are_sent_to_the_admin_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"


@pytest.mark.parametrize("url", ["/audit/consents.csv", "/audit/consents.jsonl"])
def test_staff_without_the_export_permission_are_refused(client, url):
    client.force_login(make_staff("consent.view_consentrecord", "consent.verify_consentrecord"))

    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/audit/consents.csv", "/audit/consents.jsonl"])
def test_staff_with_the_export_permission_may_export(client, log, url):
    client.force_login(make_staff("consent.export_consentrecord"))

    response = client.get(url)

    assert response.status_code == 200
    assert len(body(response).splitlines()) >= len(log)


def test_only_get_is_allowed(auditor_client):
    assert auditor_client.post("/audit/consents.csv").status_code == 405
