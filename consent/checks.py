from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from .conf import conf

MIDDLEWARE = "consent.middleware.ConsentMiddleware"


@register()
def check_settings(**kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in ("CONSENT_MAX_AGE", "CONSENT_MAX_BODY"):
        value = getattr(settings, name, None)
        if value is not None and (not isinstance(value, int) or value <= 0):
            errors.append(Error(f"{name} must be a positive integer.", id="consent.E001"))
    name = getattr(settings, "CONSENT_COOKIE_NAME", conf.CONSENT_COOKIE_NAME)
    if not isinstance(name, str) or not name:
        errors.append(Error("CONSENT_COOKIE_NAME must be a non-empty string.", id="consent.E002"))
    if MIDDLEWARE not in settings.MIDDLEWARE:
        errors.append(
            Warning(
                f"{MIDDLEWARE} is not in MIDDLEWARE: Global Privacy Control signals go unrecorded.",
                id="consent.W001",
            )
        )
    return errors


@register("security", deploy=True)
def check_integrity_key(**kwargs: Any) -> list[CheckMessage]:
    if getattr(settings, "CONSENT_INTEGRITY_KEY", None):
        return []
    return [
        Warning(
            "CONSENT_INTEGRITY_KEY is not set, so the consent log's hash chains are keyed with "
            "SECRET_KEY: rotating it would make every existing record fail verification.",
            id="consent.W002",
        )
    ]
