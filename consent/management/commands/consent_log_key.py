from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.log.note import ED25519, NoteError, generate_signer


class Command(BaseCommand):
    help = (
        "Make a key pair for the consent log: the signing key (CONSENT_LOG_SIGNING_KEY, secret) "
        "and the verifier key to publish. The origin names the log in every checkpoint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        origin = "The log's name, a schema-less URL such as www.iportalis.com/consent-log."
        parser.add_argument("--origin", required=True, help=origin)

    def handle(self, *args: Any, origin: str, **options: Any) -> None:
        try:
            signer = generate_signer(origin, ED25519)
        except NoteError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"CONSENT_LOG_SIGNING_KEY={signer}")
        self.stdout.write(f"verifier key (public): {signer.verifier}")
