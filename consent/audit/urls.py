"""Pages for auditors under /audit/: exports, verification and statistics."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views as audit_views

app_name = "audit"

urlpatterns: list[URLPattern] = [
    path("statistics/", audit_views.statistics_view, name="statistics"),
    path("consents.csv", audit_views.export, {"fmt": "csv"}, name="export_csv"),
    path("consents.csv.proof.json", audit_views.export_proof, name="export_csv_proof"),
    path("consents.jsonl", audit_views.export, {"fmt": "jsonl"}, name="export_jsonl"),
    path("verify/", audit_views.verify, name="verify"),
]
