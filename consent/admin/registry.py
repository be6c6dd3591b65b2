"""The admin for the cookie registry: categories, cookies, services, and unknown cookies.

Saving any of it makes every process reload the registry (signals in apps.py).
"""

from __future__ import annotations

import re
from typing import Any

from cookie_consent.models import Cookie, CookieGroup
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ..categories import CATEGORIES, FIRST_PARTY, NECESSARY, PARTIES, THIRD_PARTY
from ..enforcement.registry import check_registration, is_pattern
from ..models import RegisteredCookie, Service, UnknownCookie

# django-cookie-consent's own admins allow any category and cookies without our details.
admin.site.unregister(CookieGroup)
admin.site.unregister(Cookie)

# RFC 6265 token characters (which include `*`, used here for patterns).
COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
HOST_NAME = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def party_groups() -> QuerySet[CookieGroup]:
    groups: QuerySet[CookieGroup] = CookieGroup.objects.filter(varname__in=PARTIES)
    return groups.order_by("ordering")


# Categories ---------------------------------------------------------------------------------


class CategoryForm(forms.ModelForm[CookieGroup]):
    name = forms.CharField(label=_("name"), max_length=100)  # required, unlike the library's


@admin.register(CookieGroup)
class CategoryAdmin(admin.ModelAdmin[CookieGroup]):
    """The five categories: their names and descriptions are editable; slugs and existence are not.

    Forms, JSON, exports and the database all use the slugs, so none can be added, deleted or
    re-slugged here.
    """

    form = CategoryForm
    list_display = ["name", "varname", "is_required", "cookie_count"]
    fields = ["varname", "name", "description", "is_required"]
    readonly_fields = ["varname", "is_required"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CookieGroup]:
        return (
            super()
            .get_queryset(request)
            .filter(varname__in=CATEGORIES)
            .annotate(cookie_count=Count("cookie"))
            .order_by("ordering")
        )

    @admin.display(description=_("cookies"), ordering="cookie_count")
    def cookie_count(self, group: Any) -> int:
        return int(group.cookie_count)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CookieGroup | None = None) -> bool:
        return False


# Services and cookies -----------------------------------------------------------------------


class RegisteredCookieForm(forms.ModelForm[RegisteredCookie]):
    class Meta:
        model = RegisteredCookie
        fields = ["name", "cookiegroup", "service", "description", "duration", "path", "domain"]
        labels = {"cookiegroup": _("category"), "description": _("purpose")}
        help_texts = {
            "name": _("A name with * is a pattern: intercom-id-* matches intercom-id-abc."),
            "cookiegroup": _("Its party. Its lifetime is read from each Set-Cookie."),
        }

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        check_cookie_name(name)
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name, service, group = (
            cleaned.get("name"),
            cleaned.get("service"),
            cleaned.get("cookiegroup"),
        )
        if name is not None and group is not None:
            try:
                check_registration(name, group.varname, exclude=self.instance.pk)
            except ValidationError as error:
                self.add_error("name", error)
        # The cookie table and the CSP both assume a service's cookies share its party.
        if service is not None and group is not None and service.category_id != group.pk:
            self.add_error(
                "cookiegroup",
                _("%(service)s is %(category)s; its cookies must be too.")
                % {"service": service, "category": service.category},
            )
        return cleaned


def check_cookie_name(name: str) -> None:
    """Raise ValidationError for a name no Set-Cookie can carry (a `*` makes a pattern)."""
    if not COOKIE_NAME.match(name):
        raise ValidationError(_("Not a cookie name: use no spaces, quotes, commas or ;=."))


class NeedsDetailsFilter(admin.SimpleListFilter):
    """Cookies classified in one click have no purpose or duration until someone adds them."""

    title = _("details")
    parameter_name = "details"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("missing", _("Purpose or duration missing"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "missing":
            return queryset.filter(Q(description="") | Q(duration=""))
        return queryset


class PartyFieldMixin:
    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "cookiegroup":
            kwargs["queryset"] = party_groups()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


@admin.register(RegisteredCookie)
class RegisteredCookieAdmin(PartyFieldMixin, admin.ModelAdmin[RegisteredCookie]):
    form = RegisteredCookieForm
    list_display = ["name", "cookiegroup", "service", "duration", "path", "domain"]
    list_select_related = ["cookiegroup", "service"]
    list_filter = ["cookiegroup", "service", NeedsDetailsFilter]
    search_fields = ["name", "description", "service__name", "service__provider"]
    ordering = ["cookiegroup__ordering", "name"]


class RegisteredCookieInline(PartyFieldMixin, admin.TabularInline[RegisteredCookie, Service]):
    model = RegisteredCookie
    form = RegisteredCookieForm
    fields = ["name", "cookiegroup", "description", "duration", "path", "domain"]
    extra = 0


class ServiceForm(forms.ModelForm[Service]):
    def clean_hosts(self) -> list[str]:
        hosts = [host.strip().lower() for host in self.cleaned_data["hosts"]]
        # Hosts go into the Content-Security-Policy header as they are.
        bad = [host for host in hosts if not HOST_NAME.match(host)]
        if bad:
            raise ValidationError(
                _("Not a host name: %(hosts)s. Write js.example.com or *.example.com.")
                % {"hosts": ", ".join(bad)}
            )
        return hosts


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    form = ServiceForm
    list_display = ["name", "provider", "category", "host_list"]
    list_select_related = ["category"]
    list_filter = ["category"]
    search_fields = ["name", "provider", "purpose"]
    fields = ["name", "provider", "category", "purpose", "hosts"]
    inlines = [RegisteredCookieInline]

    @admin.display(description=_("hosts"))
    def host_list(self, service: Service) -> str:
        return ", ".join(service.hosts) or "—"


# Unknown cookies ----------------------------------------------------------------------------

CLASSIFY_CHOICES = {
    NECESSARY: _("Necessary"),
    FIRST_PARTY: _("First-party"),
    THIRD_PARTY: _("Third-party"),
}


def check_classifiable(names: list[str], slug: str) -> None:
    """Raise ValidationError naming every unknown name that may not be registered in one click."""
    problems = []
    for name in names:
        try:
            if is_pattern(name):
                raise ValidationError(
                    _("A name with * would be a pattern; register patterns by hand.")
                )
            check_cookie_name(name)
            if not Cookie.objects.filter(name=name).exists():
                check_registration(name, slug)
        except ValidationError as error:
            problems.append(
                gettext("Not classified: %(name)s. %(reason)s")
                % {"name": name, "reason": " ".join(error.messages)}
            )
    if problems:
        raise ValidationError(problems)


@admin.register(UnknownCookie)
class UnknownCookieAdmin(admin.ModelAdmin[UnknownCookie]):
    """Names the middleware met outside the registry, classified here in one click.

    Classifying registers the name in a category and removes it from this list, in one
    transaction; the new cookie then needs its purpose and duration filled in.
    """

    list_display = ["name", "count", "first_seen", "last_seen", "example_path"]
    search_fields = ["name", "example_path"]
    readonly_fields = ["name", "count", "first_seen", "last_seen", "example_path"]
    actions = ["classify_as_necessary", "classify_as_first_party", "classify_as_third_party"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_classify_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perms(
            ["consent.add_registeredcookie", "consent.delete_unknowncookie"]
        )

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        if self.has_classify_permission(request):
            return [*self.list_display, "classify_buttons"]
        return list(self.list_display)

    @admin.display(description=_("classify as"))
    def classify_buttons(self, unknown: UnknownCookie) -> SafeString:
        # The changelist sits inside the actions <form>, which carries the CSRF token; each
        # button sends that form to this row's classify URL instead. No JavaScript needed.
        url = reverse("admin:consent_unknowncookie_classify", args=[unknown.pk])
        return format_html_join(
            " ",
            '<button type="submit" class="button" formaction="{}" name="category" value="{}"'
            ' aria-label="{}">{}</button>',
            (
                (url, slug, f"{label}: {unknown.name}", label)
                for slug, label in CLASSIFY_CHOICES.items()
            ),
        )

    def get_urls(self) -> list[URLPattern]:
        classify = self.admin_site.admin_view(require_POST(self.classify_view))
        return [
            path("<int:pk>/classify/", classify, name="consent_unknowncookie_classify"),
            *super().get_urls(),
        ]

    def classify_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_classify_permission(request):
            raise PermissionDenied
        slug = request.POST.get("category", "")
        if slug not in CLASSIFY_CHOICES:
            return HttpResponseBadRequest(gettext("Unknown category."))
        try:
            created = self.classify(request, UnknownCookie.objects.filter(pk=pk), slug)
        except ValidationError as error:
            # The name is the visitor's: plain text, never HTML.
            return HttpResponseBadRequest(" ".join(error.messages), content_type="text/plain")
        if not created:
            return HttpResponseRedirect(reverse("admin:consent_unknowncookie_changelist"))
        return HttpResponseRedirect(
            reverse("admin:consent_registeredcookie_change", args=[created[0].pk])
        )

    def classify(
        self, request: HttpRequest, queryset: QuerySet[UnknownCookie], slug: str
    ) -> list[RegisteredCookie]:
        """Register each unknown name in the category and forget it as unknown, all or nothing.

        Raise ValidationError, and change nothing, when a name is one the registry's form would
        refuse: visitors choose these names, so one of them must not become a pattern (`*`
        would make every unregistered cookie necessary) or overlap another category.
        """
        group = CookieGroup.objects.get(varname=slug)
        created: list[RegisteredCookie] = []
        with transaction.atomic():
            unknowns = list(queryset.select_for_update().order_by("pk"))
            check_classifiable([u.name for u in unknowns], slug)
            for unknown in unknowns:
                if Cookie.objects.filter(name=unknown.name).exists():
                    self.message_user(
                        request,
                        gettext("Already in the registry: %(name)s.") % {"name": unknown.name},
                        messages.WARNING,
                    )
                    continue
                cookie = RegisteredCookie.objects.create(
                    name=unknown.name, cookiegroup=group, path="/", domain="", duration=""
                )
                self.log_addition(request, cookie, [{"added": {}}])
                created.append(cookie)
            classified = UnknownCookie.objects.filter(pk__in=[u.pk for u in unknowns])
            self.log_deletions(request, classified)
            classified.delete()
        if not unknowns:
            self.message_user(request, gettext("Already classified."), messages.WARNING)
        if created:
            self.message_user(
                request,
                gettext("Registered %(names)s as %(category)s. Fill in purpose and duration.")
                % {"names": ", ".join(c.name for c in created), "category": group.name},
                messages.SUCCESS,
            )
        return created

    def _classify_action(
        self, request: HttpRequest, queryset: QuerySet[UnknownCookie], slug: str
    ) -> HttpResponse | None:
        try:
            created = self.classify(request, queryset, slug)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        if not created:
            return None
        url = reverse("admin:consent_registeredcookie_changelist")
        return HttpResponseRedirect(f"{url}?{NeedsDetailsFilter.parameter_name}=missing")

    @admin.action(description=_("Classify as necessary"), permissions=["classify"])
    def classify_as_necessary(
        self, request: HttpRequest, queryset: QuerySet[UnknownCookie]
    ) -> HttpResponse | None:
        return self._classify_action(request, queryset, NECESSARY)

    @admin.action(description=_("Classify as first-party"), permissions=["classify"])
    def classify_as_first_party(
        self, request: HttpRequest, queryset: QuerySet[UnknownCookie]
    ) -> HttpResponse | None:
        return self._classify_action(request, queryset, FIRST_PARTY)

    @admin.action(description=_("Classify as third-party"), permissions=["classify"])
    def classify_as_third_party(
        self, request: HttpRequest, queryset: QuerySet[UnknownCookie]
    ) -> HttpResponse | None:
        return self._classify_action(request, queryset, THIRD_PARTY)
