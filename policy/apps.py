from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    name = "policy"
    verbose_name = _("Cookie policy")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
