"""Small hand-written factories: `make_…(**overrides)` returns a saved object."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission, User

from policy.models import PolicyVersion

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
