from __future__ import annotations

from django.http import HttpRequest

from .state import ConsentState, get_state


def consent(request: HttpRequest) -> dict[str, ConsentState]:
    return {"consent_state": get_state(request)}
