"""The cookie registry as the rest of the app reads it: a snapshot kept in Django's cache.

The catalogue lives in django-cookie-consent's CookieGroup/Cookie tables (with our
RegisteredCookie and Service beside them). Pages read a frozen snapshot from the cache; any admin
change deletes it, so the next request on any host (with Redis as the cache) rebuilds it.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from cookie_consent.models import Cookie, CookieGroup
from django.core.cache import cache
from django.template.loader import render_to_string

from .categories import CATEGORIES, FIRST_PARTY, PARTIES
from .models import SITE_PROVIDER, Service

CACHE_KEY = "consent:registry:v1"
# Changes reach other processes at once through a shared cache (Redis); with the per-process
# memory cache, within this many seconds.
CACHE_SECONDS = 60


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    description: str
    required: bool


@dataclass(frozen=True)
class KnownCookie:
    name: str
    party: str
    provider: str
    purpose: str
    duration: str
    path: str
    domain: str

    @property
    def is_pattern(self) -> bool:
        return "*" in self.name

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.name) if self.is_pattern else name == self.name


@dataclass(frozen=True)
class Registry:
    categories: tuple[Category, ...]
    cookies: tuple[KnownCookie, ...]
    hosts: dict[str, tuple[str, ...]]  # party -> hosts its services load from

    def category(self, slug: str) -> Category | None:
        return next((c for c in self.categories if c.slug == slug), None)

    def find(self, name: str) -> KnownCookie | None:
        """Return the registry's entry for a cookie name: an exact name first, then patterns."""
        exact = next((c for c in self.cookies if not c.is_pattern and c.name == name), None)
        return exact or next((c for c in self.cookies if c.is_pattern and c.matches(name)), None)

    def party_of(self, name: str) -> str:
        """Return a cookie's party; a name the registry does not know counts as first-party."""
        known = self.find(name)
        return known.party if known else FIRST_PARTY


def load_registry() -> Registry:
    groups = {g.varname: g for g in CookieGroup.objects.filter(varname__in=CATEGORIES)}
    categories = tuple(
        Category(slug, groups[slug].name, groups[slug].description, groups[slug].is_required)
        for slug in CATEGORIES
        if slug in groups
    )
    cookies = []
    for cookie in Cookie.objects.select_related(
        "cookiegroup", "registeredcookie__service"
    ).order_by("cookiegroup__ordering", "name"):
        if cookie.cookiegroup.varname not in PARTIES:
            continue
        # A cookie added through django-cookie-consent's own admin has no details of ours.
        detail = getattr(cookie, "registeredcookie", None)
        cookies.append(
            KnownCookie(
                name=cookie.name,
                party=cookie.cookiegroup.varname,
                provider=detail.provider if detail else SITE_PROVIDER,
                purpose=cookie.description,
                duration=detail.duration if detail else "",
                path=cookie.path or "/",
                domain=cookie.domain,
            )
        )
    hosts: dict[str, list[str]] = {}
    for service in Service.objects.select_related("category"):
        hosts.setdefault(service.category.varname, []).extend(service.hosts)
    return Registry(
        categories, tuple(cookies), {party: tuple(sorted(set(h))) for party, h in hosts.items()}
    )


def get_registry() -> Registry:
    registry: Registry | None = cache.get(CACHE_KEY)
    if registry is None:
        registry = load_registry()
        cache.set(CACHE_KEY, registry, timeout=CACHE_SECONDS)
    return registry


def forget_registry(**kwargs: Any) -> None:
    """Drop the cached snapshot (connected to every registry model's save and delete)."""
    cache.delete(CACHE_KEY)


def cookie_table_html() -> str:
    """Return the policy's table of cookies in use, from the registry as it is right now."""
    return render_to_string("consent/_cookie_table.html", {"registry": load_registry()}).strip()
