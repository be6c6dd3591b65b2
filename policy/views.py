from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from .models import PUBLISHED, PolicyVersion
from .rendering import diff_hunks

# The published versions come from memory (see Published): the policy renders without a database.


def _version(number: int) -> PolicyVersion:
    version = PUBLISHED.get().version(get_language(), number)
    if version is None:
        raise Http404("No such published version.")
    return version


def current(request: HttpRequest) -> HttpResponse:
    version = PUBLISHED.get().current(get_language())
    if version is None:
        raise Http404("No cookie policy has been published yet.")
    return render(request, "policy/version_detail.html", {"version": version, "is_current": True})


def version_list(request: HttpRequest) -> HttpResponse:
    versions = PUBLISHED.get().in_language(get_language())
    return render(request, "policy/version_list.html", {"versions": versions})


def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    return render(request, "policy/version_detail.html", {"version": _version(number)})


def version_changes(request: HttpRequest, number: int) -> HttpResponse:
    version = _version(number)
    previous = PUBLISHED.get().previous(version)
    hunks = diff_hunks(previous.text_lines(), version.text_lines()) if previous else []
    context = {"version": version, "previous": previous, "hunks": hunks}
    return render(request, "policy/version_changes.html", context)
