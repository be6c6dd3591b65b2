"""The ops app: probes and metrics (see the package's docstring); it registers its checks."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (register the system checks)
