"""The policy's table of cookies in use, as a visitor reads it: the `POLICY_COOKIE_TABLE` of this
site, rendered from the registry into a policy version when it is published."""

from __future__ import annotations

from django.template.loader import render_to_string

from ..enforcement.registry import load_registry


def cookie_table_html() -> str:
    """Return the policy's table of cookies in use, from the registry as it is right now."""
    return render_to_string("consent/_cookie_table.html", {"registry": load_registry()}).strip()
