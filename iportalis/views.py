"""Site pages that are not part of an app: the demo of cookie enforcement."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

YEAR = 60 * 60 * 24 * 365
# What the demo page sets, as a real site's scripts and views would: (name, kind, lifetime).
DEMO_COOKIES = [
    ("_pk_id.1.d3m0", _("First-party analytics (Matomo)"), _("13 months")),
    ("django_language", _("Persistent preference"), _("1 year")),
    ("hubspotutk", _("Third-party tracking (HubSpot), simulated"), _("13 months")),
    (
        "demo_unregistered",
        _("A name the registry does not know: refused until an admin classifies it"),
        _("Session"),
    ),
]


@never_cache
def cookie_demo(request: HttpRequest) -> HttpResponse:
    """Set one cookie of each kind, so the enforcement shows in the browser's devtools."""
    response = render(
        request,
        "demo.html",
        {"demo_cookies": DEMO_COOKIES, "readable": sorted(request.COOKIES)},
    )
    response.set_cookie("_pk_id.1.d3m0", "5e3a0c2f1b7d4e68", max_age=YEAR * 13 // 12)
    response.set_cookie("django_language", translation.get_language(), max_age=YEAR)
    # Written by hand, as some libraries do: the middleware reads raw headers too.
    response["Set-Cookie"] = f"hubspotutk=8f14e45fceea167a; Max-Age={YEAR}; Path=/; SameSite=Lax"
    response.set_cookie("demo_unregistered", "1")
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """Send browsers that ask for /favicon.ico by habit (and the admin's pages) to our icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
