"""System checks: OpsMiddleware where probes reach it, and settings it can use."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from common.middleware import network_of

from .conf import conf

MIDDLEWARE = "ops.middleware.OpsMiddleware"
# What would refuse a probe that names an address for its host (400) or comes over plain HTTP
# (the HTTPS redirect's 301).
MUST_FOLLOW = (
    "django.middleware.security.SecurityMiddleware",
    "common.middleware.AllowedHostMiddleware",
)
FORWARDED_FOR_MIDDLEWARE = "common.middleware.ForwardedForMiddleware"


@register()
def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE not in middleware:
        return [
            Error(
                f"{MIDDLEWARE} is not in MIDDLEWARE: /healthz, /readyz and /metrics are not "
                "answered.",
                hint=f"Put it right after {FORWARDED_FOR_MIDDLEWARE}.",
                id="ops.E001",
            )
        ]
    position = middleware.index(MIDDLEWARE)
    errors: list[CheckMessage] = [
        Error(
            f"{MIDDLEWARE} must come before {other} in MIDDLEWARE.",
            hint="Otherwise load balancers probing by address or over HTTP are refused.",
            id="ops.E002",
        )
        for other in middleware[:position]
        if other in MUST_FOLLOW
    ]
    if FORWARDED_FOR_MIDDLEWARE in middleware[position:]:
        errors.append(
            Error(
                f"{MIDDLEWARE} must come after {FORWARDED_FOR_MIDDLEWARE} in MIDDLEWARE.",
                hint="Otherwise /metrics checks the proxy's address, not the client's.",
                id="ops.E003",
            )
        )
    return errors


@register()
def check_settings(**kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    networks = conf.METRICS_ALLOWED_NETWORKS
    if not isinstance(networks, list | tuple) or not all(isinstance(n, str) for n in networks):
        errors.append(
            Error(
                f"METRICS_ALLOWED_NETWORKS must be a list of networks, not {networks!r}.",
                hint="For example ['127.0.0.0/8', '::1', '10.0.0.0/8'].",
                id="ops.E004",
            )
        )
    else:
        for entry in networks:
            try:
                network_of(entry)
            except ValueError:
                errors.append(
                    Error(
                        f"METRICS_ALLOWED_NETWORKS holds {entry!r}, which is no address or "
                        "network: it allows nobody.",
                        id="ops.E004",
                    )
                )
    timeout = conf.READINESS_TIMEOUT
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        errors.append(
            Error(
                f"READINESS_TIMEOUT must be a positive number of seconds, not {timeout!r}.",
                id="ops.E005",
            )
        )
    if not isinstance(conf.METRICS_TOKEN, str):
        errors.append(Error("METRICS_TOKEN must be a string.", id="ops.E006"))
    return errors
