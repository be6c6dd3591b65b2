from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def cookie_settings(request: HttpRequest) -> HttpResponse:
    # The consent banner, choices and records arrive with the consent-capture issue; until then
    # the page says plainly what the site sets.
    return render(request, "consent/settings.html")
