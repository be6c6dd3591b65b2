from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

from .conf import conf
from .decisions import gpc_due, record_gpc
from .state import Consent, store

GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


class ConsentMiddleware:
    """Read each visitor's consent once per request and act on Global Privacy Control.

    Sync and async capable: both entry points share `gpc_due` and `_after`. Only a request that
    carries a GPC signal not yet recorded touches the database.
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
        gpc_consent = record_gpc(request) if gpc_due(request) else None
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)
        return self._after(request, response, gpc_consent)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        gpc_consent = None
        if gpc_due(request):
            gpc_consent = await sync_to_async(record_gpc)(request)
        response = self.get_response(request)
        assert not isinstance(response, HttpResponseBase)
        return self._after(request, await response, gpc_consent)

    @staticmethod
    def _after(
        request: HttpRequest, response: HttpResponseBase, gpc_consent: Consent | None
    ) -> HttpResponseBase:
        # A decision the view stored in this response is newer than the GPC record: it wins.
        if gpc_consent is not None and conf.CONSENT_COOKIE_NAME not in response.cookies:
            store(response, request, gpc_consent)
        # What a page shows (the banner, the switches) depends on the consent cookie.
        patch_vary_headers(response, ("Cookie",))
        return response
