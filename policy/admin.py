from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import PolicyVersion, PolicyVersionQuerySet


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin[PolicyVersion]):
    """Drafts are edited here; published versions are shown read-only and changed by cloning."""

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

    def has_delete_permission(self, request: HttpRequest, obj: PolicyVersion | None = None) -> bool:
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("policy.publish_policyversion")

    def get_urls(self) -> list[URLPattern]:
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("<int:pk>/preview/", preview, name="policy_policyversion_preview"),
            *super().get_urls(),
        ]

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
        return render(request, "policy/version_detail.html", {"version": version, "preview": True})

    @admin.action(description=_("Publish selected drafts"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: PolicyVersionQuerySet) -> None:
        already_published = queryset.published().count()
        published = 0
        for version in queryset.drafts().order_by("pk"):
            try:
                version.publish()
            except ValidationError as error:
                self.message_user(request, f"{version}: {error.messages[0]}", messages.ERROR)
            else:
                published += 1
        if published:
            message = ngettext(
                "Published %(count)d version.", "Published %(count)d versions.", published
            ) % {"count": published}
            self.message_user(request, message, messages.SUCCESS)
        if already_published:
            self.message_user(
                request, _("Versions already published were left as they are."), messages.WARNING
            )

    @admin.action(description=_("Clone into a new draft"), permissions=["add"])
    def clone_to_draft(self, request: HttpRequest, queryset: PolicyVersionQuerySet) -> None:
        for version in queryset.order_by("pk"):
            try:
                draft = version.clone_to_draft()
            except ValidationError as error:
                self.message_user(request, f"{version}: {error.messages[0]}", messages.ERROR)
                continue
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
