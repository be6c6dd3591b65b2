"""The staff app's one setting, read on every use so that `override_settings` applies."""

from __future__ import annotations

from django.conf import settings


def two_factor_required() -> bool:
    """Return whether every staff sign-in needs a TOTP code (production: yes; development: no)."""
    return bool(getattr(settings, "STAFF_TWO_FACTOR_REQUIRED", False))
