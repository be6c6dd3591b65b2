"""How django-axes counts failed sign-ins, and what a locked-out one is answered."""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


def client_address(request: HttpRequest) -> str | None:
    """Return the client's address as the lockout counts it: IPv6 per /64, the block one
    subscriber gets (else each of its addresses would have a fresh count), and IPv4-mapped
    IPv6 as the IPv4 address it is.

    REMOTE_ADDR is the client's once ForwardedForMiddleware has read the trusted proxies.
    """
    try:
        ip = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network((ip, 64), strict=False).network_address)
    return str(ip)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """Answer a locked-out sign-in: 429, with the wait in Retry-After and on the page."""
    cool_off = get_cool_off(request) or timedelta(0)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    context = {**admin.site.each_context(request), "title": _("Too many failed sign-ins")}
    response = render(request, "admin/lockout.html", {**context, "minutes": minutes}, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    add_never_cache_headers(response)
    return response


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    """django-axes's database handler, given only what PostgreSQL stores: a NUL in a header a
    client sent (User-Agent, Accept) would otherwise fail the sign-in with a 500."""

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        for name in ("axes_user_agent", "axes_http_accept", "axes_path_info"):
            value = getattr(request, name, None)
            if isinstance(value, str) and "\x00" in value:
                setattr(request, name, value.replace("\x00", "\ufffd"))
        super().user_login_failed(sender, credentials, request, **kwargs)
