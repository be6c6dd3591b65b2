"""The shared infrastructure as an app, so that its system checks register."""

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (register the system checks)
