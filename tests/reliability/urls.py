"""The site's URLs plus /baseline/: a bare Django view that inserts one row.

The load test sends the same decisions to /baseline/ and to the consent API through the same
gunicorn, middleware and CSRF check, so the ratio of their throughputs is what consent costs.
"""

from __future__ import annotations

import json
import uuid

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_POST

from iportalis.urls import urlpatterns as site_urlpatterns

BASELINE_TABLE = """
CREATE TABLE IF NOT EXISTS reliability_baseline (
    id bigserial PRIMARY KEY,
    visitor uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    body jsonb NOT NULL
)
"""


@require_POST
def baseline(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reliability_baseline (visitor, body) VALUES (%s, %s) RETURNING id",
            [str(uuid.uuid4()), json.dumps(body)],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"record": row_id}, status=201)


urlpatterns = [*site_urlpatterns, path("baseline/", baseline, name="baseline")]
