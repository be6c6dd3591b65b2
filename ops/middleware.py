"""Answer the probes and /metrics before the host check, the HTTPS redirect and the site."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed

from common.middleware import BothWaysMiddleware

from . import views

PATHS: dict[str, Callable[[HttpRequest], HttpResponse | None]] = {
    "/healthz": views.healthz,
    "/readyz": views.readyz,
    "/metrics": views.metrics,
}


def answer(request: HttpRequest) -> HttpResponse | None:
    """Return the response to a probe or a scrape, or None to let the site answer."""
    view = PATHS.get(request.path_info)
    if view is None:
        return None
    if request.method not in ("GET", "HEAD"):
        if view is views.metrics and not views.may_read_metrics(request):
            return None  # to this client, /metrics stays a page the site does not have
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return view(request)


class OpsMiddleware(BothWaysMiddleware):
    """Answer `/healthz`, `/readyz` and `/metrics` itself.

    Load balancers and process managers probe with an address for a host and over plain HTTP,
    which AllowedHostMiddleware (400) and SecurityMiddleware's HTTPS redirect (301) would refuse,
    so it sits above both, below ForwardedForMiddleware, whose client address /metrics checks
    (ops.E001 to ops.E003 say so). Every other request passes through at the cost of one
    dictionary look-up.
    """

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if request.path_info not in PATHS:
            return self.get_response(request)
        if self.is_async:
            return self._acall(request)
        return answer(request) or self.get_response(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        response = await sync_to_async(answer)(request)
        if response is not None:
            return response
        later = self.get_response(request)
        assert not isinstance(later, HttpResponseBase)
        return await later
