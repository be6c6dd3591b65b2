"""Staff sign-in on every request: with STAFF_TWO_FACTOR_REQUIRED, no user without a TOTP code."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from common.middleware import HandOnMiddleware

from .conf import two_factor_required


def _verified(user: Any) -> Any:
    """Return the user, or an anonymous one when a required second factor is missing."""
    if two_factor_required() and user.is_authenticated and not user.is_verified():
        anonymous = AnonymousUser()
        anonymous.otp_device = None  # type: ignore[attr-defined]
        anonymous.is_verified = lambda: False  # type: ignore[attr-defined]
        return anonymous
    return user


class TwoFactorMiddleware(HandOnMiddleware):
    """With STAFF_TWO_FACTOR_REQUIRED, a session signed in without a TOTP code is anonymous.

    Put it right after django-otp's OTPMiddleware, which tells whether the session's sign-in was
    verified. The admin's login form asks for the code; this makes the rule hold everywhere a
    user is read, /audit/ included, and for sessions that began before the rule was switched on
    (a deploy does not sign anyone out). Like the middleware above it, it reads nothing until
    the view asks for the user.
    """

    def arrive(self, request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        if user is not None:
            request.user = SimpleLazyObject(lambda: _verified(user))  # type: ignore[assignment]
        auser = getattr(request, "auser", None)
        if auser is not None:

            async def verified_auser() -> Any:
                return _verified(await auser())

            request.auser = verified_auser
