from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from consent.log.integration import Integrator, integrate_all


class Command(BaseCommand):
    help = (
        "Add the consent records and policy publications not yet in the signed log to it. "
        "With --once, integrate what is pending and exit; without, keep integrating every "
        "second until stopped (one batch runs at a time across every process that does this)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Integrate the backlog and exit.")

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        if once:
            self.stdout.write(f"Integrated {integrate_all():,} entries.")
            return
        integrator = Integrator()
        signal.signal(signal.SIGTERM, lambda *_: integrator.stopping.set())
        integrator.start()
        try:
            while integrator.is_alive():
                integrator.join(1.0)
        except KeyboardInterrupt:
            integrator.stop()
