from __future__ import annotations

import io
from typing import Any

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Enrol an authenticator app for a staff member: print the otpauth:// URI and its QR "
        "code, to be scanned by that person only. Their sign-in asks for its codes from then on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The staff member's username.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Remove the authenticator the user has (a lost or new phone) and enrol another.",
        )
        parser.add_argument(
            "--no-qr", action="store_true", help="Print the URI only, without the QR code."
        )

    def handle(self, *args: Any, username: str, replace: bool, no_qr: bool, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user is named {username!r}.") from None
        if not (user.is_active and user.is_staff):
            raise CommandError(f"{username!r} is not an active staff member: only staff sign in.")
        with transaction.atomic():
            existing = TOTPDevice.objects.select_for_update().filter(user=user)
            if existing.exists() and not replace:
                raise CommandError(
                    f"{username!r} already has an authenticator. Run with --replace to remove "
                    "it and enrol another."
                )
            existing.delete()
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        uri = device.config_url
        self.stdout.write(
            f"Enrolled an authenticator for {username}. Show this to {username} only: anyone "
            "who sees it can make their codes."
        )
        if not no_qr:
            qr = qrcode.QRCode(border=2)
            qr.add_data(uri)
            picture = io.StringIO()
            qr.print_ascii(out=picture, invert=True)
            self.stdout.write(picture.getvalue())
        self.stdout.write(uri)
