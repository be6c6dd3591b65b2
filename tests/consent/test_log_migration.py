"""Migration 0008 takes the records of the HMAC chains into the Merkle log."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from consent.categories import all_refused
from consent.log.models import LogLeaf
from consent.roles import as_owner
from policy.models import PolicyVersion
from tests.factories import integrate_committed, make_record

BEFORE = [("consent", "0007_auditors_view_checkpoints")]


@pytest.fixture
def at_0007():
    """Migrate the consent app back to before the log, and forward again whatever happens, as
    the owner migrates (before migration 0010, the runtime role has no grants)."""
    with as_owner():
        executor = MigrationExecutor(connection)
        executor.migrate(BEFORE)
        try:
            yield
        finally:
            executor = MigrationExecutor(connection)
            executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_records_written_before_the_log_go_in_first_in_id_order(at_0007):
    # A transaction test may start from an emptied database: then publish a policy as 0003 would.
    policy = PolicyVersion.objects.published().first() or PolicyVersion.objects.create(
        body="A policy.",
        status="published",
        number=1,
        published_at=timezone.now(),
        rendered_html="<p>A policy.</p>",
        content_sha256="0" * 64,
    )
    ids = []
    with connection.cursor() as cursor:
        for seq in range(1, 4):
            cursor.execute(
                """
                INSERT INTO consent_consentrecord (consent_id, created_at, event, surface,
                    necessary, first_party, third_party, session, persistent, gpc,
                    policy_version_id, policy_sha256, language, path, ip_hmac, user_agent,
                    chain, seq, prev_hash, hash)
                VALUES (%s, %s, 'accept_all', 'banner', true, true, true, true, true, false,
                    %s, %s, 'en', '/', %s, 'old', 0, %s, %s, %s)
                RETURNING id
                """,
                [uuid.uuid4(), timezone.now(), policy.pk, policy.content_sha256, "0" * 64, seq]
                + ["0" * 64] * 2,
            )
            ids.append(cursor.fetchone()[0])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    new = make_record(event="reject_all", choices=all_refused(), user_agent="new")
    integrate_committed()

    logged = list(
        LogLeaf.objects.filter(source="record").order_by("index").values_list("ref", flat=True)
    )
    assert logged == [*ids, new.pk]
    first_record = LogLeaf.objects.filter(source="record").order_by("index").first()
    publications = PolicyVersion.objects.published().count()
    assert first_record.index == publications  # the publications come first
