from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS

from common.databases import REPLICA

from .conf import conf
from .partitions import MAX_AHEAD, valid_ahead
from .ratelimit import RATE

MIDDLEWARE = "consent.enforcement.middleware.ConsentMiddleware"
# On the way out the middleware must see the response after these have set their cookies, and on
# the way in hide refused cookies before they read any (LocaleMiddleware reads django_language).
MUST_PRECEDE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)
# django-csp's own middleware, which knows nothing of consent, and ours, which subclasses it.
PLAIN_CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"
CSP_MIDDLEWARE = "consent.enforcement.csp.ConsentCSPMiddleware"
# Gives the records' IP hash and the rate limit the client's address behind trusted proxies.
FORWARDED_FOR_MIDDLEWARE = "common.middleware.ForwardedForMiddleware"


@register()
def check_settings(**kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, number in (
        ("CONSENT_MAX_AGE", conf.CONSENT_MAX_AGE),
        ("CONSENT_MAX_BODY", conf.CONSENT_MAX_BODY),
        ("CONSENT_LOG_MAX_LAG", conf.CONSENT_LOG_MAX_LAG),
    ):
        if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
            errors.append(Error(f"{name} must be a positive integer.", id="consent.E001"))
    name = conf.CONSENT_COOKIE_NAME
    if not isinstance(name, str) or not name:
        errors.append(Error("CONSENT_COOKIE_NAME must be a non-empty string.", id="consent.E002"))
    if not isinstance(conf.CONSENT_DOWNGRADE_PERSISTENT, bool):
        errors.append(
            Error("CONSENT_DOWNGRADE_PERSISTENT must be True or False.", id="consent.E003")
        )
    if not isinstance(conf.CONSENT_REFUSE_UNKNOWN_COOKIES, bool):
        errors.append(
            Error("CONSENT_REFUSE_UNKNOWN_COOKIES must be True or False.", id="consent.E006")
        )
    if not valid_ahead(conf.CONSENT_PARTITIONS_AHEAD):
        errors.append(
            Error(
                f"CONSENT_PARTITIONS_AHEAD must be a whole number of months from 1 to {MAX_AHEAD}, "
                f"not {conf.CONSENT_PARTITIONS_AHEAD!r}.",
                hint="How many months after the current one get their partition of the consent "
                "records ahead (docs/operations.md, 'Partitions').",
                id="consent.E010",
            )
        )
    rate = conf.CONSENT_RATE_LIMIT
    if not isinstance(rate, str) or not RATE.fullmatch(rate):
        errors.append(
            Error(
                f"CONSENT_RATE_LIMIT must be a rate such as 30/m or 100/5m, not {rate!r}.",
                hint="A count, a slash, and s, m, h or d, optionally after a number of them.",
                id="consent.E004",
            )
        )
    return errors


@register(Tags.security)  # without it, or out of order, cookies go out that nobody allowed
def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE not in middleware:
        return [
            Warning(
                f"{MIDDLEWARE} is not in MIDDLEWARE: no cookie is held to the visitor's choices.",
                id="consent.W001",
            )
        ]
    position = middleware.index(MIDDLEWARE)
    warnings: list[CheckMessage] = []
    for other in middleware[:position]:
        if other in MUST_PRECEDE:
            warnings.append(
                Warning(
                    f"{MIDDLEWARE} must come before {other} in MIDDLEWARE.",
                    hint="Otherwise cookies it sets or reads escape the visitor's choices.",
                    id="consent.W003",
                )
            )
    if PLAIN_CSP_MIDDLEWARE in middleware:
        warnings.append(
            Warning(
                f"{PLAIN_CSP_MIDDLEWARE} is in MIDDLEWARE: consented services' hosts never reach "
                "the Content-Security-Policy, so their scripts are blocked whatever the visitor "
                "chose.",
                hint=f"Use {CSP_MIDDLEWARE}, its subclass, in its place.",
                id="consent.W006",
            )
        )
    return warnings


@register()
def check_forwarded_for(**kwargs: Any) -> list[CheckMessage]:
    if not getattr(settings, "TRUSTED_PROXIES", None):
        return []
    middleware = list(settings.MIDDLEWARE)
    if FORWARDED_FOR_MIDDLEWARE in middleware and (
        MIDDLEWARE not in middleware
        or middleware.index(FORWARDED_FOR_MIDDLEWARE) < middleware.index(MIDDLEWARE)
    ):
        return []
    return [
        Warning(
            f"TRUSTED_PROXIES is set, but {FORWARDED_FOR_MIDDLEWARE} is not in MIDDLEWARE "
            f"above {MIDDLEWARE}.",
            hint="Otherwise records and the rate limit see the proxy's address, not the client's.",
            id="consent.W004",
        )
    ]


@register("security")
def check_log_signing_key(**kwargs: Any) -> list[CheckMessage]:
    """The log cannot sign a checkpoint without its key (production refuses to start anyway)."""
    from .log.note import NoteError, parse_signer

    try:
        signer = parse_signer(conf.CONSENT_LOG_SIGNING_KEY)
    except NoteError as error:
        return [
            Error(
                f"CONSENT_LOG_SIGNING_KEY is not a usable signing key: {error}.",
                hint="Make one with `manage.py consent_log_key --origin <your site>/consent-log`.",
                id="consent.E007",
            )
        ]
    if signer.key_type != 0x01:
        return [Error("CONSENT_LOG_SIGNING_KEY must be an Ed25519 note key.", id="consent.E007")]
    return []


@register()
def check_replica_url(**kwargs: Any) -> list[CheckMessage]:
    """A read replica that is the primary itself would only add load where it was meant to
    take it away (consent.audit.replica)."""
    databases = settings.DATABASES
    if REPLICA not in databases:
        return []
    replica, primary = databases[REPLICA], databases[DEFAULT_DB_ALIAS]
    if any(replica.get(key) != primary.get(key) for key in ("HOST", "PORT", "NAME")):
        return []
    return [
        Error(
            "DATABASE_REPLICA_URL names the same host, port and database as DATABASE_URL: it "
            "must be a standby of the primary, not the primary.",
            hint="Name the standby's host and port in DATABASE_REPLICA_URL, or unset it.",
            id="consent.E008",
        )
    ]
