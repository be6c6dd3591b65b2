from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    default = True  # this module holds two configs; "staff" in INSTALLED_APPS means this one
    name = "staff"
    verbose_name = _("Staff sign-in")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)


class StaffAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with a site whose login asks for a TOTP code where one is required."""

    default = False
    default_site = "staff.sites.StaffAdminSite"
