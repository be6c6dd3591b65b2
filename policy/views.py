from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language

from .models import PolicyVersion, PolicyVersionQuerySet
from .rendering import diff_hunks


def _published_versions() -> PolicyVersionQuerySet:
    return PolicyVersion.objects.published().in_language(get_language())


def current(request: HttpRequest) -> HttpResponse:
    version = PolicyVersion.objects.current(get_language())
    if version is None:
        raise Http404("No cookie policy has been published yet.")
    return render(request, "policy/version_detail.html", {"version": version, "is_current": True})


def version_list(request: HttpRequest) -> HttpResponse:
    versions = _published_versions().order_by("-number")
    return render(request, "policy/version_list.html", {"versions": versions})


def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    version = get_object_or_404(_published_versions(), number=number)
    return render(request, "policy/version_detail.html", {"version": version})


def version_changes(request: HttpRequest, number: int) -> HttpResponse:
    version = get_object_or_404(_published_versions(), number=number)
    previous = version.previous()
    hunks = diff_hunks(previous.text_lines(), version.text_lines()) if previous else []
    context = {"version": version, "previous": previous, "hunks": hunks}
    return render(request, "policy/version_changes.html", context)
