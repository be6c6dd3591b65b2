"""The admin for the consent log: read-only for everyone, superusers included.

The database refuses to change records, and the admin does not pretend otherwise.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ..audit.export import streaming_response
from ..audit.figures import start_of
from ..log.integration import RECORD
from ..models import ConsentRecord, LogCheckpoint, LogLeaf


class ReadOnlyMixin:
    """For everyone, superusers included: the database refuses changes to these rows anyway."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Consent records ----------------------------------------------------------------------------


class DateRangeFilter(admin.FieldListFilter):
    """Typed-in first and last days (inclusive, UTC) for a log far too long to click through."""

    template = "consent/admin/date_range_filter.html"

    def __init__(
        self,
        field: Any,
        request: HttpRequest,
        params: dict[str, Any],
        model: Any,
        model_admin: Any,
        field_path: str,
    ) -> None:
        self.start_param, self.end_param = f"{field_path}__gte", f"{field_path}__lte"
        super().__init__(field, request, params, model, model_admin, field_path)

    def expected_parameters(self) -> list[str | None]:
        return [self.start_param, self.end_param]

    def value(self, param: str) -> str:
        values = self.used_parameters.get(param)
        return str(values[-1]) if isinstance(values, list) and values else ""

    def day(self, param: str) -> datetime.date | None:
        try:
            day: datetime.date | None = forms.DateField(required=False).clean(self.value(param))
        except ValidationError as error:
            # The changelist answers this with its "invalid filter" page instead of a 500.
            raise IncorrectLookupParameters(error) from error
        return day

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        start, end = self.day(self.start_param), self.day(self.end_param)
        if start is not None:
            queryset = queryset.filter(**{self.start_param: start_of(start)})
        if end is not None and end < datetime.date.max:  # up to the last day: no bound
            lt = f"{self.field_path}__lt"
            queryset = queryset.filter(**{lt: start_of(end + datetime.timedelta(days=1))})
        return queryset

    def choices(self, changelist: ChangeList) -> Any:
        own = [self.start_param, self.end_param]
        yield {
            "start_param": self.start_param,
            "end_param": self.end_param,
            "start": self.value(self.start_param),
            "end": self.value(self.end_param),
            "others": [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name not in own
                for value in values
            ],
            "clear": changelist.get_query_string(remove=own),
            "selected": bool(self.used_parameters),
        }


class EstimatedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Count an unfiltered log from PostgreSQL's statistics: COUNT(*) over millions is slow."""

    EXACT_BELOW = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            table = queryset.model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                row = cursor.fetchone()
            if row and row[0] >= self.EXACT_BELOW:
                return int(row[0])
        return int(super().count)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyMixin, admin.ModelAdmin[ConsentRecord]):
    """The consent log, read-only for everyone; searchable by exact consent ID or record ID."""

    list_display = [
        "time",
        "consent_id",
        "event",
        "surface",
        "necessary",
        "first_party",
        "third_party",
        "session",
        "persistent",
        "policy_version",
    ]
    list_select_related = ["policy_version"]
    list_filter = [
        ("created_at", DateRangeFilter),
        "event",
        "surface",
        "first_party",
        "third_party",
        "session",
        "persistent",
        "gpc",
        "policy_version",
    ]
    search_fields = ["consent_id"]
    search_help_text = _("An exact consent ID or record number.")
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    actions = ["export_csv", "export_jsonl"]
    change_list_template = "consent/admin/consentrecord_change_list.html"
    readonly_fields = ["exact_time", "leaf", "history"]
    fieldsets = [
        (None, {"fields": ["id", "consent_id", "exact_time", "event", "surface"]}),
        (
            _("Choices"),
            {"fields": ["necessary", "first_party", "third_party", "session", "persistent", "gpc"]},
        ),
        (_("Shown"), {"fields": ["policy_version", "policy_sha256", "language", "path"]}),
        (_("Visitor"), {"fields": ["ip_hmac", "user_agent"]}),
        (_("Log"), {"fields": ["leaf"]}),
        (_("History of this consent ID"), {"fields": ["history"]}),
    ]
    HISTORY_LIMIT = 200

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("consent.export_consentrecord")

    # Unambiguous times for auditors: ISO 8601 in UTC, whatever the admin's date format.
    @admin.display(description=_("time (UTC)"), ordering="created_at")
    def time(self, record: ConsentRecord) -> str:
        return record.created_at.isoformat(sep=" ", timespec="seconds")

    @admin.display(description=_("time (UTC)"))
    def exact_time(self, record: ConsentRecord) -> str:
        return record.created_at.isoformat(sep=" ")

    @admin.display(description=_("entry in the log"))
    def leaf(self, record: ConsentRecord) -> str:
        leaf = LogLeaf.objects.filter(source=RECORD, ref=record.pk).first()
        if leaf is None:
            return str(_("Not integrated yet: the integrator adds it within seconds."))
        return _("leaf index %(index)s, leaf hash %(hash)s") % {
            "index": leaf.index,
            "hash": bytes(leaf.hash).hex(),
        }

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ConsentRecord], search_term: str
    ) -> tuple[QuerySet[ConsentRecord], bool]:
        # Exact matches only, so that both use an index; a substring of a UUID column cannot.
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(consent_id=uuid.UUID(term)), False
        except ValueError:
            pass
        if term.isdigit() and int(term) < 2**63:
            return queryset.filter(pk=int(term)), False
        return queryset.none(), False

    @admin.display(description=_("records"))
    def history(self, record: ConsentRecord) -> str:
        records = (
            ConsentRecord.objects.filter(consent_id=record.consent_id)
            .select_related("policy_version")
            .order_by("created_at", "id")
        )
        shown = list(records[: self.HISTORY_LIMIT + 1])
        changelist = reverse("admin:consent_consentrecord_changelist")
        return render_to_string(
            "consent/admin/consent_history.html",
            {
                "records": shown[: self.HISTORY_LIMIT],
                "more": len(shown) > self.HISTORY_LIMIT,
                "current": record,
                "all_url": f"{changelist}?q={record.consent_id}",
            },
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {**(extra_context or {}), "audit_links": audit_links(request)}
        )

    @admin.action(
        description=_("Export selected as CSV, with its proof (ZIP)"), permissions=["export"]
    )
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[ConsentRecord]
    ) -> StreamingHttpResponse:
        return self._export(queryset, "csv")

    @admin.action(description=_("Export selected as JSON Lines"), permissions=["export"])
    def export_jsonl(
        self, request: HttpRequest, queryset: QuerySet[ConsentRecord]
    ) -> StreamingHttpResponse:
        return self._export(queryset, "jsonl")

    def _export(self, queryset: QuerySet[ConsentRecord], fmt: str) -> StreamingHttpResponse:
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response: StreamingHttpResponse = streaming_response(
            queryset, fmt, f"consent-records-{stamp}.{fmt}"
        )
        return response


@admin.register(LogCheckpoint)
class LogCheckpointAdmin(ReadOnlyMixin, admin.ModelAdmin[LogCheckpoint]):
    """The log's signed checkpoints, newest first; written by the integrator only."""

    list_display = ["size", "created_at"]
    fields = ["size", "created_at", "note"]
    ordering = ["-size"]
    show_full_result_count = False


def audit_links(request: HttpRequest) -> list[tuple[str, str]]:
    """Return the audit pages this user may open, as (label, URL)."""
    links = [
        ("consent.export_consentrecord", _("Export as CSV"), "audit:export_csv"),
        ("consent.export_consentrecord", _("Export as JSON Lines"), "audit:export_jsonl"),
        ("consent.verify_consentrecord", _("Verify the log"), "audit:verify"),
        ("consent.view_statistics", _("Statistics"), "audit:statistics"),
    ]
    return [
        (str(label), reverse(name)) for perm, label, name in links if request.user.has_perm(perm)
    ]
