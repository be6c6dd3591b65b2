"""Give the rest of the app the client's address when it runs behind trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"

GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


def forwarded_client(meta: Mapping[str, Any], trusted_proxies: int) -> str | None:
    """Return the client address that the nearest of `trusted_proxies` proxies reports in
    X-Forwarded-For, or None to keep REMOTE_ADDR.

    Each proxy appends the address it got the request from, so behind N proxies the header ends
    with N addresses they wrote, and the Nth from the right is the client's. Everything left of
    it came from the client, who can write anything there: it is never read. With no trusted
    proxy the header is ignored, and so is one too short or not ending in addresses (a request
    that bypassed a proxy, or a proxy set up differently from what N says).
    """
    if trusted_proxies <= 0:
        return None
    hops = str(meta.get(FORWARDED_FOR, "")).split(",")
    if len(hops) < trusted_proxies:
        return None
    try:
        return str(ipaddress.ip_address(hops[-trusted_proxies].strip()))
    except ValueError:
        return None


class ForwardedForMiddleware:
    """Set REMOTE_ADDR to the client's address behind TRUSTED_PROXY_COUNT proxies.

    Put it first in MIDDLEWARE: everything below then sees the client where it reads REMOTE_ADDR,
    among them the consent records' IP hash and the rate limit on writing them. With the default
    TRUSTED_PROXY_COUNT of 0 it changes nothing, which is right when clients connect directly:
    trusting X-Forwarded-For there would let any client choose its address, and so dodge the
    rate limit and forge the IP hash of its records.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        client = forwarded_client(request.META, getattr(settings, "TRUSTED_PROXY_COUNT", 0))
        if client is not None:
            request.META["REMOTE_ADDR"] = client
        # A coroutine from an async get_response is handed on to be awaited by the caller.
        return self.get_response(request)
