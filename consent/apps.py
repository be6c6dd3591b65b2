from cookie_consent.apps import CookieConsentConf
from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CookieCategoriesConfig(CookieConsentConf):
    """django-cookie-consent, named in the admin for the one model of it we show there."""

    default = False
    verbose_name = _("Cookie categories")


class ConsentConfig(AppConfig):
    default = True  # this module holds two configs; "consent" in INSTALLED_APPS means this one
    name = "consent"
    verbose_name = _("Cookie consent")

    def ready(self) -> None:
        from cookie_consent.models import Cookie, CookieGroup

        from . import checks, partitions, roles  # noqa: F401  (register the system checks)
        from .audit import replica  # noqa: F401  (its database check)
        from .enforcement.middleware import forget_readings
        from .enforcement.registry import forget_registry
        from .models import RegisteredCookie, Service

        setting_changed.connect(forget_readings, dispatch_uid="consent-readings")

        for model in (CookieGroup, Cookie, RegisteredCookie, Service):
            post_save.connect(
                forget_registry, sender=model, dispatch_uid=f"registry-{model.__name__}"
            )
            post_delete.connect(
                forget_registry, sender=model, dispatch_uid=f"registry-d-{model.__name__}"
            )
