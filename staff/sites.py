from __future__ import annotations

from typing import Any

from django.contrib import admin

from .conf import two_factor_required
from .forms import StaffAuthenticationForm, TwoFactorAuthenticationForm


class StaffAdminSite(admin.AdminSite):
    """The admin site. With STAFF_TWO_FACTOR_REQUIRED its login form also takes a TOTP code.

    Who may enter is unchanged: TwoFactorMiddleware has already made a session that skipped the
    code anonymous, here and under /audit/ alike. The form is chosen per request so that a
    setting changed at run time (override_settings) applies at once.
    """

    @property
    def login_form(self) -> Any:  # type: ignore[override]  # a class attribute in AdminSite
        return TwoFactorAuthenticationForm if two_factor_required() else StaffAuthenticationForm
