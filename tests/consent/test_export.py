import csv
import io
import json
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consent.audit import export
from consent.log import store
from consent.log.exportproof import (
    FORMULA_STARTS,
    check_export,
    escape_cell,
    unescape_cell,
    verify_export,
)
from consent.log.integration import integrate
from consent.log.models import LogLeaf
from consent.models import ConsentRecord
from tests.factories import make_auditor, make_published, make_record, make_records, make_staff
from tests.helpers import HOSTILE_TEXT, starts_a_formula

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
    integrate()
    return [ConsentRecord.objects.select_related("policy_version").get(pk=r.pk) for r in records]


def leaf_index(record):
    leaf = LogLeaf.objects.filter(source="record", ref=record.pk).first()
    return leaf.index if leaf else None


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
        "leaf_index": leaf_index(record),
    }


def as_csv(record):
    text = {True: "true", False: "false", None: ""}
    return {
        key: text[value]
        if isinstance(value, bool) or value is None
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
    """Return the rows of JSON Lines, without the last line: the proof."""
    lines = text.splitlines()
    assert json.loads(lines[-1])["format"] == "iportalis-consent-export-proof/1"
    return timed([json.loads(line) for line in lines[:-1]])


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


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_progress_bar_on_a_terminal_and_none_when_piped(log, tmp_path, fmt):
    """The bar counts the bytes written, on stderr and only when it is a terminal; the export
    and its proof are the same bytes either way."""
    terminal = Terminal()
    shown, plain = tmp_path / f"shown.{fmt}", tmp_path / f"plain.{fmt}"
    call_command("export_consents", "--format", fmt, "--output", str(shown), stderr=terminal)
    _out, err = run_export("--format", fmt, "--output", str(plain))

    size = shown.stat().st_size
    bar = terminal.getvalue()
    assert bar.startswith("\rExporting: 0.00B")
    assert f"Exporting: {size / 1024:.2f}kB [" in bar  # every byte counted, none more
    assert "Exported 5 records" in bar
    assert "\r" not in err
    assert "Exporting" not in err
    assert shown.read_bytes() == plain.read_bytes()
    if fmt == "csv":
        assert Path(f"{shown}.proof.json").read_bytes() == Path(f"{plain}.proof.json").read_bytes()


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
    assert [len(chunk.splitlines()) for chunk in rest] == [2, 1, 1]  # and the proof's line
    response.close()


def test_under_asgi_the_download_is_streamed_not_read_whole_first(monkeypatch, log):
    """Django reads a plain sync iterator whole under ASGI, with a warning (an error here)."""
    monkeypatch.setattr(export, "CHUNK_ROWS", 1)
    response = export.streaming_response(ConsentRecord.objects.all(), "csv", "x.csv", "/proof")

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


# Proofs: every export verifies offline with the public key alone


def exported_file(tmp_path, fmt, *args):
    target = tmp_path / f"records.{fmt}"
    run_export("--format", fmt, "--output", str(target), *args)
    return target


def lines_of(path):
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def edit_rows(path, change):
    """Rewrite an export's rows as `change(rows)` returns them; its proof stays as it was."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=export.COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(change(rows))
        path.write_text(out.getvalue(), encoding="utf-8")
    else:
        *lines, proof = text.splitlines(keepends=True)
        rows = change([json.loads(line) for line in lines])
        path.write_text("".join(json.dumps(r) + "\n" for r in rows) + proof, encoding="utf-8")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_verifies_offline(log, tmp_path, fmt):
    make_record()  # not in the log yet: exported as pending, proved by nothing
    path = exported_file(tmp_path, fmt)

    check = check_export(path, store.verifier())

    assert check.problems == []
    assert (check.rows, check.proved, check.pending) == (6, 5, 1)
    assert check.checkpoint.size == store.latest().size
    if fmt == "csv":
        assert (tmp_path / "records.csv.proof.json").exists()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_edited_row_fails(log, tmp_path, fmt):
    path = exported_file(tmp_path, fmt)

    def turn_around(rows):
        rows[1]["first-party"] = "false" if fmt == "csv" else False  # it was true
        return rows

    edit_rows(path, turn_around)

    problems = verify_export(path, store.verifier())

    assert problems == [
        "the rows and the proof do not make the root the checkpoint signs: a row was edited, "
        "removed, added or given another leaf index"
    ]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_removed_row_fails(log, tmp_path, fmt):
    path = exported_file(tmp_path, fmt)
    edit_rows(path, lambda rows: rows[:2] + rows[3:])

    problems = verify_export(path, store.verifier())

    assert (
        "the proof covers 5 exported records, the export has 4 rows with a leaf index"
        in (problems[0])
    )
    assert any("neither in the export nor in the proof" in p for p in problems)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_reordered_rows_fail(log, tmp_path, fmt):
    path = exported_file(tmp_path, fmt)
    edit_rows(path, lambda rows: [rows[0], rows[2], rows[1], *rows[3:]])

    problems = verify_export(path, store.verifier())

    assert problems == [f"row 3 (record {log[1].pk}): out of order: rows come in ID order"]


def test_rows_given_each_others_leaf_indexes_fail(log, tmp_path):
    path = exported_file(tmp_path, "jsonl")

    def renumber(rows):
        rows[0]["leaf_index"], rows[1]["leaf_index"] = rows[1]["leaf_index"], rows[0]["leaf_index"]
        return rows

    edit_rows(path, renumber)

    assert "do not make the root the checkpoint signs" in verify_export(path, store.verifier())[0]


def test_a_proof_signed_by_another_key_fails(log, tmp_path):
    from consent.log import note

    path = exported_file(tmp_path, "jsonl")
    other = note.generate_signer(store.signer().name)

    problems = verify_export(path, other.verifier)

    assert problems[0].startswith("the proof's checkpoint does not verify with the log's key")


def test_a_time_range_verifies_on_its_own_with_a_few_hashes(tmp_path):
    make_records(600)
    integrate()
    middle = list(ConsentRecord.objects.order_by("pk")[200:300])
    since, until = middle[0].created_at, middle[-1].created_at
    path = exported_file(
        tmp_path, "jsonl", "--since", since.isoformat(), "--until", until.isoformat()
    )

    check = check_export(path, store.verifier())

    assert check.problems == []
    assert check.proved == len(read_jsonl(path.read_text()))
    proof = json.loads(lines_of(path)[-1])
    assert len(proof["subtrees"]) <= 2 * store.latest().size.bit_length()


def test_a_purged_range_shows_as_purged_and_still_verifies(monkeypatch, tmp_path):
    from django.utils import timezone

    old = timezone.now() - timedelta(days=4 * 365)
    monkeypatch.setattr(timezone, "now", lambda: old)
    purged = [make_record() for _ in range(3)]
    monkeypatch.undo()
    kept = [make_record() for _ in range(2)]
    integrate()
    call_command(
        "purge_consents",
        "--before",
        (old + timedelta(days=31)).isoformat(),  # a month later: purges remove whole months
        "--noinput",
        stdout=io.StringIO(),
    )
    path = exported_file(tmp_path, "csv")

    check = check_export(path, store.verifier())

    assert check.problems == []
    indexes = sorted(
        LogLeaf.objects.filter(ref__in=[r.pk for r in purged], source="record").values_list(
            "index", flat=True
        )
    )
    assert check.purged == [(indexes[0], indexes[-1] + 1)]
    assert check.proved == len(kept)

    proof_path = tmp_path / "records.csv.proof.json"
    proof = json.loads(proof_path.read_text())
    proof["purged"] = [[indexes[0], indexes[-1]]]  # one purged leaf fewer claimed
    proof_path.write_text(json.dumps(proof))
    assert verify_export(path, store.verifier())[0].startswith(
        "the 2 leaf indexes listed as purged are not the 3 the purge of"
    )


def test_the_csv_download_names_its_sidecar_proof_which_verifies_it(auditor_client, log, tmp_path):
    response = auditor_client.get("/audit/consents.csv", {"since": "2000-01-01"})
    csv_path = tmp_path / "download.csv"
    csv_path.write_bytes(b"".join(response.streaming_content))
    size = store.latest().size
    link = response["Link"]
    assert link == (
        f'</audit/consents.csv.proof.json?since=2000-01-01&size={size}>; rel="describedby"; '
        'type="application/json"'
    )
    assert f"-size-{size}.csv" in response["Content-Disposition"]
    make_record()
    integrate()  # the log grows between the two downloads: the proof is of the CSV's size

    proof = auditor_client.get(link[1 : link.index(">")])
    assert proof.status_code == 200
    (tmp_path / "download.csv.proof.json").write_bytes(b"".join(proof.streaming_content))

    assert verify_export(csv_path, store.verifier()) == []


def test_the_jsonl_download_carries_its_proof(auditor_client, log, tmp_path):
    path = tmp_path / "download.jsonl"
    path.write_bytes(b"".join(auditor_client.get("/audit/consents.jsonl").streaming_content))

    assert verify_export(path, store.verifier()) == []


def test_a_proof_of_a_size_the_log_never_had_is_a_400(auditor_client, log):
    response = auditor_client.get("/audit/consents.csv.proof.json", {"size": "999"})

    assert response.status_code == 400
    assert "size: No checkpoint of the log has this size." in response.content.decode()


def test_the_admin_csv_export_is_a_zip_of_the_csv_and_its_proof(admin_client, log, tmp_path):
    import zipfile

    response = admin_client.post(
        "/admin/consent/consentrecord/",
        {"action": "export_csv", "_selected_action": [log[0].pk, log[3].pk], "index": 0},
    )
    path = tmp_path / "export.zip"
    path.write_bytes(b"".join(response.streaming_content))

    assert response["Content-Type"] == "application/zip"
    csv_name, proof_name = zipfile.ZipFile(path).namelist()
    assert csv_name.startswith("consent-records-") and csv_name.endswith(".csv")
    assert proof_name == f"{csv_name}.proof.json"
    check = check_export(path, store.verifier())
    assert check.problems == []
    assert check.proved == 2


@pytest.mark.parametrize("seed", range(5))
def test_the_gaps_between_exported_leaves_are_found_exactly(seed):
    import random

    rng = random.Random(seed)
    size = rng.choice([1, 7, 8, 9, 300, 1000])
    chosen = {i for i in range(size) if rng.random() < rng.choice([0.02, 0.5, 0.98])}
    leaves = export.LeafSet(size)
    for index in chosen:
        leaves.add(index)
    leaves.add(size)  # beyond the checkpoint: not proved

    gaps = list(leaves.gaps())

    assert leaves.count == len(chosen)
    assert [i for lo, hi in gaps for i in range(lo, hi)] == sorted(set(range(size)) - chosen)
    assert all(a[1] < b[0] for a, b in zip(gaps, gaps[1:], strict=False))  # maximal runs


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"size": "many"}, "size: Enter a whole number."),
        ({"size": "-1"}, "size: Ensure this value is greater than or equal to 0."),
        ({"since": "soon"}, "since: Enter a date such as 2026-01-31"),
    ],
)
def test_bad_proof_parameters_are_a_clear_400(auditor_client, log, query, message):
    response = auditor_client.get("/audit/consents.csv.proof.json", query)

    assert response.status_code == 400
    assert message in response.content.decode()


# Spreadsheets: text a visitor sent runs no formula, and the export still verifies


def hostile_records():
    records = [make_record(path=f"/{n}", user_agent=text) for n, text in enumerate(HOSTILE_TEXT)]
    records += [make_record(path=text) for text in HOSTILE_TEXT]
    integrate()
    return [ConsentRecord.objects.select_related("policy_version").get(pk=r.pk) for r in records]


def assert_no_cell_starts_a_formula(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(export.COLUMNS)
    for row in rows[1:]:
        for cell in row:
            assert not starts_a_formula(cell), cell


def test_a_hostile_path_or_user_agent_begins_no_formula_in_the_commands_csv(tmp_path):
    records = hostile_records()
    assert any(starts_a_formula(r.user_agent) for r in records)  # stored as the visitor sent it
    path = exported_file(tmp_path, "csv")

    text = path.read_bytes().decode()  # CR as it is, not read as a line end

    assert_no_cell_starts_a_formula(text)
    check = check_export(path, store.verifier())
    assert check.problems == []
    assert check.proved == len(records)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [unescape_cell(row["user_agent"]) for row in rows] == [r.user_agent for r in records]
    assert [unescape_cell(row["path"]) for row in rows] == [r.path for r in records]


def test_a_hostile_path_or_user_agent_begins_no_formula_in_the_web_csv(auditor_client, tmp_path):
    records = hostile_records()
    response = auditor_client.get("/audit/consents.csv")
    csv_path = tmp_path / "download.csv"
    csv_path.write_bytes(b"".join(response.streaming_content))
    link = response["Link"]
    proof = auditor_client.get(link[1 : link.index(">")])
    (tmp_path / "download.csv.proof.json").write_bytes(b"".join(proof.streaming_content))

    assert_no_cell_starts_a_formula(csv_path.read_bytes().decode())
    # The command and the web write the same cells.
    assert read_csv(csv_path.read_bytes().decode()) == read_csv(run_export("--format", "csv")[0])
    check = check_export(csv_path, store.verifier())
    assert (check.problems, check.proved) == ([], len(records))


def test_a_hostile_path_or_user_agent_begins_no_formula_in_the_admins_zip(admin_client, tmp_path):
    import zipfile

    records = hostile_records()
    response = admin_client.post(
        "/admin/consent/consentrecord/",
        {"action": "export_csv", "_selected_action": [r.pk for r in records], "index": 0},
    )
    path = tmp_path / "export.zip"
    path.write_bytes(b"".join(response.streaming_content))

    archive = zipfile.ZipFile(path)
    assert_no_cell_starts_a_formula(archive.read(archive.namelist()[0]).decode())
    check = check_export(path, store.verifier())
    assert (check.problems, check.proved) == ([], len(records))


def test_json_lines_carry_hostile_text_as_it_is_and_verify(auditor_client, tmp_path):
    records = hostile_records()
    path = tmp_path / "download.jsonl"
    path.write_bytes(b"".join(auditor_client.get("/audit/consents.jsonl").streaming_content))

    rows = read_jsonl(path.read_bytes().decode())

    assert [row["user_agent"] for row in rows] == [r.user_agent for r in records]
    assert [row["path"] for row in rows] == [r.path for r in records]
    assert verify_export(path, store.verifier()) == []


def test_an_escaped_cell_edited_to_mean_something_else_fails(tmp_path):
    hostile_records()
    path = exported_file(tmp_path, "csv")

    def unquote(rows):
        rows[0]["user_agent"] = rows[0]["user_agent"][1:]  # '=HYPERLINK… made =HYPERLINK…
        return rows

    edit_rows(path, unquote)

    assert "do not make the root" in verify_export(path, store.verifier())[0]


@given(st.text(alphabet=st.sampled_from("=+-@'\t\r\n,; a/\"é")))
@hypothesis_settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_escaping_begins_no_formula_and_is_undone_exactly(text):
    escaped = escape_cell(text)

    assert not starts_a_formula(escaped)
    assert unescape_cell(escaped) == text
    assert escaped == text or any(c in text for c in FORMULA_STARTS)


@given(st.text(alphabet=st.sampled_from("=+-@'\t\r\n,; a/\"é\\&")))
@hypothesis_settings(
    max_examples=100,
    deadline=None,  # no timing assertion: a loaded machine is slow, not wrong
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_postgresql_escapes_exactly_as_the_offline_tool_unescapes(text):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT regexp_replace(%s, {export._FORMULA_START}, '''', 'g')", [text])
        (escaped,) = cursor.fetchone()

    assert escaped == escape_cell(text)


# Filters that match nothing, as Django knows without asking the database


def test_a_filter_beyond_its_columns_range_exports_nothing_and_verifies(log, tmp_path):
    for fmt in ("csv", "jsonl"):
        queryset = ConsentRecord.objects.filter(policy_version__id=2**63)  # no SQL for it
        path = tmp_path / f"nothing.{fmt}"
        path.write_bytes(b"".join(export.streaming_response(queryset, fmt, path.name, "/p")))

        check = check_export(path, store.verifier()) if fmt == "jsonl" else None
        assert len(path.read_text().splitlines()) == 1  # the header, or the proof
        if check is not None:
            assert (check.problems, check.rows) == ([], 0)


def test_a_proof_of_no_record_when_django_knows_the_filter_matches_none(auditor_client, log):
    proof = export.proof_response(ConsentRecord.objects.none(), store.latest(), "x.json")

    assert json.loads(b"".join(proof.streaming_content))["records"] == 0


@pytest.mark.parametrize(
    ("url", "query", "message"),
    [
        ("/audit/consents.csv", {"policy_version": str(2**31)}, "policy_version: Ensure this"),
        ("/audit/consents.jsonl", {"policy_version": "9" * 30}, "policy_version: Ensure this"),
        ("/audit/consents.csv.proof.json", {"size": str(2**63)}, "size: Ensure this value"),
        ("/audit/consents.csv.proof.json", {"policy_version": str(2**63)}, "policy_version:"),
    ],
)
def test_numbers_beyond_the_columns_are_a_clear_400(auditor_client, log, url, query, message):
    response = auditor_client.get(url, query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_command_refuses_a_policy_version_beyond_the_column():
    with pytest.raises(CommandError, match="--policy-version: Ensure this value is less than"):
        run_export("--policy-version", str(2**31))


def test_the_documented_escaping_examples_hold():
    text = DOCS.read_text(encoding="utf-8")
    table = text[text.index("| recorded | in the CSV |") :].split("\n\n")[0]
    examples = re.findall(r"^\| `([^`]*)` \| `([^`]*)` \|$", table, re.MULTILINE)

    assert len(examples) == 4
    for recorded, shown in examples:
        assert (escape_cell(recorded), unescape_cell(shown)) == (shown, recorded)
    assert escape_cell("\t=1+1") == "'\t'=1+1"  # the row with a tab
