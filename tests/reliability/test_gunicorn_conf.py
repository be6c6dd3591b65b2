"""gunicorn.conf.py's worker_exit hook: a stopping worker writes what it counted in memory."""

from __future__ import annotations

import uuid

import pytest

from consent.models import UnknownCookie

from .servers import Visitor, start, stop

pytestmark = pytest.mark.django_db

REDIS_DB = 13


def test_a_stopping_worker_writes_the_unknown_cookie_names_it_counted(env_for):
    name = f"probe_{uuid.uuid4().hex[:12]}"
    with start(env_for(redis_db=REDIS_DB), workers=1) as server:
        visitor = Visitor()
        for _ in range(3):
            # Refused (no consent yet) and expired by each answer; a script sets it again.
            visitor.cookies[name] = "1"
            assert visitor.get(f"{server.url}/").status == 200
        # Counted in memory: written every 30 s at most, so not yet.
        assert not UnknownCookie.objects.filter(name=name).exists()

        assert stop(server) == 0  # SIGTERM, as on every deploy

    unknown = UnknownCookie.objects.get(name=name)
    assert (unknown.count, unknown.example_path) == (3, "/")
    assert not server.errors(), server.log_tail()
