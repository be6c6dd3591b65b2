"""The Content-Security-Policy of each page, widened for the services the visitor consented to.

django-csp builds the header; this subclass of its middleware adds, through the documented
`get_policy_parts`, the hosts of the registry's services whose party the consent in effect
allows. It reads that consent from `request.consent`, which ConsentMiddleware sets on the way in
and a decision in the view replaces, so the two middlewares may come in either order.
"""

from __future__ import annotations

from functools import lru_cache

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from ..capture.state import get_state
from ..decorators import is_exempt
from .registry import get_registry

# Only a document loads other hosts' scripts and frames: JSON, redirects and files keep the strict
# policy.
DOCUMENT_TYPES = ("text/html", "application/xhtml+xml")
# Fetch directives that would otherwise keep a consented service's hosts out.
FETCH_DIRECTIVES = (
    "default-src",
    "script-src",
    "script-src-elem",
    "connect-src",
    "img-src",
    "frame-src",
    "style-src",
    "style-src-elem",
    "font-src",
)


class ConsentCSPMiddleware(CSPMiddleware):
    """django-csp's CSPMiddleware, letting in the hosts of the services the visitor consented to.

    Use it in MIDDLEWARE in place of `csp.middleware.CSPMiddleware`. A view's own `@csp_update`,
    `@csp_replace` and `@csp_exempt` keep working: the hosts join what the view asked for.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        name = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        policy = getattr(settings, name, None)
        if not policy and parts.config is None:
            return parts  # django-csp sends no header of this kind: nothing to widen
        hosts = consented_hosts(request, response)
        if hosts:
            configured = tuple((policy or {}).get("DIRECTIVES", {}))
            parts.update = with_hosts(parts.update, hosts, configured)
        return parts


def consented_hosts(request: HttpRequest, response: HttpResponseBase) -> tuple[str, ...]:
    """Return the hosts a document may load from under the consent in effect."""
    if is_exempt(request) or not response.get("Content-Type", "").startswith(DOCUMENT_TYPES):
        return ()
    return get_registry().rules(get_state(request).choices).hosts


def with_hosts(
    update: dict[str, object] | None, hosts: tuple[str, ...], configured: tuple[str, ...]
) -> dict[str, object]:
    """Return django-csp's `update` with the hosts added to every fetch directive the policy sets
    (and default-src), so that none of them shuts the hosts out."""
    added = _added(hosts, configured)
    if not update:
        return added
    merged = dict(update)
    for directive, extra in added.items():
        current = merged.get(directive) or []
        current = [current] if isinstance(current, str) else list(current)  # type: ignore[call-overload]
        merged[directive] = [*current, *extra]  # type: ignore[misc]
    return merged


@lru_cache(maxsize=256)
def _added(hosts: tuple[str, ...], configured: tuple[str, ...]) -> dict[str, object]:
    # One dictionary per combination of hosts and policy, never changed: django-csp copies it.
    directives = ("default-src", *(d for d in configured if d in FETCH_DIRECTIVES[1:]))
    return {directive: list(hosts) for directive in directives}
