"""The cookie registry as the rest of the app reads it: a frozen snapshot kept in each process.

The catalogue lives in django-cookie-consent's CookieGroup/Cookie tables (with our
RegisteredCookie and Service beside them). Every request reads the snapshot without a query; any
admin change bumps its version in Django's cache, so every process (on every host, with Redis as
the cache) reloads it within a second.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cookie_consent.models import Cookie, CookieGroup
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from common.snapshots import Snapshot

from ..categories import CATEGORIES, FIRST_PARTY, NECESSARY, PARTIES, allows
from ..conf import conf
from ..models import SITE_PROVIDER, Service

# A name's party, and the pattern it matches, are remembered per snapshot, for the most recently
# asked names up to this many and of at most this length: a client inventing names grows
# nothing past it, and evicts only names it sent itself.
MAX_REMEMBERED_NAMES = 10_000
MAX_REMEMBERED_NAME_LENGTH = 250


def is_pattern(name: str) -> bool:
    """Return whether a registered cookie name is a pattern: `*` stands for any run of
    characters, everything else is literal (`_pk_id.*`)."""
    return "*" in name


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
        return is_pattern(self.name)


@dataclass(frozen=True)
class Registry:
    categories: tuple[Category, ...]
    cookies: tuple[KnownCookie, ...]
    hosts: dict[str, tuple[str, ...]]  # party -> hosts its services load from
    _rules: dict[tuple[bool, ...], Rules] = field(default_factory=dict, compare=False, repr=False)
    _exact: dict[str, KnownCookie] = field(default_factory=dict, compare=False, repr=False)
    _patterns: tuple[KnownCookie, ...] = field(default=(), compare=False, repr=False)
    _matcher: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _matched: Callable[[str], KnownCookie | None] = field(
        default=lambda name: None, compare=False, repr=False
    )
    _classified: Callable[[str], tuple[str, bool]] = field(
        default=lambda name: (FIRST_PARTY, False), compare=False, repr=False
    )

    def __post_init__(self) -> None:
        # Built once per snapshot, so that finding a name costs the same with 3 or 3,000 entries.
        exact: dict[str, KnownCookie] = {}
        for cookie in self.cookies:
            if not cookie.is_pattern:
                exact.setdefault(cookie.name, cookie)
        patterns = tuple(c for c in self.cookies if c.is_pattern)
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_patterns", patterns)
        object.__setattr__(self, "_matcher", compile_patterns(c.name for c in patterns))
        # Every request asks both of every cookie it carries (expiring one asks its path and
        # domain): the alternation of every pattern runs once per name and snapshot.
        remember = functools.lru_cache(maxsize=MAX_REMEMBERED_NAMES)
        object.__setattr__(self, "_matched", remember(self._match))
        object.__setattr__(self, "_classified", remember(self._classify))

    def find(self, name: str) -> KnownCookie | None:
        """Return the registry's entry for a cookie name: an exact name first, then the first
        pattern that matches, in the registry's order."""
        exact = self._exact.get(name)
        if exact is not None or self._matcher is None:
            return exact
        if len(name) > MAX_REMEMBERED_NAME_LENGTH:
            return self._match(name)
        return self._matched(name)

    def _match(self, name: str) -> KnownCookie | None:
        assert self._matcher is not None
        match = self._matcher.match(name)
        # Each pattern is one capturing group of the alternation; the one that matched is last.
        return None if match is None else self._patterns[(match.lastindex or 1) - 1]

    def party_of(self, name: str) -> str:
        """Return a cookie's party; a name the registry does not know counts as first-party.

        The consent cookie is necessary whatever the registry says: without it no choice sticks.
        """
        return self.classify(name)[0]

    def knows(self, name: str) -> bool:
        return self.classify(name)[1]

    def classify(self, name: str) -> tuple[str, bool]:
        """Return a cookie name's party, and whether the registry knows the name."""
        if len(name) > MAX_REMEMBERED_NAME_LENGTH:
            return self._classify(name)
        return self._classified(name)

    def _classify(self, name: str) -> tuple[str, bool]:
        if name == conf.CONSENT_COOKIE_NAME:
            return NECESSARY, True
        known = self.find(name)
        return (FIRST_PARTY, False) if known is None else (known.party, True)

    def rules(self, choices: Mapping[str, bool]) -> Rules:
        """Return what a set of choices allows, worked out once per combination."""
        key = tuple(choices[slug] for slug in CATEGORIES)
        try:
            return self._rules[key]
        except KeyError:
            pass
        kept = frozenset(
            party
            for party in PARTIES
            if allows(choices, party, persistent=False) or allows(choices, party, persistent=True)
        )
        hosts = tuple(h for party in PARTIES if choices[party] for h in self.hosts.get(party, ()))
        rules = self._rules[key] = Rules(kept, hosts)  # at most 2**5 keys
        return rules


def compile_patterns(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """Return one regular expression matching what any of the fnmatch patterns matches, each in
    a capturing group of its own (fnmatch's translations capture nothing), or None for none."""
    groups = [f"({fnmatch.translate(pattern)})" for pattern in patterns]
    return re.compile("|".join(groups)) if groups else None


class Rules(NamedTuple):
    kept: frozenset[str]  # parties whose cookies may exist, in some consented lifetime
    hosts: tuple[str, ...]  # hosts of the services of consented parties


def overlap(first: str, second: str) -> bool:
    """Return whether some cookie name matches both names, either of which may be a pattern
    (`*` for any run of characters, everything else literal)."""

    @functools.cache
    def common(i: int, j: int) -> bool:  # does some name match both first[i:] and second[j:]?
        if i == len(first) or j == len(second):
            rest = first[i:] + second[j:]
            return set(rest) <= {"*"}
        if first[i] == "*":
            # The star matches nothing more, or takes the other's next character (or its star).
            return common(i + 1, j) or common(i, j + 1)
        if second[j] == "*":
            return common(i, j + 1) or common(i + 1, j)
        return first[i] == second[j] and common(i + 1, j + 1)

    return common(0, 0)


def check_registration(name: str, party: str, *, exclude: int | None = None) -> None:
    """Raise ValidationError when registering `name` in `party` would widen what counts as
    consented beyond what an admin can see: a pattern that matches every name or the consent
    cookie, or a name that overlaps a registered cookie of another category (the pattern would
    silently reclassify some of its names, or the two entries contradict each other)."""
    pattern = is_pattern(name)
    if pattern and set(name) == {"*"}:
        raise ValidationError(_("A pattern may not match every cookie name."), code="everything")
    if pattern and fnmatch.fnmatchcase(conf.CONSENT_COOKIE_NAME, name):
        raise ValidationError(
            _("A pattern may not match the consent cookie, %(name)s."),
            code="consent_cookie",
            params={"name": conf.CONSENT_COOKIE_NAME},
        )
    others = Cookie.objects.exclude(cookiegroup__varname=party).exclude(pk=exclude)
    for other, category in others.values_list("name", "cookiegroup__name").order_by("name"):
        if (pattern or is_pattern(other) or other == name) and overlap(name, other):
            raise ValidationError(
                _("It overlaps %(other)s, which is registered as %(category)s."),
                code="overlap",
                params={"other": other, "category": category},
            )


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
                provider=detail.service.provider if detail and detail.service else SITE_PROVIDER,
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


REGISTRY = Snapshot("consent:registry:version", load_registry)


def get_registry() -> Registry:
    return REGISTRY.get()


def forget_registry(**kwargs: Any) -> None:
    """Make every process reload the registry (connected to every registry model's save and
    delete)."""
    REGISTRY.forget()
