"""The consent app's settings, each with its one default, read when used so override_settings
works."""

from __future__ import annotations

from typing import TypeVar, cast

from django.conf import settings
from django.core.signals import setting_changed

YEAR = 60 * 60 * 24 * 365
T = TypeVar("T")


class Settings:
    """The consent app's settings as properties, each with its default.

    A setting that is absent or None takes its default. Values are remembered until a setting
    changes (Django's setting_changed signal, which override_settings sends), since the
    middleware reads some on every request; consent.checks validates them.
    """

    def __init__(self) -> None:
        self._values: dict[str, object] = {}

    def setting(self, name: str, default: T) -> T:
        try:
            return cast(T, self._values[name])
        except KeyError:
            value = getattr(settings, name, None)
            self._values[name] = value = default if value is None else value
            return cast(T, value)

    def forget(self, **kwargs: object) -> None:
        self._values.clear()

    @property
    def CONSENT_COOKIE_NAME(self) -> str:
        return self.setting("CONSENT_COOKIE_NAME", "iportalis_consent")

    @property
    def CONSENT_MAX_AGE(self) -> int:
        """Seconds a decision (a refusal as much as a consent) is remembered before asking again."""
        return self.setting("CONSENT_MAX_AGE", YEAR)

    @property
    def CONSENT_LOG_SIGNING_KEY(self) -> str:
        """The log's Ed25519 signer key, as Go's sumdb/note writes one:
        `PRIVATE+KEY+<origin>+<key ID>+<key>` (`manage.py consent_log_key` makes one). Its name
        is the log's origin, the first line of every checkpoint."""
        return self.setting("CONSENT_LOG_SIGNING_KEY", "")

    @property
    def CONSENT_LOG_INTEGRATOR(self) -> bool:
        """Run the log's integrator in a thread of every app process (WSGI and ASGI). Turn it off
        to run `manage.py integrate_log` as a process of its own instead."""
        return self.setting("CONSENT_LOG_INTEGRATOR", True)

    @property
    def CONSENT_LOG_MAX_LAG(self) -> int:
        """Seconds the oldest record not yet in the log may wait before /readyz says the
        integrator lags (ops.readiness)."""
        return self.setting("CONSENT_LOG_MAX_LAG", 60)

    @property
    def CONSENT_IP_KEY(self) -> str:
        """Secret that keys the HMAC stored instead of a visitor's IP address."""
        return self.setting("CONSENT_IP_KEY", "") or settings.SECRET_KEY

    @property
    def CONSENT_DOWNGRADE_PERSISTENT(self) -> bool:
        """Turn a persistent cookie into a session cookie when only `session` is consented
        (True), or drop it (False)."""
        return self.setting("CONSENT_DOWNGRADE_PERSISTENT", True)

    @property
    def CONSENT_REFUSE_UNKNOWN_COOKIES(self) -> bool:
        """Refuse every cookie the registry does not know, whatever the visitor allowed (True),
        until an admin classifies it; or treat it as first-party (False), as before."""
        return self.setting("CONSENT_REFUSE_UNKNOWN_COOKIES", True)

    @property
    def CONSENT_MAX_BODY(self) -> int:
        """Largest JSON body, in bytes, the consent API reads."""
        return self.setting("CONSENT_MAX_BODY", 4096)

    @property
    def CONSENT_PARTITIONS_AHEAD(self) -> int:
        """Months after the current one whose partitions of the consent records are made ahead
        (`manage.py consent_partitions`, and `migrate`), so none is missing when it starts."""
        return self.setting("CONSENT_PARTITIONS_AHEAD", 3)

    @property
    def CONSENT_RATE_LIMIT(self) -> str:
        """Most records one client address may write per period: "count/period", as in "30/m",
        "500/h" or "100/5m" (units s, m, h, d).

        Decisions (the form and the API) and GPC signals are counted apart. A visitor decides once
        or twice; raise it if many visitors share one address (a large office behind NAT).
        """
        return self.setting("CONSENT_RATE_LIMIT", "30/m")


conf = Settings()
setting_changed.connect(conf.forget)
