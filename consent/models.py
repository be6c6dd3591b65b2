from __future__ import annotations

import uuid

from cookie_consent.models import Cookie as CatalogueCookie
from cookie_consent.models import CookieGroup
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from policy.models import PolicyVersion

from .categories import CATEGORIES, PARTIES, field_of
from .log.models import Cosignature, LogCheckpoint, LogLeaf, LogTile, Witness

__all__ = [
    "ConsentPurge",
    "ConsentRecord",
    "Cosignature",
    "LogCheckpoint",
    "LogLeaf",
    "LogTile",
    "RegisteredCookie",
    "Service",
    "UnknownCookie",
    "Witness",
]

SITE_PROVIDER = "iPortalis"


class Service(models.Model):
    """Something the site embeds (analytics, HubSpot, a chat): who runs it, where it loads from."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    provider = models.CharField(_("provider"), max_length=100)
    category = models.ForeignKey(
        CookieGroup,
        verbose_name=_("party category"),
        on_delete=models.PROTECT,
        limit_choices_to={"varname__in": PARTIES},
    )
    purpose = models.TextField(_("purpose"), blank=True)
    hosts = ArrayField(
        models.CharField(max_length=253),
        verbose_name=_("hosts"),
        default=list,
        blank=True,
        help_text=_("Hosts the service loads scripts, frames or images from, comma-separated."),
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RegisteredCookie(CatalogueCookie):
    """A cookie of django-cookie-consent's catalogue, plus what the policy and enforcement need.

    Its party is its cookie group (necessary, first-party or third-party). Its lifetime is not
    stored as a category: the enforcement reads it from each Set-Cookie, as the spec demands;
    `duration` is only what the policy declares. A name containing `*` is a pattern (`_ga_*`).
    """

    service = models.ForeignKey(
        Service,
        verbose_name=_("service"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cookies",
    )
    duration = models.CharField(
        _("declared duration"), max_length=50, help_text=_("As shown in the policy: “2 years”.")
    )

    class Meta:
        verbose_name = _("registered cookie")
        verbose_name_plural = _("registered cookies")


class ConsentRecord(models.Model):
    """One decision of one visitor: appended, never changed (PostgreSQL refuses UPDATE and DELETE).

    The integrator makes it an entry of the signed log (consent.log.integration, docs/integrity.md).
    """

    class Event(models.TextChoices):
        ACCEPT_ALL = "accept_all", _("Accept all")
        REJECT_ALL = "reject_all", _("Reject all")
        CUSTOM = "custom", _("Custom choice")
        WITHDRAW = "withdraw", _("Withdraw")
        GPC = "gpc", _("Global Privacy Control")
        RECONSENT = "reconsent", _("Re-consent")

    class Surface(models.TextChoices):
        BANNER = "banner", _("Banner")
        SETTINGS = "settings", _("Settings page")
        API = "api", _("API")
        GPC = "gpc", _("Global Privacy Control")

    id = models.BigAutoField(primary_key=True)
    consent_id = models.UUIDField(_("consent ID"), default=uuid.uuid4, db_index=True)
    created_at = models.DateTimeField(_("time (UTC)"), db_index=True)
    event = models.CharField(_("event"), max_length=20, choices=Event)
    surface = models.CharField(_("surface"), max_length=20, choices=Surface)
    necessary = models.BooleanField(_("necessary"), default=True)
    first_party = models.BooleanField(_("first-party"))
    third_party = models.BooleanField(_("third-party"))
    session = models.BooleanField(_("session"))
    persistent = models.BooleanField(_("persistent"))
    gpc = models.BooleanField(_("GPC signal"), help_text=_("The request carried Sec-GPC: 1."))
    policy_version = models.ForeignKey(
        PolicyVersion, verbose_name=_("policy version"), on_delete=models.PROTECT, related_name="+"
    )
    policy_sha256 = models.CharField(_("policy SHA-256"), max_length=64)
    language = models.CharField(_("language"), max_length=10)
    path = models.CharField(_("path"), max_length=500)
    ip_hmac = models.CharField(_("IP HMAC"), max_length=64)
    user_agent = models.CharField(_("user agent (shortened)"), max_length=200)

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        permissions = [
            ("export_consentrecord", "Can export consent records"),
            ("verify_consentrecord", "Can verify the consent log"),
            ("view_statistics", "Can view consent statistics"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(necessary=True), name="consent_necessary_on"),
        ]

    def __str__(self) -> str:
        return f"{self.consent_id} {self.event} {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def choices(self) -> dict[str, bool]:
        return {slug: getattr(self, field_of(slug)) for slug in CATEGORIES}


class UnknownCookie(models.Model):
    """A cookie name the middleware met that the registry does not know, until an admin
    classifies it. It counts as first-party meanwhile, so it is never let through without consent.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))
    count = models.BigIntegerField(_("times seen"), default=0)
    example_path = models.CharField(_("example path"), max_length=500, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("unknown cookie")
        verbose_name_plural = _("unknown cookies")

    def __str__(self) -> str:
        return self.name


class ConsentPurge(models.Model):
    """One retention purge: which records it removed, as an entry of the log itself.

    Its leaf commits to every record leaf whose record is gone (their count and a digest of
    their indexes), so verification tells a purge from a deletion (consent.audit.purge).
    Append-only.
    """

    before = models.DateTimeField(_("records created before"))
    purged_at = models.DateTimeField(_("purged at"))
    count = models.BigIntegerField(_("records removed"))
    highest_id = models.BigIntegerField(_("highest record ID purged so far"))
    tree_size = models.BigIntegerField(_("tree size when purged"))
    purged_total = models.BigIntegerField(_("records removed by every purge so far"))
    purged_sha256 = models.CharField(_("SHA-256 of every purged leaf index"), max_length=64)

    # Set on a purge just made: the monthly partitions it detached and dropped whole.
    dropped: tuple[str, ...] = ()

    class Meta:
        verbose_name = _("consent purge")
        verbose_name_plural = _("consent purges")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"purge of {self.count} records created before {self.before:%Y-%m-%d}"
