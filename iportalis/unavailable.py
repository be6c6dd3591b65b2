"""Answer 503, not 500, while the database cannot be reached.

Connections are health-checked (see `iportalis.env.database_from_url`), so once the database is
back the next request reconnects by itself; until then a visitor or a script is told plainly that
nothing was saved and when to try again.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from ops.metrics import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)

RETRY_AFTER = 5  # seconds: a restart or failover of PostgreSQL usually takes about that long


class DatabaseUnavailableMiddleware(MiddlewareMixin):
    """Turn a lost or refused database connection in a view into a 503 with Retry-After.

    Put it last in MIDDLEWARE: exception hooks run from the bottom up, and the response still goes
    back up through the others (consent enforcement, security headers).
    """

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Not DatabaseError: an IntegrityError or a bad query is a bug, and stays a 500.
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable: %s %s: %s", request.method, request.path, exception)
        DATABASE_UNAVAILABLE.inc()
        message = _(
            "We cannot reach our database for a moment, so nothing was saved. "
            "Please try again in a few seconds."
        )
        response: HttpResponse
        if wants_json(request):
            response = JsonResponse({"error": message, "retry_after": RETRY_AFTER}, status=503)
        else:
            response = render(request, "503.html", {"message": message}, status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        response["Cache-Control"] = "no-store"
        return response


def wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )
