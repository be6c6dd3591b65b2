"""Small hand-written factories: `make_…(**overrides)` returns a saved object."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from consent.models import UnknownCookie
from policy.models import PUBLISHED, PolicyVersion

DRAFT_BODY = """Intro paragraph.

## What is a Cookie?

A cookie is a small piece of data.

[[cookie-table]]
"""


def make_draft(**overrides: Any) -> PolicyVersion:
    fields = {"language": "en", "title": "Cookie Policy", "body": DRAFT_BODY, "summary": ""}
    return PolicyVersion.objects.create(**{**fields, **overrides})


def make_published(**overrides: Any) -> PolicyVersion:
    version = make_draft(**overrides)
    version.publish()
    return version


def make_staff(*permissions: str, username: str = "staff") -> User:
    """Return a staff user holding exactly the given `app_label.codename` permissions."""
    user = User.objects.create_user(username, password="not-a-real-password", is_staff=True)
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def make_record(consent_id=None, event="accept_all", surface="banner", choices=None, **meta):
    """Append a consent record as a visitor's decision would, through the real write path."""
    import uuid

    from django.utils import translation

    from consent.categories import all_accepted
    from consent.log.records import append_record

    return append_record(
        consent_id=consent_id or uuid.uuid4(),
        event=event,
        surface=surface,
        choices=choices if choices is not None else all_accepted(),
        policy=PUBLISHED.get().current("en"),
        path=meta.pop("path", "/"),
        gpc=meta.pop("gpc", False),
        language=meta.pop("language", translation.get_language() or ""),
        ip=meta.pop("ip", "203.0.113.7"),
        user_agent=meta.pop("user_agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.8078.73"),
    )


def make_auditor(username: str = "auditor") -> User:
    """Return a staff user whose only permissions come from the Auditors group that migration
    consent.0005 made (live-server tests get it back through the `migrated_db` fixture)."""
    user = User.objects.create_user(username, password="not-a-real-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Auditors"))
    return user


def make_consent_cookie(
    *consented: str, policy_version: int | None = None, record: Any = None
) -> str:
    """Return a signed consent cookie value consenting to exactly these optional categories.

    Given a `record` (a ConsentRecord), the cookie names it, under its consent ID, as a
    decision's cookie does; without one it is a cookie from before cookies named their record.
    """
    import datetime
    import uuid

    from django.utils import timezone

    from consent.capture.state import Consent
    from consent.categories import normalise

    if policy_version is None:
        policy_version = PUBLISHED.get().current("en").number
    return Consent(
        consent_id=record.consent_id if record is not None else uuid.uuid4(),
        choices=normalise(dict.fromkeys(consented, True)),
        policy_version=policy_version,
        policy_language="en",
        given_at=timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=1),
        record_id=record.pk if record is not None else None,
    ).dumps()


def make_records(count: int, **fields: Any) -> list:
    """Insert `count` decisions in one statement, a second apart from now: a backlog for the
    log, faster than `make_record` (which takes the real write path, one at a time)."""
    from datetime import timedelta

    from django.utils import timezone

    from consent.models import ConsentRecord

    version = PUBLISHED.get().current("en")
    start = timezone.now()
    defaults = {
        "event": "accept_all",
        "surface": "banner",
        "first_party": True,
        "third_party": True,
        "session": True,
        "persistent": True,
        "gpc": False,
        "policy_version": version,
        "policy_sha256": version.content_sha256,
        "language": "en",
        "path": "/",
        "ip_hmac": "0" * 64,
        "user_agent": "test",
    }
    return ConsentRecord.objects.bulk_create(
        ConsentRecord(created_at=start + timedelta(seconds=n), **{**defaults, **fields})
        for n in range(count)
    )


def integrate_committed(timeout: float = 60) -> Any:
    """Integrate until every committed record is in the log; return the latest checkpoint.

    The integrator takes only records below the oldest transaction still open on the whole
    PostgreSQL server, in any database (consent.log.integration): another test run's open
    transaction, or a live server's, can hold committed records back for a moment.
    """
    import time

    from consent.log import store
    from consent.log.integration import integrate
    from consent.log.models import LogLeaf
    from consent.models import ConsentRecord

    deadline = time.monotonic() + timeout
    logged = LogLeaf.objects.filter(source="record").values("ref")
    while True:
        integrate()
        if not ConsentRecord.objects.exclude(pk__in=logged).exists():
            return store.latest()
        assert time.monotonic() < deadline, f"records still not in the log after {timeout} s"
        time.sleep(0.1)


def make_unknown(name="_fbp", **overrides):
    now = timezone.now()
    fields = {"first_seen": now, "last_seen": now, "count": 3, "example_path": "/pricing/"}
    return UnknownCookie.objects.create(name=name, **{**fields, **overrides})
