"""The probes and the metrics, answered by `ops.middleware.OpsMiddleware` before anything else.

None of them sets a cookie, reads a session or renders a template; none may be cached.
`metrics` answers None to a client that may not read it, and the site's own 404 follows.
"""

from __future__ import annotations

import functools
import hmac

from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from common.middleware import Network, ip_of, networks_of, within

from .conf import conf
from .metrics import exposition
from .readiness import readiness

BEARER = "Bearer "


def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is asked, not even the database."""
    return _no_store(HttpResponse("ok\n", content_type="text/plain; charset=utf-8"))


def readyz(request: HttpRequest) -> HttpResponse:
    """200 when every readiness check passes, else 503; the JSON says which failed."""
    ready, checks = readiness()
    response = JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)
    return _no_store(response)


def metrics(request: HttpRequest) -> HttpResponse | None:
    """Prometheus's text format, for an allowed address or the bearer token; else None."""
    if not may_read_metrics(request):
        return None
    return _no_store(HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST))


def may_read_metrics(request: HttpRequest) -> bool:
    """The client (REMOTE_ADDR, which ForwardedForMiddleware settled) is in an allowed network,
    or the request carries `Authorization: Bearer <METRICS_TOKEN>`."""
    token = conf.METRICS_TOKEN
    sent = request.META.get("HTTP_AUTHORIZATION", "")
    given = sent[len(BEARER) :].strip() if sent.startswith(BEARER) else ""
    if token and given and hmac.compare_digest(given.encode(), str(token).encode()):
        return True
    client = ip_of(str(request.META.get("REMOTE_ADDR", "")))
    networks = allowed_networks(tuple(str(entry) for entry in conf.METRICS_ALLOWED_NETWORKS))
    return within(client, networks)


@functools.lru_cache(maxsize=8)
def allowed_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Return the networks METRICS_ALLOWED_NETWORKS names; an entry naming none allows nobody
    (ops.E004 reports it)."""
    return networks_of(entries)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response
