from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

from policy.models import LATEST_MATERIAL

from . import enforcement
from .categories import all_refused
from .conf import conf
from .decisions import gpc_due, record_gpc
from .registry import REGISTRY, Registry, get_registry
from .state import Consent, ConsentState, get_state, store
from .unknown import sightings

GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


@dataclass(frozen=True)
class _Arrival:
    """What the request brought: the consent in effect and the cookies the browser sent."""

    state: ConsentState
    cookies: dict[str, str]
    refused: tuple[str, ...]
    registry: Registry


class ConsentMiddleware:
    """Make the visitor's choices true on every response.

    Before the view: record a Global Privacy Control signal the first time it arrives, and hide
    refused cookies from `request.COOKIES`. After it: drop or downgrade every Set-Cookie the
    choices do not allow, expire refused cookies the browser still holds, let consented services'
    hosts into the Content-Security-Policy, and count cookie names the registry does not know.

    It must sit below CSPMiddleware (which writes the header from what this leaves on the
    response) and above every middleware that sets or reads cookies, so that on the way out it
    sees every cookie they set. Sync and async capable: both entry points share `_arrive` and
    `_leave`; neither queries the database, except to record a GPC signal once per visitor.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        arrival = self._arrive(request, request.COOKIES)
        gpc_consent = record_gpc(request) if gpc_due(request) else None
        if gpc_consent is not None:
            arrival = self._arrive(request, arrival.cookies)
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)
        self._leave(request, response, arrival, gpc_consent)
        if sightings.flush_due():
            sightings.flush()
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if REGISTRY.due() or LATEST_MATERIAL.due():
            # About once a second: reloading may query the database, which needs a thread.
            await sync_to_async(_refresh)()
        arrival = self._arrive(request, request.COOKIES)
        gpc_consent = None
        if gpc_due(request):
            gpc_consent = await sync_to_async(record_gpc)(request)
        if gpc_consent is not None:
            arrival = self._arrive(request, arrival.cookies)
        response = self.get_response(request)
        assert not isinstance(response, HttpResponseBase)
        response = await response
        self._leave(request, response, arrival, gpc_consent)
        if sightings.flush_due():
            await sync_to_async(sightings.flush)()
        return response

    @staticmethod
    def _arrive(request: HttpRequest, cookies: dict[str, str]) -> _Arrival:
        """Hide the cookies the consent in effect refuses from the view and what follows."""
        state = get_state(request)
        registry = get_registry()
        refused = enforcement.refused(cookies, state.choices, registry)
        if refused:
            request.COOKIES = {name: v for name, v in cookies.items() if name not in refused}
        return _Arrival(state, cookies, tuple(refused), registry)

    @staticmethod
    def _leave(
        request: HttpRequest,
        response: HttpResponseBase,
        arrival: _Arrival,
        gpc_consent: Consent | None,
    ) -> None:
        # A decision the view stored in this response is newer than the GPC record: it wins.
        if gpc_consent is not None and conf.CONSENT_COOKIE_NAME not in response.cookies:
            store(response, request, gpc_consent)
        registry = arrival.registry
        if _is_exempt(request):
            # An exempt view skips everything below, and in exchange may set necessary cookies only.
            enforcement.enforce_set_cookies(response, all_refused(), registry, downgrade=False)
            return
        # The view may have recorded a decision: from this response on, that is what counts.
        state = get_state(request)
        downgrade = conf.CONSENT_DOWNGRADE_PERSISTENT
        set_names = enforcement.enforce_set_cookies(
            response, state.choices, registry, downgrade=downgrade
        )
        enforcement.expire(response, _to_expire(arrival, state, registry), registry)
        hosts = enforcement.allowed_hosts(state.choices, registry)
        if hosts:
            directives = getattr(settings, "CONTENT_SECURITY_POLICY", {}).get("DIRECTIVES", {})
            enforcement.allow_hosts_in_csp(response, hosts, directives)
        unknown = [name for name in (*arrival.cookies, *set_names) if not registry.knows(name)]
        if unknown:
            sightings.note(unknown, request.path)
        # What a page shows (the banner, the switches) depends on the consent cookie.
        patch_vary_headers(response, ("Cookie",))


def _to_expire(arrival: _Arrival, state: ConsentState, registry: Registry) -> list[str]:
    if state is arrival.state:
        return list(arrival.refused)
    # A decision in this very request: expire what it refuses or withdraws.
    before = arrival.state.consent.choices if arrival.state.consent else arrival.state.choices
    return [
        *enforcement.refused(arrival.cookies, state.choices, registry),
        *enforcement.withdrawn_persistent(arrival.cookies, before, state.choices, registry),
    ]


def _refresh() -> None:
    REGISTRY.get()
    LATEST_MATERIAL.get()


def _is_exempt(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and getattr(match.func, "consent_exempt", False)
