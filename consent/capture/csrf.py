"""The site's CSRF_FAILURE_VIEW. It lives with the decisions, not in the project package, because
what it offers is theirs: JSON the consent API's scripts can read, and a decision's form to send
again with a fresh token."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from ..categories import OPTIONAL
from .forms import DecisionForm
from .views import api_error


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a script with JSON it can read; a browser gets our own page, which says what
    happened and, for a decision, offers to send the same choice again with a fresh token."""
    if request.path == reverse("consent:api"):
        return api_error(403, _("CSRF check failed: %(reason)s") % {"reason": reason})
    form = DecisionForm(request.POST) if request.path == reverse("consent:decide") else None
    decision = form.cleaned_data if form is not None and form.is_valid() else None
    back = (decision["next"] if decision else "") or reverse("home")
    context = {
        "decision": decision,
        "chosen": [slug for slug in OPTIONAL if decision and decision.get(slug)],
        "back": back,
        "no_cookie": reason == REASON_NO_CSRF_COOKIE,
    }
    return render(request, "consent/csrf_failure.html", context, status=403)
