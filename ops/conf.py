"""The ops app's settings, each with its one default, read when used so override_settings works.

They are read only by the probes and /metrics, never on an ordinary request, so nothing is
remembered between reads.
"""

from __future__ import annotations

from typing import TypeVar, cast

from django.conf import settings

T = TypeVar("T")

LOOPBACK = ["127.0.0.0/8", "::1"]


class Settings:
    """The ops app's settings as properties; one that is absent or None takes its default."""

    def setting(self, name: str, default: T) -> T:
        value = getattr(settings, name, None)
        return default if value is None else cast(T, value)

    @property
    def READINESS_TIMEOUT(self) -> float:
        """Seconds each readiness check may take before it counts as failed."""
        return self.setting("READINESS_TIMEOUT", 2.0)

    @property
    def METRICS_ALLOWED_NETWORKS(self) -> list[str]:
        """Networks (CIDR) whose clients may read /metrics without a token: loopback only."""
        return self.setting("METRICS_ALLOWED_NETWORKS", LOOPBACK)

    @property
    def METRICS_TOKEN(self) -> str:
        """A bearer token that opens /metrics from anywhere; empty: none does."""
        return self.setting("METRICS_TOKEN", "")


conf = Settings()
