"""Measure what ConsentMiddleware costs on a plain page, against django-cookie-consent's.

In one process and one run, three WSGI handlers serve the same minimal page (a small HTML
HttpResponse: no template, no database) through the project's whole middleware stack:

  (a) the project's MIDDLEWARE without consent.enforcement.middleware.ConsentMiddleware, and with
      django-csp's CSPMiddleware in place of our subclass of it (the baseline);
  (b) the project's MIDDLEWARE unchanged (ours);
  (c) (a) with cookie_consent.middleware.CleanCookiesMiddleware where ours sits (theirs), reading
      the same five CookieGroups and their Cookies (the seed registry). Its own cookie is
      registered as strictly necessary, as on a site running it: ours refuses unknown names.

Each handler is called directly with a WSGI environ built per request, in three scenarios: a
returning visitor (both consent cookies, csrftoken, Matomo's two cookies and a refused HubSpot
cookie, which both middlewares expire), the same visitor once the browser has dropped that
cookie, and a first visit (no cookies). Then the registry grows to REGISTRY_SIZE cookies (a third
of them patterns), as a site with many vendors has it, for three more: a visitor who refused
third-party and still sends 20 such cookies (ten registered names, ten names of patterns: theirs
knows no patterns, so it expires ten), a visitor who accepted everything whose Cookie header
changes on every page (HubSpot's __hssc counts the pages of a visit), and that visitor with the
same header every time. The variants take turns, in several rounds, so drift on
the machine does not favour one; each variant's figure is the CPU time of its median round (the
best round is shown too, and wall/CPU says how much other processes got in the way). Overheads
are per-request time over (a): the goal is ours <= 10% of (a), and ours <= one tenth of theirs.

Settings are the project's dev settings with DEBUG off and whitenoise as in production (no
per-request autorefresh, which stats the disk and would inflate the baseline). The database
named by DATABASE_URL is created if missing and migrated (the seed policy and registry).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/iportalis_mwbench \\
        .venv/bin/python bench/middleware.py [--seconds 1.0] [--rounds 5] [--profile]

--profile adds where ConsentMiddleware's time goes on a returning visitor: a cProfile of (b)
against (a).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import io
import itertools
import math
import os
import platform
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, NamedTuple, cast

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.urls import path

REPO = Path(__file__).resolve().parent.parent
OURS = "consent.enforcement.middleware.ConsentMiddleware"
THEIRS = "cookie_consent.middleware.CleanCookiesMiddleware"
OURS_CSP = "consent.enforcement.csp.ConsentCSPMiddleware"
PLAIN_CSP = "csp.middleware.CSPMiddleware"
HOST = "bench.iportalis.test"
PAGE = "/plain/"
BODY = b"<!doctype html><title>Plain</title><h1>A plain page</h1><p>Nothing to see here.</p>\n"
GOAL_OVER_BASELINE = 0.10
GOAL_OVER_THEIRS = 0.10
REGISTRY_SIZE = 300
VENDOR = "vendor"  # the names the grown registry adds: vendor017_id, vendor042_*

Environ = dict[str, Any]


def plain_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BODY)


# This module is the bench's ROOT_URLCONF.
urlpatterns = [path(PAGE.strip("/") + "/", plain_page)]


class Batch(NamedTuple):
    cpu: float
    wall: float


@dataclass
class Variant:
    key: str
    label: str
    middleware: list[str]
    handler: WSGIHandler | None = None
    batches: dict[str, list[Batch]] = field(default_factory=dict)

    def activate(self) -> WSGIHandler:
        """Return this variant's handler with its MIDDLEWARE in force while it serves."""
        from django.conf import settings

        settings.MIDDLEWARE = self.middleware
        if self.handler is None:
            self.handler = WSGIHandler()
        return self.handler


@dataclass
class Scenario:
    key: str
    label: str
    cookie_header: str
    # What each variant must expire: the proof that all three serve the same page fairly.
    expected_deletions: dict[str, set[str]]
    # A cookie whose value changes on every request (a page counter), appended to the header.
    changing: str = ""

    def environ_factory(self) -> Callable[[], Environ]:
        base: Environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": PAGE,
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "443",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "203.0.113.7",
            "HTTP_HOST": HOST,
            "HTTP_ACCEPT": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
            "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.8",
            "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if self.cookie_header:
            base["HTTP_COOKIE"] = self.cookie_header
        if self.changing:
            pages = itertools.count(1)
            prefix = f"{self.cookie_header}; {self.changing}=5e3a0c2f.".lstrip("; ")

            def make_changing() -> Environ:
                environ = base.copy()
                environ["HTTP_COOKIE"] = f"{prefix}{next(pages)}.1764064800000"
                environ["wsgi.input"] = io.BytesIO()
                return environ

            return make_changing

        def make() -> Environ:
            environ = base.copy()
            environ["wsgi.input"] = io.BytesIO()
            return environ

        return make


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Callable[[bytes], object]:
    return _write


def _write(data: bytes) -> object:
    return None


def serve(handler: WSGIHandler, make_environ: Callable[[], Environ], count: int) -> Batch:
    """Serve `count` requests as a WSGI server would; return the CPU and wall seconds taken.

    The figures use CPU time: on a shared machine, wall time also counts the moments another
    process had the core, which would favour whichever variant ran while the machine was quiet.
    """
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        response = handler(make_environ(), _start_response)
        for _chunk in cast(Iterable[bytes], response):
            pass
        response.close()
    return Batch(time.process_time() - cpu, time.perf_counter() - wall)


def configure() -> None:
    """Serve the bench page with static files handled as in production.

    Assigned once, before any handler exists, as a settings module would, rather than with
    override_settings: that wraps the settings in UserSettingsHolder layers, through which every
    read of a setting left at its default (getattr(settings, NAME, default)) raises and is
    caught once per layer, a cost no production process pays.
    """
    from django.conf import settings

    settings.ROOT_URLCONF = __name__
    # The dev settings' autorefresh looks for a file on disk on every request, which would
    # inflate the baseline; in production whitenoise looks static files up in a dict.
    settings.WHITENOISE_AUTOREFRESH = False
    settings.WHITENOISE_USE_FINDERS = False
    settings.STATIC_ROOT = None


def build_variants() -> list[Variant]:
    from django.conf import settings

    project = list(settings.MIDDLEWARE)
    if OURS not in project:
        raise SystemExit(f"{OURS} is not in MIDDLEWARE: nothing to measure.")
    position = project.index(OURS)
    # Without ours, django-csp's own middleware stands where our subclass of it does.
    without = [PLAIN_CSP if name == OURS_CSP else name for name in project if name != OURS]
    theirs = [*without[:position], THEIRS, *without[position:]]
    return [
        Variant("a", "(a) without consent middleware", without),
        Variant("b", "(b) with ConsentMiddleware (ours)", project),
        Variant("c", "(c) with CleanCookiesMiddleware", theirs),
    ]


def register_their_cookie() -> None:
    """Classify django-cookie-consent's own cookie as strictly necessary, as the admin of a site
    running it would: unclassified, ours refuses and expires it like any unknown name."""
    from cookie_consent.conf import settings as their_settings
    from cookie_consent.models import CookieGroup

    from consent.models import RegisteredCookie

    RegisteredCookie.objects.get_or_create(
        name=cast(Any, their_settings).COOKIE_CONSENT_NAME,
        domain="",
        cookiegroup=CookieGroup.objects.get(varname="necessary"),
        defaults={"description": "django-cookie-consent's choices", "duration": "1 year"},
    )


def grow_registry(size: int = REGISTRY_SIZE) -> None:
    """Register vendors' cookies until the registry holds `size`, a third of them patterns, in
    the three party categories in turn (each vendor's names apart from every other's)."""
    from cookie_consent.models import Cookie, CookieGroup

    from consent.categories import PARTIES
    from consent.models import RegisteredCookie

    groups = [CookieGroup.objects.get(varname=slug) for slug in PARTIES]
    cookies = list(Cookie.objects.values_list("name", flat=True))
    patterns = sum("*" in name for name in cookies)
    vendor = 0
    while len(cookies) < size:
        pattern = patterns < size // 3
        name = f"{VENDOR}{vendor:03d}_" + ("*" if pattern else "id")
        if name not in cookies:
            RegisteredCookie.objects.create(
                name=name,
                cookiegroup=groups[vendor % len(groups)],
                description="A vendor's cookie.",
                duration="1 year",
            )
            cookies.append(name)
            patterns += pattern
        vendor += 1


def shrink_registry() -> None:
    """Remove what grow_registry added (an earlier run's), so the first scenarios see the seed."""
    from consent.models import RegisteredCookie

    for cookie in RegisteredCookie.objects.filter(name__startswith=VENDOR):
        cookie.delete()  # one by one: django-cookie-consent clears its cache on each delete


def refused_vendor_cookies(count: int) -> tuple[list[str], list[str]]:
    """Return third-party names of the grown registry: `count` registered exactly, `count`
    matched by patterns only (the last ones in the registry's order, the costliest to find)."""
    from consent.categories import THIRD_PARTY
    from consent.enforcement.registry import get_registry

    third = [c.name for c in get_registry().cookies if c.party == THIRD_PARTY]
    exact = [name for name in third if name.startswith(VENDOR) and "*" not in name]
    patterns = [name for name in third if name.startswith(VENDOR) and "*" in name]
    if len(exact) < count or len(patterns) < count:
        raise SystemExit(f"The grown registry has too few third-party vendor cookies: {third}")
    return exact[-count:], [name.replace("*", "abc") for name in patterns[-count:]]


def build_scenarios() -> list[Scenario]:
    from cookie_consent.cache import all_cookie_groups
    from cookie_consent.conf import settings as their_settings
    from cookie_consent.util import dict_to_cookie_str

    from consent.capture.state import Consent
    from consent.categories import FIRST_PARTY, NECESSARY, PERSISTENT, SESSION, THIRD_PARTY
    from consent.conf import conf
    from policy.models import PUBLISHED

    # Django's settings, with the defaults django-appconf adds, which the type stubs cannot see.
    cookie_consent_settings = cast(Any, their_settings)

    policy = PUBLISHED.get().current("en")
    if policy is None or policy.number is None:
        raise SystemExit("No published policy in English: did the migrations load the seed?")
    number = policy.number

    def ours(*, third_party: bool) -> str:
        return Consent(
            consent_id=uuid.uuid4(),
            choices={
                NECESSARY: True,
                FIRST_PARTY: True,
                THIRD_PARTY: third_party,
                SESSION: True,
                PERSISTENT: True,
            },
            policy_version=number,
            policy_language="en",
            given_at=datetime.datetime.now(tz=datetime.UTC),
            decided=True,
        ).dumps()

    # Their value, as their processor writes it: each optional group's version, or the decline.
    decline = cookie_consent_settings.COOKIE_CONSENT_DECLINE
    groups = all_cookie_groups()
    if set(groups) != {FIRST_PARTY, THIRD_PARTY, SESSION, PERSISTENT}:
        raise SystemExit(f"Unexpected optional CookieGroups: {sorted(groups)}")
    theirs = dict_to_cookie_str(
        {
            slug: decline if slug == THIRD_PARTY else group.get_version()
            for slug, group in groups.items()
        }
    )
    cookies = [
        (conf.CONSENT_COOKIE_NAME, ours(third_party=False)),
        # A browser sends back what Set-Cookie gave it: their value needs quoting ("=" and "|").
        (cookie_consent_settings.COOKIE_CONSENT_NAME, f'"{theirs}"'),
        ("csrftoken", "b3Kq9XfG2mZpL7vT1wYc8RsNd4HjUe0A"),
        ("_pk_id.1.abcd", "5e3a0c2f1b7d4e68.1764064800."),
        ("_pk_ses.1.abcd", "1"),
        ("hubspotutk", "8f14e45fceea167a5a36dedd4bea2543"),
    ]
    return [
        Scenario(
            "returning",
            "returning visitor (both consent cookies, csrftoken, _pk_id, _pk_ses, hubspotutk)",
            "; ".join(f"{name}={value}" for name, value in cookies),
            {"a": set(), "b": {"hubspotutk"}, "c": {"hubspotutk"}},
        ),
        # Once the browser has obeyed that first expiry, every later page looks like this.
        Scenario(
            "settled",
            "returning visitor after that (the same cookies but hubspotutk)",
            "; ".join(f"{name}={value}" for name, value in cookies if name != "hubspotutk"),
            {"a": set(), "b": set(), "c": set()},
        ),
        Scenario("first", "first visit (no cookies)", "", {"a": set(), "b": set(), "c": set()}),
    ]


def build_grown_scenarios() -> list[Scenario]:
    """Return the scenarios of a registry grown to REGISTRY_SIZE cookies."""
    from cookie_consent.conf import settings as their_settings

    returning = build_scenarios()[0]
    # The refusing visitor's cookies of the seed scenarios, and the same visitor accepting all.
    refusing = [
        (name, value)
        for name, _, value in (pair.partition("=") for pair in returning.cookie_header.split("; "))
        if name != "hubspotutk"
    ]
    exact, matched = refused_vendor_cookies(10)
    vendors = [(name, "1") for name in (*exact, *matched)]
    accepting = build_accepting_cookies(cast(Any, their_settings).COOKIE_CONSENT_NAME)
    hubspot = [("hubspotutk", "8f14e45fceea167a5a36dedd4bea2543"), ("__hssrc", "1")]
    hubspot.append(("__hstc", "20845762.8f14e45fceea167a5a36dedd4bea2543.1764064800000.1.1.1"))
    none: dict[str, set[str]] = {"a": set(), "b": set(), "c": set()}
    return [
        Scenario(
            "refusing",
            f"{REGISTRY_SIZE}-cookie registry: refused third-party, still sending 20 such cookies",
            "; ".join(f"{name}={value}" for name, value in [*refusing, *vendors]),
            {"a": set(), "b": {name for name, _ in vendors}, "c": set(exact)},
        ),
        Scenario(
            "changing",
            f"{REGISTRY_SIZE}-cookie registry: accepted all, a Cookie header new on every page",
            "; ".join(f"{name}={value}" for name, value in [*accepting, *hubspot]),
            none,
            changing="__hssc",
        ),
        Scenario(
            "steady",
            f"{REGISTRY_SIZE}-cookie registry: accepted all, the same Cookie header every time",
            "; ".join(
                f"{name}={value}"
                for name, value in [*accepting, *hubspot, ("__hssc", "5e3a0c2f.3.1764064800000")]
            ),
            none,
        ),
    ]


def build_accepting_cookies(their_name: str) -> list[tuple[str, str]]:
    """Return the cookies of a returning visitor who accepted everything, on both sites."""
    from cookie_consent.cache import all_cookie_groups
    from cookie_consent.util import dict_to_cookie_str

    from consent.capture.state import Consent
    from consent.categories import CATEGORIES
    from consent.conf import conf
    from policy.models import PUBLISHED

    policy = PUBLISHED.get().current("en")
    assert policy is not None and policy.number is not None
    ours = Consent(
        consent_id=uuid.uuid4(),
        choices=dict.fromkeys(CATEGORIES, True),
        policy_version=policy.number,
        policy_language="en",
        given_at=datetime.datetime.now(tz=datetime.UTC),
        decided=True,
    ).dumps()
    theirs = dict_to_cookie_str({slug: g.get_version() for slug, g in all_cookie_groups().items()})
    return [
        (conf.CONSENT_COOKIE_NAME, ours),
        (their_name, f'"{theirs}"'),
        ("csrftoken", "b3Kq9XfG2mZpL7vT1wYc8RsNd4HjUe0A"),
        ("_pk_id.1.abcd", "5e3a0c2f1b7d4e68.1764064800."),
        ("_pk_ses.1.abcd", "1"),
    ]


def verify(variant: Variant, scenario: Scenario) -> str:
    """Serve one request and check the cookies it expires; return a line that shows them."""
    captured: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        captured["status"] = status
        captured["headers"] = headers
        return _write

    response = variant.activate()(scenario.environ_factory()(), start_response)
    body = b"".join(cast(Iterable[bytes], response))
    response.close()
    headers: list[tuple[str, str]] = captured["headers"]
    # Django writes response.cookies with a leading space (Morsel.output(header="")).
    set_cookies = [value.strip() for name, value in headers if name.lower() == "set-cookie"]
    deleted = {value.partition("=")[0] for value in set_cookies if "Max-Age=0" in value.split("; ")}
    vary = ", ".join(value for name, value in headers if name.lower() == "vary") or "-"
    problems = []
    if not captured["status"].startswith("200") or body != BODY:
        problems.append(f"status {captured['status']}, body {body[:60]!r}")
    expected = scenario.expected_deletions[variant.key]
    if deleted != expected or len(set_cookies) != len(expected):
        problems.append(f"expected to expire exactly {sorted(expected) or 'nothing'}")
    shown = " | ".join(set_cookies) or "none"
    if len(set_cookies) > 2:  # the names are enough to check
        shown = f"{len(set_cookies)} deletions: {', '.join(sorted(deleted))}"
    line = f"  {variant.label:<36} {captured['status'][:3]}  Set-Cookie: {shown}  (Vary: {vary})"
    if problems:
        raise SystemExit(f"{line}\n  UNEXPECTED: {'; '.join(problems)}")
    return line


def calibrate(variants: list[Variant], scenario: Scenario, seconds: float) -> int:
    """Return a request count that keeps even the fastest variant busy for `seconds`."""
    make_environ = scenario.environ_factory()
    fastest = math.inf
    for variant in variants:
        handler = variant.activate()
        serve(handler, make_environ, 200)  # warm up: snapshots, caches, resolver
        fastest = min(fastest, serve(handler, make_environ, 500).cpu / 500)
    return max(1000, math.ceil(seconds / fastest * 1.05))


def measure(variants: list[Variant], scenario: Scenario, count: int, rounds: int) -> None:
    make_environ = scenario.environ_factory()
    for round_number in range(rounds):
        # Rotate who goes first, so no variant always runs on the warmest (or coolest) CPU.
        shift = round_number % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            batch = serve(variant.activate(), make_environ, count)
            variant.batches.setdefault(scenario.key, []).append(batch)


def report(variants: list[Variant], scenario: Scenario, count: int) -> None:
    per_request = {
        v.key: [batch.cpu / count for batch in v.batches[scenario.key]] for v in variants
    }
    a, b, c = (statistics.median(per_request[v.key]) for v in variants)
    print(f"\nScenario: {scenario.label}")
    rounds = len(per_request["a"])
    print(f"  {rounds} rounds of {count} requests per variant; CPU time of the median round")
    print(f"  {'variant':<36} {'req/s':>7} {'us/req':>8} {'best round':>11} {'wall/CPU':>9}")
    for variant in variants:
        times = per_request[variant.key]
        batches = variant.batches[scenario.key]
        # Above 1.00: other processes had this core for part of the batches.
        shared = sum(batch.wall for batch in batches) / sum(batch.cpu for batch in batches)
        print(
            f"  {variant.label:<36} {1 / statistics.median(times):>7.0f}"
            f" {statistics.median(times) * 1e6:>8.2f} {min(times) * 1e6:>11.2f} {shared:>9.2f}"
        )
    ours, theirs = b - a, c - a
    ratio = ours / theirs if theirs > 0 else math.inf
    verdict = "met" if ours / a <= GOAL_OVER_BASELINE else "MISSED"
    print(
        f"  ours:   {ours * 1e6:+7.2f} us/request = {ours / a:+7.2%} of (a)"
        f"   goal <= {GOAL_OVER_BASELINE:.0%}: {verdict}"
    )
    print(f"  theirs: {theirs * 1e6:+7.2f} us/request = {theirs / a:+7.2%} of (a)")
    verdict = "met" if ratio <= GOAL_OVER_THEIRS else "MISSED"
    print(f"  ours / theirs = {ratio:.3f}   goal <= {GOAL_OVER_THEIRS:.2f}: {verdict}")
    best_a, best_b, best_c = (min(per_request[v.key]) for v in variants)
    best_ratio = (best_b - best_a) / (best_c - best_a) if best_c > best_a else math.inf
    print(
        f"  from the best rounds: ours {(best_b - best_a) / best_a:+.2%} of (a), "
        f"theirs {(best_c - best_a) / best_a:+.2%}, ours / theirs = {best_ratio:.3f}"
    )


def machine() -> str:
    import django

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{datetime.datetime.now(tz=datetime.UTC):%Y-%m-%d %H:%M UTC}; {cpu}, "
        f"{os.cpu_count()} cores ({usable} usable); {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"django-cookie-consent {version('django-cookie-consent')}"
    )


def profile(variants: list[Variant], scenario: Scenario, count: int) -> None:
    """Show where ConsentMiddleware's time goes for this scenario."""
    make_environ = scenario.environ_factory()
    stats: dict[str, dict[Any, Any]] = {}
    for variant in variants[:2]:
        handler = variant.activate()
        serve(handler, make_environ, 200)
        profiler = cProfile.Profile()
        profiler.enable()
        serve(handler, make_environ, count)
        profiler.disable()
        stats[variant.key] = cast(Any, pstats.Stats(profiler)).stats
    print(f"\n  cProfile, {count} requests each: the calls (b) makes that (a) does not")
    print("  (us/request under the profiler, which inflates them; compare sizes, not totals)")
    print(f"  {'own time':>9} {'calls/req':>9}  function")
    extra = []
    for key, (_, calls, own, _, _) in stats["b"].items():
        before = stats["a"].get(key, (0, 0, 0.0, 0.0, None))
        # Functions both make as often differ by noise only.
        if calls > before[1]:
            extra.append((own - before[2], calls - before[1], key))
    extra.sort(key=lambda row: row[0], reverse=True)
    for own, calls, (filename, line, name) in extra[:25]:
        print(f"  {own / count * 1e6:>9.2f} {calls / count:>9.1f}  {_where(filename, line, name)}")
    print(f"\n  {'cumulative':>10} {'calls/req':>9}  consent and policy functions in (b)")
    ours = [
        (cumulative, calls, key)
        for key, (_, calls, _, cumulative, _) in stats["b"].items()
        if any(part in key[0] for part in ("/consent/", "/policy/", "/snapshots.py"))
    ]
    for cumulative, calls, (filename, line, name) in sorted(ours, reverse=True)[:20]:
        print(
            f"  {cumulative / count * 1e6:>10.2f} {calls / count:>9.1f}  "
            f"{_where(filename, line, name)}"
        )


def _where(filename: str, line: int, name: str) -> str:
    for marker in ("site-packages/", f"{REPO}/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line}({name})" if line else name


def verify_and_time(
    variants: list[Variant], scenarios: list[Scenario], seconds: float, rounds: int
) -> None:
    """Print what each variant answers in each scenario, then time and report every scenario."""
    for scenario in scenarios:
        print(f" {scenario.label}:")
        for variant in variants:
            print(verify(variant, scenario))
    for scenario in scenarios:
        count = calibrate(variants, scenario, seconds)
        measure(variants, scenario, count, rounds)
        report(variants, scenario, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.0, help="least seconds per batch")
    parser.add_argument("--rounds", type=int, default=5, help="batches per variant and scenario")
    parser.add_argument("--profile", action="store_true", help="break our overhead down")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit(
            "Set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/iportalis_mwbench): "
            "the bench creates and migrates that database."
        )
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ["DJANGO_SETTINGS_MODULE"] = "iportalis.settings.dev"
    # Both read by the dev settings.
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = HOST
    from iportalis.embedded_db import create_database
    from iportalis.env import database_from_url

    create_database(database_from_url(url))  # migrate fills it

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    register_their_cookie()
    shrink_registry()

    configure()
    variants = build_variants()
    scenarios = build_scenarios()
    print(f"Middleware overhead on a plain page ({PAGE}, {len(BODY)} bytes of HTML)")
    print(machine())
    print("\nWhat each variant answers (checked before timing):")
    verify_and_time(variants, scenarios, args.seconds, args.rounds)
    grow_registry()
    grown = build_grown_scenarios()
    print(f"\nThe registry grown to {REGISTRY_SIZE} cookies; what each variant answers:")
    verify_and_time(variants, grown, args.seconds, args.rounds)
    if args.profile:
        for scenario in (scenarios[0], *grown[:2]):
            print(f"\nProfile of: {scenario.label}")
            profile(variants, scenario, 5_000)


if __name__ == "__main__":
    main()
