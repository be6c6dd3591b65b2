from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable
from typing import NamedTuple

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase

from common.middleware import BothWaysMiddleware
from ops.metrics import MIDDLEWARE_SECONDS, UNKNOWN_COOKIES
from policy.models import PUBLISHED, Published

from ..capture.decisions import gpc_due, record_gpc
from ..capture.state import (
    MAX_COOKIE_LENGTH,
    Consent,
    ConsentState,
    get_state,
    gpc_requested,
    store,
)
from ..categories import all_refused
from ..conf import conf
from ..decorators import is_exempt
from . import rules as enforcement
from .registry import REGISTRY, Registry, Rules, get_registry
from .unknown import sightings


class _Arrival(NamedTuple):
    """What the request brought: the consent in effect and the cookies the browser sent."""

    state: ConsentState
    cookies: dict[str, str]
    refused: tuple[str, ...]
    unknown: tuple[str, ...]
    registry: Registry


class _Reading(NamedTuple):
    """What one consent cookie value means, while the registry, policy numbers and minute hold."""

    stamp: tuple[Registry, Published, int]
    state: ConsentState
    rules: Rules


# Readings are remembered per consent cookie value (and GPC signal), not per whole Cookie header:
# a header that changes on every page (a page counter) still hits, and a client sending many
# names or long headers grows nothing. Values longer than a consent cookie can be are not kept;
# past MAX_READINGS values, the least recently used goes.
MAX_READINGS = 4096
_readings: OrderedDict[tuple[str, bool], _Reading] = OrderedDict()
_readings_lock = threading.Lock()


def remembered_reading(key: tuple[str, bool]) -> _Reading | None:
    with _readings_lock:
        reading = _readings.get(key)
        if reading is not None:
            _readings.move_to_end(key)
        return reading


def remember_reading(key: tuple[str, bool], reading: _Reading) -> None:
    with _readings_lock:
        _readings[key] = reading
        _readings.move_to_end(key)
        if len(_readings) > MAX_READINGS:
            _readings.popitem(last=False)


def forget_readings(**kwargs: object) -> None:
    """Drop every remembered reading: connected to Django's setting_changed, since a reading
    depends on SECRET_KEY, CONSENT_MAX_AGE and the consent cookie's name."""
    with _readings_lock:
        _readings.clear()


class ConsentMiddleware(BothWaysMiddleware):
    """Make the visitor's choices true on every response.

    Before the view: record a Global Privacy Control signal the first time it arrives, and hide
    refused cookies from `request.COOKIES`; set `request.consent`, the consent in effect. After
    it: drop or downgrade every Set-Cookie the choices do not allow, expire refused cookies the
    browser still holds, and count cookie names the registry does not know.
    (consent.enforcement.csp.ConsentCSPMiddleware lets consented services' hosts into the policy
    header.)

    It must sit above every middleware that sets or reads cookies, so that on the way out it sees
    every cookie they set. Sync and async capable: both entry points share `_arrive` and `_leave`;
    neither queries the database, except to record a GPC signal once per visitor.
    """

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        arrived = time.perf_counter()
        arrival = self._arrive(request, request.COOKIES)
        gpc_consent = record_gpc(request) if gpc_due(request) else None
        if gpc_consent is not None:
            arrival = self._arrive(request, arrival.cookies, fresh=True)
        passed = time.perf_counter()
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)
        returned = time.perf_counter()
        self._leave(request, response, arrival, gpc_consent)
        if sightings.flush_due():
            sightings.flush()
        MIDDLEWARE_SECONDS.observe(passed - arrived + time.perf_counter() - returned)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        arrived = time.perf_counter()
        if REGISTRY.due(within=0.1) or PUBLISHED.due(within=0.1):
            # About twice a second: reloading may query the database, which needs a thread. The
            # margin keeps the snapshots fresh until _arrive below has read them.
            await sync_to_async(_refresh)()
        arrival = self._arrive(request, request.COOKIES)
        gpc_consent = None
        if gpc_due(request):
            gpc_consent = await sync_to_async(record_gpc)(request)
        if gpc_consent is not None:
            arrival = self._arrive(request, arrival.cookies, fresh=True)
        passed = time.perf_counter()
        response = self.get_response(request)
        assert not isinstance(response, HttpResponseBase)
        response = await response
        returned = time.perf_counter()
        self._leave(request, response, arrival, gpc_consent)
        if sightings.flush_due():
            await sync_to_async(sightings.flush)()
        MIDDLEWARE_SECONDS.observe(passed - arrived + time.perf_counter() - returned)
        return response

    @staticmethod
    def _arrive(request: HttpRequest, cookies: dict[str, str], *, fresh: bool = False) -> _Arrival:
        """Hide the cookies the consent in effect refuses from the view and what follows."""
        registry = get_registry()
        # A visitor sends the same consent cookie page after page: read it once per registry,
        # policy numbers and minute (its expiry), not once per request.
        key = (cookies.get(conf.CONSENT_COOKIE_NAME, ""), gpc_requested(request))
        stamp = (registry, PUBLISHED.get(), int(time.time()) // 60)
        reading = None if fresh else remembered_reading(key)
        if reading is None or reading.stamp != stamp:
            state = get_state(request)
            reading = _Reading(stamp, state, registry.rules(state.choices))
            if not fresh and len(key[0]) <= MAX_COOKIE_LENGTH:
                remember_reading(key, reading)
        request.consent = reading.state  # type: ignore[attr-defined]
        # The other names: an exact name is one dictionary look-up, a pattern's match remembered.
        refused, unknown = enforcement.sort_sent(cookies, reading.rules, registry)
        if refused:
            hidden = frozenset(refused)
            request.COOKIES = {n: v for n, v in cookies.items() if n not in hidden}
        return _Arrival(reading.state, cookies, tuple(refused), tuple(unknown), registry)

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
        if is_exempt(request):
            # An exempt view skips everything below, and in exchange may set necessary cookies only.
            enforcement.enforce_set_cookies(response, all_refused(), registry, downgrade=False)
            return
        # The view may have recorded a decision: from this response on, that is what counts.
        state = get_state(request)
        unknown = arrival.unknown
        if response.cookies or enforcement.RAW_HEADER in response.headers:
            set_names = enforcement.enforce_set_cookies(
                response, state.choices, registry, downgrade=conf.CONSENT_DOWNGRADE_PERSISTENT
            )
            unknown = (*unknown, *(name for name in set_names if not registry.knows(name)))
        expired = _to_expire(arrival, state, registry)
        if expired:
            enforcement.expire(response, expired, registry)
        if unknown:
            sightings.note(unknown, request.path)
            UNKNOWN_COOKIES.inc(len(unknown))
        _vary_on_cookie(response)


def _to_expire(arrival: _Arrival, state: ConsentState, registry: Registry) -> list[str]:
    if state is arrival.state:
        return list(arrival.refused)
    # A decision in this very request: expire what it refuses or withdraws.
    before = arrival.state.consent.choices if arrival.state.consent else arrival.state.choices
    return [
        *enforcement.refused(arrival.cookies, state.choices, registry),
        *enforcement.withdrawn_persistent(arrival.cookies, before, state.choices, registry),
    ]


def _vary_on_cookie(response: HttpResponseBase) -> None:
    """What a page shows (the banner, the switches) depends on the consent cookie.

    Written by hand rather than with patch_vary_headers, which costs a regex split and a join on
    every response.
    """
    vary = response.headers.get("Vary")
    if not vary:
        response.headers["Vary"] = "Cookie"
        return
    fields = vary.lower().replace(" ", "").split(",")
    if "cookie" not in fields and "*" not in fields:
        response.headers["Vary"] = f"{vary}, Cookie"


def _refresh() -> None:
    REGISTRY.refresh()
    PUBLISHED.refresh()
