from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .conf import two_factor_required

OTP_MIDDLEWARE = "django_otp.middleware.OTPMiddleware"
TWO_FACTOR_MIDDLEWARE = "staff.middleware.TwoFactorMiddleware"


@register()
def check_two_factor_middleware(**kwargs: Any) -> list[CheckMessage]:
    """The login form alone leaves /audit/ open to a session that skipped the code."""
    if not two_factor_required():
        return []
    middleware = list(settings.MIDDLEWARE)
    if (
        OTP_MIDDLEWARE not in middleware
        or TWO_FACTOR_MIDDLEWARE not in middleware
        or middleware.index(TWO_FACTOR_MIDDLEWARE) < middleware.index(OTP_MIDDLEWARE)
    ):
        return [
            Error(
                f"STAFF_TWO_FACTOR_REQUIRED needs {OTP_MIDDLEWARE} in MIDDLEWARE, followed by "
                f"{TWO_FACTOR_MIDDLEWARE}.",
                id="staff.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_two_factor_in_production(**kwargs: Any) -> list[CheckMessage]:
    if two_factor_required():
        return []
    return [
        Warning(
            "Staff sign in to the admin and /audit/ with a password alone.",
            hint="Set STAFF_TWO_FACTOR_REQUIRED = True, as iportalis.settings.production does.",
            id="staff.W001",
        )
    ]


@register()
def check_lockout(**kwargs: Any) -> list[CheckMessage]:
    """A lockout without an end locks staff out until someone runs axes_reset."""
    errors: list[CheckMessage] = []
    limit = getattr(settings, "AXES_FAILURE_LIMIT", None)
    if not isinstance(limit, int) or limit < 1:
        errors.append(Error("AXES_FAILURE_LIMIT must be a positive integer.", id="staff.E002"))
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    if not isinstance(cool_off, timedelta) or cool_off <= timedelta(0):
        errors.append(
            Error(
                "AXES_COOLOFF_TIME must be a positive timedelta (AXES_COOLOFF_MINUTES ≥ 1).",
                id="staff.E003",
            )
        )
    return errors
