from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language

from .models import PUBLISHED, PolicyVersion
from .rendering import diff_hunks

# The published versions come from memory (see Published): the policy renders without a database.

# A visitor picks a policy's language with ?lang=: it works without JavaScript and sets no
# cookie, which a visitor who refused first-party cookies could not keep anyway.
LANGUAGE_PARAMETER = "lang"

View = Callable[..., HttpResponse]


def follows_chosen_language(view: View) -> View:
    """Render the page in the language of ?lang= when it is one of ours (else as negotiated)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        chosen = request.GET.get(LANGUAGE_PARAMETER, "")
        if chosen in dict(settings.LANGUAGES):
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return view(request, *args, **kwargs)

    return wrapped


def _language_links(request: HttpRequest, number: int | None) -> list[dict[str, Any]]:
    """Return the languages the page exists in, each with its address and whether it is shown."""
    published = PUBLISHED.get()
    shown = get_language()
    links = []
    for code, _name in settings.LANGUAGES:
        if number is None:
            exists = published.has_language(code)
            path = reverse("policy:current")
        else:
            exists = published.version_in(code, number) is not None
            path = reverse("policy:version", kwargs={"number": number})
        if exists:
            links.append(
                {
                    "code": code,
                    "name": translation.get_language_info(code)["name_local"],
                    "url": f"{path}?{LANGUAGE_PARAMETER}={code}",
                    "current": code == shown,
                }
            )
    return links


# Languages whose names are written in lower case inside a sentence ("publiée en anglais").
LOWER_CASE_LANGUAGE_NAMES = {"fr"}


def _language_name(code: str) -> str:
    """Return a language's name in the active language, as it is written inside a sentence."""
    name = str(translation.get_language_info(code)["name_translated"])
    return name.lower() if get_language() in LOWER_CASE_LANGUAGE_NAMES else name


def _lang_query(request: HttpRequest) -> str:
    """Return the ?lang= a visitor chose, for the page's links to carry on, or ""."""
    chosen = request.GET.get(LANGUAGE_PARAMETER, "")
    return f"?{LANGUAGE_PARAMETER}={chosen}" if chosen in dict(settings.LANGUAGES) else ""


def _context(request: HttpRequest, version: PolicyVersion, **extra: Any) -> dict[str, Any]:
    return {
        "version": version,
        # The visitor's language has no such version: say so, and in which language it is shown.
        "other_language": version.language != get_language(),
        "version_language": _language_name(version.language),
        "lang_query": _lang_query(request),
        **extra,
    }


def _version(number: int) -> PolicyVersion:
    version = PUBLISHED.get().version(get_language(), number)
    if version is None:
        raise Http404("No such published version.")
    return version


@follows_chosen_language
def current(request: HttpRequest) -> HttpResponse:
    version = PUBLISHED.get().current(get_language())
    if version is None:
        raise Http404("No cookie policy has been published yet.")
    context = _context(
        request, version, is_current=True, languages=_language_links(request, number=None)
    )
    return render(request, "policy/version_detail.html", context)


@follows_chosen_language
def version_list(request: HttpRequest) -> HttpResponse:
    published = PUBLISHED.get()
    default = settings.LANGUAGE_CODE
    versions = published.in_language(get_language())
    # Versions published before the first translation exist only in the default language.
    numbers = {version.number for version in versions}
    earlier = [
        version for version in published.in_language(default) if version.number not in numbers
    ]
    context = {
        "versions": versions,
        "earlier": earlier,
        "earlier_language": _language_name(default),
        "earlier_url": f"{reverse('policy:versions')}?{LANGUAGE_PARAMETER}={default}",
        "lang_query": _lang_query(request),
    }
    return render(request, "policy/version_list.html", context)


@follows_chosen_language
def version_detail(request: HttpRequest, number: int) -> HttpResponse:
    version = _version(number)
    context = _context(request, version, languages=_language_links(request, number=number))
    return render(request, "policy/version_detail.html", context)


@follows_chosen_language
def version_changes(request: HttpRequest, number: int) -> HttpResponse:
    version = _version(number)
    published = PUBLISHED.get()
    previous = published.previous(version)
    hunks = diff_hunks(previous.text_lines(), version.text_lines()) if previous else []
    # A translation can be the first version in its language: the line by line comparison is in
    # the language the earlier versions were published in.
    compared_elsewhere = None
    if previous is None and version.language != settings.LANGUAGE_CODE:
        original = published.version_in(settings.LANGUAGE_CODE, number)
        if original is not None and published.previous(original) is not None:
            compared_elsewhere = reverse("policy:changes", kwargs={"number": number})
            compared_elsewhere += f"?{LANGUAGE_PARAMETER}={settings.LANGUAGE_CODE}"
    context = _context(
        request, version, previous=previous, hunks=hunks, compared_elsewhere=compared_elsewhere
    )
    return render(request, "policy/version_changes.html", context)
