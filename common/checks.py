"""Checks of the settings the client-address middleware reads: TRUSTED_PROXIES, and whether the
site says it runs behind a proxy without naming it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from .middleware import ANY_PEER, network_of


@register()
def check_trusted_proxies(**kwargs: Any) -> list[CheckMessage]:
    hint = (
        "TRUSTED_PROXIES lists the addresses or networks of the proxies in front of the app "
        "that append to X-Forwarded-For, as gunicorn's forwarded_allow_ips does: e.g. "
        "['10.0.0.0/8', '::1']; '*' only if nothing but the proxies can connect."
    )
    if hasattr(settings, "TRUSTED_PROXY_COUNT"):
        return [
            Error(
                "TRUSTED_PROXY_COUNT is no longer read: it believed X-Forwarded-For from any "
                "peer. Name the proxies in TRUSTED_PROXIES instead.",
                hint=hint,
                id="common.E001",
            )
        ]
    proxies = getattr(settings, "TRUSTED_PROXIES", [])
    if not isinstance(proxies, list | tuple) or not all(isinstance(p, str) for p in proxies):
        return [
            Error(
                f"TRUSTED_PROXIES must be a list of addresses or networks, not {proxies!r}.",
                hint=hint,
                id="common.E001",
            )
        ]
    errors: list[CheckMessage] = []
    for entry in proxies:
        if entry.strip() == ANY_PEER:
            continue
        try:
            network_of(entry)
        except ValueError:
            errors.append(
                Error(
                    f"TRUSTED_PROXIES holds {entry!r}, which is no address or network: it "
                    "trusts nothing.",
                    hint=hint,
                    id="common.E001",
                )
            )
    return errors


@register("security", deploy=True)
def check_behind_proxy(**kwargs: Any) -> list[CheckMessage]:
    if not getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return []
    if getattr(settings, "TRUSTED_PROXIES", None):
        return []
    return [
        Warning(
            "SECURE_PROXY_SSL_HEADER says the site runs behind a proxy, but TRUSTED_PROXIES is "
            "empty: every visitor has the proxy's address, so they all share one rate limit and "
            "one IP hash in the consent records.",
            hint="Set TRUSTED_PROXIES to the addresses or networks of the proxies that add "
            "X-Forwarded-For (usually what gunicorn's FORWARDED_ALLOW_IPS names).",
            id="common.W001",
        )
    ]
