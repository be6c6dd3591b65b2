import io
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from consent.integrity import CHAINS
from consent.models import ChainHead, ConsentRecord
from consent.verification import verify_log
from tests.consent.test_records import insert_copy, three_records_in_one_chain, without_guard
from tests.factories import make_auditor, make_record, make_staff

pytestmark = pytest.mark.django_db


def verify(*args):
    """Return what verify_consents printed (and its error), and whether it passed."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_consents", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue() + err.getvalue() + str(error), False
    return out.getvalue(), True


def test_the_summary_counts_each_chain_and_prints_its_head():
    visitor = uuid.uuid4()
    for _ in range(3):
        make_record(visitor)
    make_record()

    output, passed = verify()

    assert passed, output
    assert (
        f"Verified records from the beginning until now: 4 records in {CHAINS} chains in" in output
    )
    for head in ChainHead.objects.all():
        count = ConsentRecord.objects.filter(chain=head.chain).count()
        assert f"{head.chain:>5}  {count:>11}  {f'1–{head.seq}':>21}  {head.hash}" in output
    assert f"OK: 4 records in {CHAINS} chains, all links intact." in output


def test_an_empty_log_verifies():
    output, passed = verify()

    assert passed, output
    assert f"OK: 0 records in {CHAINS} chains" in output


def test_every_broken_chain_is_listed_and_the_oldest_break_named_first():
    older = [make_record(chain=3) for _ in range(3)]
    newer = make_record(chain=5)
    make_record(chain=5)
    without_guard("UPDATE consent_consentrecord SET path = '/x' WHERE id = %s", [newer.pk])
    without_guard("UPDATE consent_consentrecord SET path = '/x' WHERE id = %s", [older[2].pk])

    output, passed = verify()

    assert not passed
    assert f"BROKEN chain 3, seq 3 (record {older[2].pk}): changed" in output
    assert f"BROKEN chain 5, seq 1 (record {newer.pk}): changed" in output
    # Each chain is read up to its first break: 3 records in chain 3, 1 in chain 5.
    assert f"Integrity broken in 2 of {CHAINS} chains (4 records read)" in output
    assert f"First: chain 3, seq 3 (record {older[2].pk}): changed" in output


def test_a_record_moved_to_a_chain_of_its_own_is_inserted():
    record = make_record()
    insert_copy(record, chain="99", seq="1")

    output, passed = verify()

    assert not passed
    assert "chain 99, seq 1" in output
    assert "inserted: past the head (seq 0)" in output


def test_a_record_inserted_at_the_start_of_a_chain_is_caught():
    first, *_ = three_records_in_one_chain()
    without_guard("UPDATE consent_consentrecord SET seq = seq + 10 WHERE chain = %s", [first.chain])
    without_guard("UPDATE consent_consentrecord SET seq = seq - 9 WHERE chain = %s", [first.chain])
    insert_copy(first, seq="1", event="'reject_all'", third_party="false")

    output, passed = verify()

    assert not passed
    assert f"chain {first.chain}, seq 1" in output
    assert "inserted: not part of the chain" in output


def test_a_chain_whose_ids_are_out_of_seq_order_is_judged_in_seq_order():
    """The one pass in id order cannot vouch for this chain; reading it in seq order can."""
    first, _second, third = three_records_in_one_chain()
    without_guard("UPDATE consent_consentrecord SET id = id + 1000 WHERE id = %s", [first.pk])

    output, passed = verify()
    assert passed, output
    assert f"OK: 3 records in {CHAINS} chains" in output

    without_guard("UPDATE consent_consentrecord SET path = '/x' WHERE id = %s", [third.pk])
    output, passed = verify()
    assert not passed
    assert f"chain {third.chain}, seq 3 (record {third.pk}): changed" in output


@pytest.fixture
def three_periods(monkeypatch):
    """Records of one chain on three days; returns the records and the two days between."""
    start = timezone.now() - timezone.timedelta(days=10)
    days = [start + timezone.timedelta(days=n) for n in range(3)]
    records = []
    for day in days:
        for minute in range(3):
            moment = day + timezone.timedelta(minutes=minute)
            monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
            records.append(make_record(chain=4))
    monkeypatch.undo()
    return records, days[1], days[2]


def test_a_range_checks_only_the_records_in_it(three_periods):
    records, second_day, third_day = three_periods
    without_guard("UPDATE consent_consentrecord SET path = '/x' WHERE id = %s", [records[1].pk])

    output, passed = verify("--since", second_day.isoformat(), "--until", third_day.isoformat())
    assert passed, output
    assert f"3 records in {CHAINS} chains" in output

    output, passed = verify("--until", second_day.isoformat())
    assert not passed
    assert f"(record {records[1].pk}): changed" in output


def test_a_range_catches_the_record_missing_at_its_start(three_periods):
    records, second_day, third_day = three_periods
    without_guard("DELETE FROM consent_consentrecord WHERE id = %s", [records[3].pk])

    output, passed = verify("--since", second_day.isoformat(), "--until", third_day.isoformat())

    assert not passed
    assert f"chain {records[3].chain}, seq {records[3].seq}" in output
    assert "missing" in output


def test_a_range_catches_the_record_missing_at_its_end(three_periods):
    records, second_day, third_day = three_periods
    without_guard("DELETE FROM consent_consentrecord WHERE id = %s", [records[5].pk])

    output, passed = verify("--since", second_day.isoformat(), "--until", third_day.isoformat())

    assert not passed
    assert f"chain {records[5].chain}, seq {records[5].seq} (after the last record): missing" in (
        output
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last week"], "--since: Enter a date such as 2026-01-31"),
        (["--since", "2026-01-02", "--until", "2026-01-01"], "“Since” must be earlier"),
    ],
)
def test_bad_arguments_are_a_clear_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("verify_consents", *args, stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_find_the_same_as_one_process():
    from django.apps import apps

    from consent.seed import seed_registry
    from policy.models import PolicyVersion
    from policy.seed import publish_seed_policy

    seed_registry(apps)
    publish_seed_policy(PolicyVersion)
    for _ in range(40):
        make_record()
    _first, second, _third = three_records_in_one_chain()

    parallel = verify_log(processes=2)
    assert parallel.ok
    assert parallel.checked == 43
    assert parallel.chains == verify_log(processes=1).chains

    without_guard("UPDATE consent_consentrecord SET gpc = true WHERE id = %s", [second.pk])
    output, passed = verify("--processes", "2")
    assert not passed
    assert f"(record {second.pk}): changed" in output
    assert verify_log(processes=2).chains == verify_log(processes=1).chains


# The page


def test_the_verify_page_shows_a_form_then_the_summary(client):
    for _ in range(3):
        make_record()
    client.force_login(make_auditor())

    page = client.get("/audit/verify/")
    assert page.status_code == 200
    assert b'name="since"' in page.content
    assert b"Intact" not in page.content

    page = client.get("/audit/verify/", {"since": "", "until": ""})
    assert page.status_code == 200
    assert f"Intact: 3 records in {CHAINS} chains, every link verified." in page.content.decode()
    for head in ChainHead.objects.all():  # each chain's last hash, to keep outside the database
        assert head.hash in page.content.decode()


def test_the_verify_page_names_the_break(client):
    _first, second, _third = three_records_in_one_chain()
    without_guard("UPDATE consent_consentrecord SET language = 'fr' WHERE id = %s", [second.pk])
    client.force_login(make_auditor())

    page = client.get("/audit/verify/", {"since": "", "until": ""}).content.decode()

    assert "Broken: 1 chain does not verify." in page
    assert f"chain {second.chain}, seq {second.seq} (record {second.pk}): changed" in page


def test_the_verify_page_answers_bad_input_with_400(client):
    client.force_login(make_auditor())

    response = client.get("/audit/verify/", {"since": "2026-13-01"})

    assert response.status_code == 400
    assert "Enter a date such as 2026-01-31" in response.content.decode()


def test_the_verify_page_needs_its_permission(client):
    response = client.get("/audit/verify/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/audit/verify/"

    client.force_login(make_staff("consent.export_consentrecord"))
    assert client.get("/audit/verify/").status_code == 403

    client.force_login(make_staff("consent.verify_consentrecord", username="verifier"))
    assert client.get("/audit/verify/").status_code == 200
