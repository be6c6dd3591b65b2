"""Hostile input against enforcement: a visitor's cookie names must neither switch it off nor grow
tables, responses or memory without bound (issue 14, items 2, 5 and 6).

Every request goes through `Probe.send` (tests/hostile.py) and is counted.
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from consent.categories import OPTIONAL
from consent.enforcement import rules as enforcement
from consent.enforcement import unknown
from consent.enforcement.registry import get_registry
from consent.enforcement.unknown import sightings
from consent.models import RegisteredCookie, UnknownCookie
from tests.factories import make_consent_cookie
from tests.hostile import COOKIE, Probe

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limit")]

UNKNOWN = "/admin/consent/unknowncookie/"


def header(names: list[str], *, consent: str | None = None) -> str:
    pairs = [f"{name}=1" for name in names]
    if consent is not None:
        pairs.insert(0, f"{COOKIE}={consent}")
    return "; ".join(pairs)


def invented(request: int, count: int) -> list[str]:
    return [f"junk{request:03d}x{i:04d}" for i in range(count)]


def set_cookies(response: Any) -> list[str]:
    """Return the names the response deletes."""
    return [morsel.key for morsel in response.cookies.values() if morsel["max-age"] == 0]


# Item 2: a wildcard cookie name cannot become a rule -------------------------------------------


@pytest.mark.parametrize("name", ["*", "**", "_*", "iportalis_*", "a b", "<script>", 'x"y'])
def test_a_visitors_cookie_name_cannot_be_classified_into_a_pattern(probe: Probe, admin_user, name):
    """The visitor sends the name; it is listed as unknown; an admin's one click is refused
    (400, nothing registered), and every unregistered name stays refused for everyone."""
    probe.get("/", HTTP_COOKIE=f"{name}=1")
    sightings.flush()
    listed = UnknownCookie.objects.filter(name=name).first()
    if listed is None:  # a name no browser can send back (a space): never even listed
        now = timezone.now()
        listed = UnknownCookie.objects.create(
            name=name, first_seen=now, last_seen=now, count=1, example_path="/"
        )
    admin = Client()
    admin.force_login(admin_user)
    before = RegisteredCookie.objects.count()

    response = probe.send(
        "POST",
        f"{UNKNOWN}{listed.pk}/classify/",
        b"category=necessary",
        "application/x-www-form-urlencoded",
        client=admin,
    )

    assert response.status_code == 400
    assert RegisteredCookie.objects.count() == before
    visitor = probe.get(
        "/", HTTP_COOKIE=header(["_ga_tracker"], consent=make_consent_cookie(*OPTIONAL))
    )
    assert visitor.cookies["_ga_tracker"]["max-age"] == 0  # still refused, still expired
    assert get_registry().find("_ga_tracker") is None


# Item 5: bounded table, responses and memory ---------------------------------------------------


def test_invented_names_cannot_grow_the_unknown_table_past_its_bound(probe: Probe):
    """Twenty requests of 500 invented names, each flushed as if by another worker, once grew the
    table to 10,000 rows. Now it stops at MAX_ROWS, and a real unknown cookie, which several
    browsers send, still gets listed afterwards; a name already listed still counts."""
    probe.get("/", HTTP_COOKIE=header(["_listed_before"]))
    sightings.flush()

    for request in range(20):
        probe.get("/", HTTP_COOKIE=header(invented(request, unknown.MAX_NAMES)))
        sightings.flush()

    assert UnknownCookie.objects.count() == unknown.MAX_ROWS
    for _browser in range(3):
        probe.get("/pricing/", HTTP_COOKIE=header(["_fbp", "_listed_before"]))
    sightings.flush()

    assert UnknownCookie.objects.count() == unknown.MAX_ROWS
    assert UnknownCookie.objects.get(name="_fbp").count == 3
    assert UnknownCookie.objects.get(name="_listed_before").count == 4


def test_invented_names_seen_once_displace_nothing(probe: Probe):
    for request in range(3):
        probe.get("/", HTTP_COOKIE=header(invented(request, unknown.MAX_NAMES)))
        sightings.flush()
    kept = set(UnknownCookie.objects.values_list("name", flat=True))

    probe.get("/", HTTP_COOKIE=header(invented(99, unknown.MAX_NAMES)))
    sightings.flush()

    assert set(UnknownCookie.objects.values_list("name", flat=True)) == kept


def test_a_thousand_refused_names_get_a_bounded_response(probe: Probe):
    """The browser holds a few refused cookies at most; a client sending 1,000 names once got
    1,000 Set-Cookie deletions (86 KB). It gets MAX_EXPIRED, and the view still sees none."""
    names = [f"refused{i:04d}" for i in range(1000)]

    response = probe.get("/cookie-settings/", HTTP_COOKIE=header(names))

    deleted = set_cookies(response)
    assert len(deleted) == enforcement.MAX_EXPIRED
    assert deleted == names[: enforcement.MAX_EXPIRED]
    assert sum(len(m.OutputString()) for m in response.cookies.values()) < 8_000
    # What the next page gets once the browser has dropped those: the next ones.
    later = probe.get("/", HTTP_COOKIE=header(names[enforcement.MAX_EXPIRED :]))
    assert set_cookies(later)[0] == names[enforcement.MAX_EXPIRED]


def test_long_changing_cookie_headers_do_not_grow_the_worker(probe: Probe):
    """Each request a new 8 KB header of 600 invented names: the middleware once remembered each
    whole header and its names, tens of megabytes per worker. What it keeps now is bounded by
    the registry's memo of names and the batch of unknown names: once those are full (the first
    200 requests bring 120,000 names, far more than they hold), 200 more keep nothing more."""
    consent = make_consent_cookie(*OPTIONAL)

    def browse(first: int) -> None:
        for request in range(first, first + 200):
            probe.get("/", HTTP_COOKIE=header(invented(request, 600), consent=consent))
        gc.collect()

    tracemalloc.start()
    try:
        start = tracemalloc.take_snapshot()
        browse(1)
        full = tracemalloc.take_snapshot()
        browse(201)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()

    filled = sum(stat.size_diff for stat in full.compare_to(start, "filename"))
    grown = sum(stat.size_diff for stat in after.compare_to(full, "filename"))
    assert filled < 8_000_000, f"{filled / 1e6:.1f} MB kept after 200 requests"
    assert grown < 500_000, f"{grown / 1e6:.1f} MB more kept after 200 more requests"
