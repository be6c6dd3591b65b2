"""Auditors' pages: the consent log as a download, a check of its integrity, and statistics."""

from __future__ import annotations

import base64

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..categories import OPTIONAL
from ..log import store
from ..log.models import LogCheckpoint
from . import charts, figures
from .export import proof_response, records, streaming_response
from .forms import ExportForm, ExportProofForm, StatisticsForm, VerifyForm, error_text
from .replica import read_database
from .verification import largest_kept, verify_log


@staff_member_required
@permission_required("consent.export_consentrecord", raise_exception=True)
@require_GET
def export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """Stream the records of a period (`since`, `until`), optionally of one `consent_id` or one
    `policy_version` number, as CSV or JSON Lines.
    """
    form = ExportForm(request.GET)
    if not form.is_valid():
        message = _("This export cannot be made:") + "\n" + error_text(form) + "\n"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    filename = f"consent-records-{timezone.now():%Y%m%dT%H%M%SZ}.{fmt}"
    proof_url = None
    if fmt == "csv":
        query = request.GET.copy()
        query.pop("size", None)
        proof_url = f"{reverse('audit:export_csv_proof')}?{query.urlencode()}".rstrip("?")
    queryset = records(**form.cleaned_data).using(read_database())
    return streaming_response(queryset, fmt, filename, proof_url)


@staff_member_required
@permission_required("consent.export_consentrecord", raise_exception=True)
@require_GET
def export_proof(request: HttpRequest) -> HttpResponseBase:
    """Stream the sidecar proof of a CSV export: the same filters, and the `size` of the
    checkpoint the CSV was made against (its `Link` header and file name give it; without
    one, the latest checkpoint)."""
    form = ExportProofForm(request.GET)
    if not form.is_valid():
        message = _("This proof cannot be made:") + "\n" + error_text(form) + "\n"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    size = form.cleaned_data.pop("size")
    using = read_database(covering=size or 0)
    if size is None:
        checkpoint = store.latest(using)
    else:
        checkpoint = LogCheckpoint.objects.using(using).filter(size=size).first()
    if size is not None and checkpoint is None:
        message = _("size: No checkpoint of the log has this size.") + "\n"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    filename = f"consent-records-size-{checkpoint.size if checkpoint else 0}.csv.proof.json"
    return proof_response(records(**form.cleaned_data).using(using), checkpoint, filename)


@never_cache
@staff_member_required
@permission_required("consent.verify_consentrecord", raise_exception=True)
@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """Verify the whole log, and its consistency with a checkpoint the auditor kept, and show
    what broke and where.

    Verifying is read-only, so the form is a GET; `?run=1` verifies without a checkpoint.
    """
    form = VerifyForm(request.GET or None)
    context = {
        **admin.site.each_context(request),
        "title": _("Verify the consent log"),
        "form": form,
    }
    if form.is_bound and not form.is_valid():
        return render(request, "consent/audit/verify.html", context, status=400)
    if form.is_bound:
        kept = [form.cleaned_data["checkpoint"]] if form.cleaned_data["checkpoint"] else []
        report = verify_log(kept, using=read_database(covering=largest_kept(kept)))
        context["report"] = report
        context["root"] = base64.b64encode(report.root).decode()
    return render(request, "consent/audit/verify.html", context)


@never_cache  # the figures of a day: no cache keeps them for the next reader
@staff_member_required
@permission_required("consent.view_statistics", raise_exception=True)
def statistics_view(request: HttpRequest) -> HttpResponse:
    form = StatisticsForm(request.GET or None, initial=StatisticsForm.defaults())
    context = {
        **admin.site.each_context(request),
        "title": _("Consent statistics"),
        "form": form,
    }
    if form.is_bound and not form.is_valid():
        return render(request, "consent/statistics.html", context, status=400)
    dates = form.cleaned_data if form.is_bound else StatisticsForm.defaults()
    start, end = dates["start"], dates["end"]
    kind = figures.period_kind(start, end)
    using = read_database()
    periods = figures.decisions(start, end, kind, using)
    rates = figures.opt_in_rates(start, end, using)
    context |= {
        "decisions_chart": charts.decisions_chart(periods, kind, start, end),
        "decisions_table": figures.decisions_table(periods, kind),
        "rates_chart": charts.rates_chart(rates),
        "rates_table": figures.rates_table(
            rates, [str(charts.CATEGORY_NAMES[s]) for s in OPTIONAL]
        ),
    }
    return render(request, "consent/statistics.html", context)
