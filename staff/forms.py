from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm


class BoundedUsernameMixin(forms.Form):
    """Refuse a username longer than any user's before it is looked up.

    Django's AuthenticationForm only sets the field's `max_length` after the field is made, so
    no validator checks it; django-axes would then try to store the name of a failed sign-in
    in its 255-character column, and fail it with a 500.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        assert isinstance(field, forms.CharField) and field.max_length is not None
        field.validators.append(MaxLengthValidator(field.max_length))


class StaffAuthenticationForm(BoundedUsernameMixin, AdminAuthenticationForm):
    """The admin's login form (development: a password alone)."""


class TwoFactorAuthenticationForm(BoundedUsernameMixin, OTPAdminAuthenticationForm):  # type: ignore[misc]
    """The admin's login form with a TOTP code: password and code in one step.

    django-otp asks the user to pick a device once the password is right; a staff member
    normally has one (`manage.py enrol_totp` keeps it so), which is then taken without asking.
    """

    otp_device = forms.CharField(label=_("Authenticator"), required=False, widget=forms.Select)
    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "no_device": _(
            "This account has no authenticator app enrolled yet. Ask an administrator to enrol one."
        ),
    }

    def clean_otp(self, user: Any) -> None:
        if user is not None:
            devices = {device.persistent_id: device for device in devices_for_user(user)}
            if not devices:
                raise forms.ValidationError(self.otp_error_messages["no_device"], code="no_device")
            # Only the user's own devices are looked up: django-otp would load whatever model a
            # crafted `otp_device` names, and answer one that is not a device with a 500.
            if self.cleaned_data.get("otp_device") not in devices:
                self.cleaned_data["otp_device"] = next(iter(devices)) if len(devices) == 1 else ""
        super().clean_otp(user)

    @property
    def chooses_device(self) -> bool:
        """Return whether the user must say which of several devices the code is from."""
        user = self.get_user()
        return user is not None and len(self.fields["otp_device"].widget.choices) > 2
