from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest

View = TypeVar("View", bound=Callable[..., Any])


def consent_exempt(view: View) -> View:
    """Mark a view whose responses the consent middleware leaves alone, on one condition.

    The middleware then adds nothing to them (no expired cookies, no Vary: Cookie, no consented
    hosts in the Content-Security-Policy), which suits public, cacheable responses. The condition
    cannot be opted out of: such a response may set only cookies the registry marks necessary,
    whatever the visitor chose, so the decorator can never carry a tracking cookie past consent.
    """
    wrapper: Any
    if iscoroutinefunction(view):

        async def async_view(*args: Any, **kwargs: Any) -> Any:
            return await view(*args, **kwargs)

        wrapper = async_view
    else:

        def sync_view(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

        wrapper = sync_view
    wrapper.consent_exempt = True
    return wraps(view)(wrapper)  # type: ignore[return-value]


def is_exempt(request: HttpRequest) -> bool:
    """Return whether the request went to a view marked with @consent_exempt."""
    match = getattr(request, "resolver_match", None)
    return match is not None and getattr(match.func, "consent_exempt", False)
