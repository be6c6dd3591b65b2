"""The policy app's settings, each with its default, read when used so override_settings works."""

from __future__ import annotations

from django.conf import settings


class Settings:
    @property
    def POLICY_COOKIE_TABLE(self) -> str | None:
        """Dotted path to a callable returning the HTML of the table of cookies in use.

        The consent app's registry provides it; without one the policy shows a marked placeholder.
        """
        return getattr(settings, "POLICY_COOKIE_TABLE", None)


conf = Settings()
