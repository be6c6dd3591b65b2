from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .models import PolicyVersion, PolicyVersionQuerySet
from .rendering import DiffLine, diff_hunks


@dataclass(frozen=True)
class DraftChanges:
    """What publishing a draft would do: its number, and its text against the published one."""

    draft: PolicyVersion
    published: PolicyVersion | None
    hunks: list[list[DiffLine]]

    @classmethod
    def of(cls, draft: PolicyVersion) -> DraftChanges:
        published = (
            PolicyVersion.objects.published()
            .filter(language=draft.language)
            .order_by("-number")
            .first()
        )
        old = published.text_lines() if published else []
        return cls(draft, published, diff_hunks(old, draft.text_lines()))

    @property
    def number(self) -> int:
        return (self.published.number or 0) + 1 if self.published else 1


class PolicyVersionChangeList(ChangeList):
    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except OverflowError as error:
            # Django answers a date hierarchy's impossible date (?effective_date__month=13) with
            # its "invalid filter" redirect, but lets one too large for a C long (a year of 20
            # digits) escape as a 500.
            raise IncorrectLookupParameters(error) from error


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin[PolicyVersion]):
    """Drafts are edited here; published versions are shown read-only and changed by cloning.

    Publishing always goes through a confirmation page that shows the draft against the
    published version it replaces, because a published version can never be taken back.
    """

    list_display = ["__str__", "language", "status", "material", "effective_date", "published_at"]
    list_filter = ["status", "language", "material"]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "effective_date"
    actions = ["publish", "clone_to_draft"]
    fields = [
        "language",
        "title",
        "effective_date",
        "material",
        "summary",
        "body",
        "preview",
        "number",
        "status",
        "published_at",
        "content_sha256",
    ]
    readonly_fields = ["preview", "number", "status", "published_at", "content_sha256"]

    def has_change_permission(self, request: HttpRequest, obj: PolicyVersion | None = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_change_permission(request, obj)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PolicyVersionChangeList

    def has_delete_permission(self, request: HttpRequest, obj: PolicyVersion | None = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("policy.publish_policyversion")

    def get_urls(self) -> list[URLPattern]:
        def view(function: Any) -> Any:
            return self.admin_site.admin_view(function)

        return [
            path("<int:pk>/preview/", view(self.preview_view), name="policy_policyversion_preview"),
            path("<int:pk>/changes/", view(self.changes_view), name="policy_policyversion_changes"),
            path("<int:pk>/publish/", view(self.publish_view), name="policy_policyversion_publish"),
            path(
                "<int:pk>/clone/",
                view(require_POST(self.clone_view)),
                name="policy_policyversion_clone",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = {**(extra_context or {}), "can_publish": self.has_publish_permission(request)}
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description=_("Preview"))
    def preview(self, obj: PolicyVersion) -> str:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}" target="_blank">{}</a>',
            obj.get_absolute_url(),
            _("Show as visitors see it"),
        )

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(PolicyVersion.objects.drafts(), pk=pk)
        return TemplateResponse(
            request, "policy/version_detail.html", {"version": version, "preview": True}
        )

    def changes_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Show a draft against the published version it would replace."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        draft = get_object_or_404(PolicyVersion.objects.drafts(), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Changes in %(draft)s") % {"draft": draft},
            "opts": self.opts,
            "original": draft,
            "changes": DraftChanges.of(draft),
            "can_publish": self.has_publish_permission(request),
        }
        return TemplateResponse(request, "policy/admin/draft_changes.html", context)

    def publish_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm publishing one draft (GET), then publish it (POST)."""
        if not self.has_publish_permission(request):
            raise PermissionDenied
        draft = get_object_or_404(PolicyVersion.objects.drafts(), pk=pk)
        if request.method == "POST":
            self._publish(request, [draft])
            return HttpResponseRedirect(reverse("admin:policy_policyversion_changelist"))
        return self._confirm_publishing(request, [draft], action=False)

    def clone_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        version = get_object_or_404(PolicyVersion, pk=pk)
        draft = self._clone(request, version)
        if draft is None:
            return HttpResponseRedirect(reverse("admin:policy_policyversion_change", args=[pk]))
        return HttpResponseRedirect(reverse("admin:policy_policyversion_change", args=[draft.pk]))

    @admin.action(description=_("Publish selected drafts…"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: PolicyVersionQuerySet) -> HttpResponse | None:
        if queryset.published().exists():
            self.message_user(
                request, _("Versions already published were left as they are."), messages.WARNING
            )
        drafts = list(queryset.drafts().order_by("pk"))
        if not drafts:
            return None
        if request.POST.get("post") == "yes":
            self._publish(request, drafts)
            return None
        return self._confirm_publishing(request, drafts, action=True)

    @admin.action(description=_("Clone into a new draft"), permissions=["add"])
    def clone_to_draft(self, request: HttpRequest, queryset: PolicyVersionQuerySet) -> None:
        for version in queryset.order_by("pk"):
            self._clone(request, version)

    def _confirm_publishing(
        self, request: HttpRequest, drafts: list[PolicyVersion], action: bool
    ) -> HttpResponse:
        title = ngettext("Publish this draft?", "Publish these %(count)d drafts?", len(drafts)) % {
            "count": len(drafts)
        }
        return TemplateResponse(
            request,
            "policy/admin/publish_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "opts": self.opts,
                "changes": [DraftChanges.of(draft) for draft in drafts],
                # Posted back to the changelist's action when it came from there.
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def _publish(self, request: HttpRequest, drafts: list[PolicyVersion]) -> None:
        published = 0
        for version in drafts:
            try:
                version.publish()
            except ValidationError as error:
                self.message_user(request, f"{version}: {error.messages[0]}", messages.ERROR)
            else:
                published += 1
                self.log_change(request, version, gettext("Published."))
        if published:
            message = ngettext(
                "Published %(count)d version.", "Published %(count)d versions.", published
            ) % {"count": published}
            self.message_user(request, message, messages.SUCCESS)

    def _clone(self, request: HttpRequest, version: PolicyVersion) -> PolicyVersion | None:
        try:
            draft = version.clone_to_draft()
        except ValidationError as error:
            self.message_user(request, f"{version}: {error.messages[0]}", messages.ERROR)
            return None
        self.log_addition(
            request, draft, gettext("Cloned from %(version)s.") % {"version": version}
        )
        url = reverse("admin:policy_policyversion_change", args=[draft.pk])
        self.message_user(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Cloned %s into a new draft:") % version,
                url,
                _("edit it"),
            ),
            messages.SUCCESS,
        )
        return draft
