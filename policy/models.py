from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from common.snapshots import Snapshot

from .rendering import content_sha256, render_policy, text_lines


class FrozenVersionError(Exception):
    """A published version was about to be changed or deleted; clone it into a draft instead."""


class PolicyVersionQuerySet(models.QuerySet["PolicyVersion"]):
    def published(self) -> PolicyVersionQuerySet:
        return self.filter(status=PolicyVersion.Status.PUBLISHED)

    def drafts(self) -> PolicyVersionQuerySet:
        return self.filter(status=PolicyVersion.Status.DRAFT)


class PolicyVersion(models.Model):
    """One version of the cookie policy: an editable draft until published, then frozen.

    Freezing is enforced twice: `save()` and `delete()` refuse a version that was loaded as
    published, and a PostgreSQL trigger (migration 0002) refuses any UPDATE or DELETE of a
    published row, whatever path it comes by.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    number = models.PositiveIntegerField(
        _("number"), null=True, blank=True, editable=False, help_text=_("Given on publishing.")
    )
    title = models.CharField(_("title"), max_length=200, default="Cookie Policy")
    body = models.TextField(
        _("body"),
        help_text=_(
            "Markdown. A line reading [[cookie-table]] marks where the table of cookies in use "
            "is shown."
        ),
    )
    summary = models.TextField(
        _("summary of changes"), blank=True, help_text=_("What changed from the previous version.")
    )
    effective_date = models.DateField(_("effective date"), default=timezone.localdate)
    material = models.BooleanField(
        _("material change"),
        default=True,
        help_text=_("A material change asks every visitor for consent again."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    rendered_html = models.TextField(_("rendered content"), blank=True, editable=False)
    content_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("policy version")
        ordering = ["language", "status", "-number"]  # a language's draft, then newest first
        permissions = [("publish_policyversion", "Can publish policy versions")]
        constraints = [
            models.UniqueConstraint(
                fields=["language", "number"], name="policy_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["language"],
                condition=Q(status="draft"),
                name="policy_one_draft_per_language",
                violation_error_message=_("There is already a draft in this language."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(
                    number__isnull=False,
                    published_at__isnull=False,
                    content_sha256__regex=r"^[0-9a-f]{64}$",
                ),
                name="policy_published_is_complete",
            ),
        ]

    def __str__(self) -> str:
        if self.number is None:
            return f"{self.title} (draft, {self.language})"
        return f"{self.title} v{self.number} ({self.language})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_frozen()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        if not self.is_published:
            return reverse("admin:policy_policyversion_preview", args=[self.pk])
        return reverse("policy:version", kwargs={"number": self.number})

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_frozen()
        return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> PolicyVersion:
        instance = super().from_db(db, field_names, values)
        instance._loaded_published = instance.status == cls.Status.PUBLISHED
        return instance

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def validate_constraints(self, exclude: Any = None) -> None:
        # Forms never include status, yet the one-draft-per-language rule depends on it.
        super().validate_constraints(exclude=set(exclude or ()) - {"status"})

    def _refuse_if_frozen(self) -> None:
        if getattr(self, "_loaded_published", False):
            raise FrozenVersionError(f"{self} is published and cannot change; clone it instead.")

    def render(self) -> str:
        """Return the HTML visitors see: frozen if published, freshly rendered for a draft."""
        return self.rendered_html if self.is_published else render_policy(self.body)

    def text_lines(self) -> list[str]:
        return text_lines(self.render())

    def publish(self) -> None:
        """Freeze this draft as the next numbered version of its language."""
        with transaction.atomic():
            locked = PolicyVersion.objects.select_for_update().get(pk=self.pk)
            if locked.is_published:
                # Someone else published it first (two admins, one draft).
                raise ValidationError(_("This version is already published."))
            if not self.body.strip():
                raise ValidationError(_("An empty policy cannot be published."))
            latest = PolicyVersion.objects.published().filter(language=self.language)
            self.number = (latest.aggregate(n=Max("number"))["n"] or 0) + 1
            with translation.override(self.language):
                self.rendered_html = render_policy(self.body)
            self.content_sha256 = content_sha256(self.rendered_html)
            self.status = self.Status.PUBLISHED
            self.published_at = timezone.now()
            self.save()
            PUBLISHED.forget()
        self._loaded_published = True

    def clone_to_draft(self) -> PolicyVersion:
        """Return a new draft with this version's content, the way to change a published one."""
        draft = PolicyVersion(
            language=self.language, title=self.title, body=self.body, material=self.material
        )
        draft.validate_constraints()
        draft.save()
        return draft


class Published:
    """The published versions of every language, newest first: frozen, so safe to keep in memory.

    Policy pages and consent decisions read these instead of the database, so the policy keeps
    rendering while the database is away.
    """

    def __init__(self, versions: list[PolicyVersion]) -> None:
        self._by_language: dict[str, list[PolicyVersion]] = {}
        for version in sorted(versions, key=lambda v: -(v.number or 0)):
            self._by_language.setdefault(version.language, []).append(version)
        self.latest_material = {
            language: next((v.number for v in versions if v.material), None)
            for language, versions in self._by_language.items()
        }

    def in_language(self, language: str) -> list[PolicyVersion]:
        """Return the versions in the language, or in the default language if it has none."""
        return self._by_language.get(language) or self._by_language.get(settings.LANGUAGE_CODE, [])

    def current(self, language: str) -> PolicyVersion | None:
        return next(iter(self.in_language(language)), None)

    def version(self, language: str, number: int) -> PolicyVersion | None:
        """Return a version in the language, else in the default language (an older version may
        exist only in the language it was first published in)."""
        return self.version_in(language, number) or self.version_in(settings.LANGUAGE_CODE, number)

    def version_in(self, language: str, number: int) -> PolicyVersion | None:
        """Return the version published in exactly this language, if there is one."""
        return next((v for v in self._by_language.get(language, []) if v.number == number), None)

    def has_language(self, language: str) -> bool:
        return bool(self._by_language.get(language))

    def previous(self, version: PolicyVersion) -> PolicyVersion | None:
        versions = self._by_language.get(version.language, [])
        return next((v for v in versions if (v.number or 0) < (version.number or 0)), None)


def _load_published() -> Published:
    return Published(list(PolicyVersion.objects.published()))


# Every page asks whether the visitor's consent is older than the newest material change.
PUBLISHED = Snapshot("policy:published:version", _load_published)


def latest_material_number(language: str) -> int | None:
    """Return the newest material version number in a language (None before the first one)."""
    return PUBLISHED.get().latest_material.get(language)
