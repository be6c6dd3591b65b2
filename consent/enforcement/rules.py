"""What the consent middleware does to cookies, as plain functions of the choices and the registry.

A cookie that is not strictly necessary may be set only when its party and its lifetime are both
consented. Its party comes from the registry; its lifetime from its own Max-Age/Expires, never
from what the registry declares. A name the registry does not know is refused whatever the
visitor chose (it is missing from the policy's table, so nobody consented to it), unless
CONSENT_REFUSE_UNKNOWN_COOKIES is False, which counts it as first-party.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.cookies import CookieError

from django.http import HttpResponseBase
from django.utils.http import parse_http_date_safe

from ..categories import FIRST_PARTY, NECESSARY, PERSISTENT, SESSION, THIRD_PARTY, Choices, allows
from ..conf import conf
from .registry import KnownCookie, Registry, Rules

RAW_HEADER = "Set-Cookie"
# Deletions written into one response: a real browser holds a few refused cookies, and the
# ones beyond this go on its next pages (each response expires the next ones it still sends).
# A client sending a thousand names gets no thousand Set-Cookie headers.
MAX_EXPIRED = 50
_EXPIRY = {"max-age", "expires"}


# The party of a name the registry does not know: no choice consents to it.
UNCLASSIFIED = "unclassified"


def party_of(registry: Registry, name: str) -> str:
    """Return the party the rules apply to a cookie name: UNCLASSIFIED when the registry does not
    know it (or, with CONSENT_REFUSE_UNKNOWN_COOKIES off, first-party)."""
    party, known = registry.classify(name)
    if known:
        return party
    return UNCLASSIFIED if conf.CONSENT_REFUSE_UNKNOWN_COOKIES else FIRST_PARTY


def lifetime(max_age: object, expires: object) -> str | None:
    """Return SESSION or PERSISTENT from a Set-Cookie's attributes, or None when it deletes.

    An attribute we cannot read makes the cookie persistent, the class that needs more consent.
    """
    if max_age not in (None, ""):
        try:
            return PERSISTENT if int(str(max_age)) > 0 else None
        except ValueError:
            return PERSISTENT
    if expires not in (None, ""):
        when = parse_http_date_safe(str(expires))
        if when is None:
            return PERSISTENT
        return PERSISTENT if when > time.time() else None
    return SESSION


def verdict(choices: Choices, party: str, life: str | None, *, downgrade: bool) -> str:
    """Return "keep", "session" (drop its expiry) or "drop" for one Set-Cookie."""
    if party == NECESSARY or life is None or allows(choices, party, life == PERSISTENT):
        return "keep"
    if life == PERSISTENT and downgrade and allows(choices, party, persistent=False):
        return "session"
    return "drop"


def enforce_set_cookies(
    response: HttpResponseBase, choices: Choices, registry: Registry, *, downgrade: bool
) -> list[str]:
    """Drop or downgrade every cookie the response sets that the choices do not allow.

    Covers `response.cookies` and a raw Set-Cookie header. Return the names set, so that the
    caller can note the ones the registry does not know.
    """
    names = []
    for name, morsel in list(response.cookies.items()):
        names.append(name)
        life = lifetime(morsel["max-age"], morsel["expires"])
        action = verdict(choices, party_of(registry, name), life, downgrade=downgrade)
        if action == "drop":
            del response.cookies[name]
        elif action == "session":
            morsel["max-age"] = ""
            morsel["expires"] = ""
    if RAW_HEADER in response.headers:
        name = _enforce_raw_header(response, choices, registry, downgrade=downgrade)
        if name:
            names.append(name)
    return names


def _enforce_raw_header(
    response: HttpResponseBase, choices: Choices, registry: Registry, *, downgrade: bool
) -> str:
    """Apply the rule to a Set-Cookie header a view wrote by hand; return the cookie's name.

    Parsed by hand rather than with SimpleCookie, which rejects whole headers over attributes it
    does not know (Partitioned). A header without a name=value pair is dropped.
    """
    raw = response.headers[RAW_HEADER]
    pair, *attributes = raw.split(";")
    name = pair.partition("=")[0].strip()
    if "=" not in pair or not name:
        del response.headers[RAW_HEADER]
        return ""
    values = {}
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        values[key.strip().lower()] = value.strip()
    life = lifetime(values.get("max-age"), values.get("expires"))
    action = verdict(choices, party_of(registry, name), life, downgrade=downgrade)
    if action == "drop":
        del response.headers[RAW_HEADER]
    elif action == "session":
        kept = [a for a in attributes if a.partition("=")[0].strip().lower() not in _EXPIRY]
        response.headers[RAW_HEADER] = ";".join([pair, *kept])
    return name


def sort_sent(
    cookies: Iterable[str], rules: Rules, registry: Registry
) -> tuple[list[str], list[str]]:
    """Return, among cookies the browser sent, the names that may not exist under the rules,
    and the names the registry does not know (one pass: every request makes it)."""
    refused, unknown = [], []
    refuse_unknown = conf.CONSENT_REFUSE_UNKNOWN_COOKIES
    classify, kept = registry.classify, rules.kept
    for name in cookies:
        party, known = classify(name)
        if party not in kept or (refuse_unknown and not known):
            refused.append(name)
        if not known:
            unknown.append(name)
    return refused, unknown


def refused(cookies: Iterable[str], choices: Choices, registry: Registry) -> list[str]:
    """Return the names among cookies the browser sent that may not exist under the choices."""
    return sort_sent(cookies, registry.rules(choices), registry)[0]


def withdrawn_persistent(
    cookies: Iterable[str], before: Choices, after: Choices, registry: Registry
) -> list[str]:
    """Return the names that may have been stored persistently before and may not be now.

    The browser does not say which of its cookies are persistent, so when a decision takes
    `persistent` away, every cookie that could have outlived the session goes; the site sets the
    ones still allowed again, as session cookies.
    """
    names = []
    for name in cookies:
        party = party_of(registry, name)
        if allows(before, party, persistent=True) and not allows(after, party, persistent=True):
            names.append(name)
    return names


def expire(response: HttpResponseBase, names: Iterable[str], registry: Registry) -> None:
    """Tell the browser to delete these cookies, at the path and domain the registry records:
    the first MAX_EXPIRED of them."""
    expired = 0
    for name in names:
        if expired >= MAX_EXPIRED:
            break
        if name in response.cookies:
            continue  # the view (or an earlier rule) already decided this cookie's fate
        known = registry.find(name)
        try:
            if known is None:
                response.delete_cookie(name)
            else:
                response.delete_cookie(name, path=known.path, domain=known.domain or None)
        except CookieError:
            # A name no Set-Cookie can carry (empty, "Path", with a space...): a script or another
            # site on the domain made it, the browser sends it, and only they can delete it.
            continue
        expired += 1


# What a combination of choices lets through, in words a visitor can follow: the banner and the
# settings page show it as the switches change. Worked out here, beside the rules it describes.

PARTY_CATEGORIES = (FIRST_PARTY, THIRD_PARTY)
LIFETIME_CATEGORIES = (SESSION, PERSISTENT)
SWITCHES = (FIRST_PARTY, THIRD_PARTY, SESSION, PERSISTENT)  # the order of a combination's key


@dataclass(frozen=True)
class AllowedCookie:
    cookie: KnownCookie
    lives: str  # SESSION or PERSISTENT, as the rules would let it live
    downgraded: bool  # declared persistent, kept as a session cookie


@dataclass(frozen=True)
class Allowance:
    """What one combination of the four switches allows, beyond strictly necessary cookies."""

    key: str  # "1010": first-party, third-party, session, persistent
    cookies: tuple[AllowedCookie, ...]
    missing: str | None  # "lifetime" or "party" when half of what a cookie needs is chosen

    @property
    def providers(self) -> list[tuple[str, list[AllowedCookie]]]:
        grouped: dict[str, list[AllowedCookie]] = {}
        for allowed in self.cookies:
            grouped.setdefault(allowed.cookie.provider, []).append(allowed)
        return list(grouped.items())


def combination_key(choices: Choices) -> str:
    return "".join("1" if choices.get(slug) else "0" for slug in SWITCHES)


def declared_persistent(cookie: KnownCookie) -> bool:
    """Return whether the registry declares the cookie to outlive the session."""
    return cookie.duration.strip().lower() not in ("", "session")


def allowance(choices: Choices, registry: Registry, *, downgrade: bool) -> Allowance:
    """Return which of the registry's cookies these choices let through, and how they live."""
    parties = any(choices.get(slug) for slug in PARTY_CATEGORIES)
    lifetimes = any(choices.get(slug) for slug in LIFETIME_CATEGORIES)
    missing = "lifetime" if parties and not lifetimes else None
    if lifetimes and not parties:
        missing = "party"
    allowed = []
    for cookie in registry.cookies:
        if cookie.party == NECESSARY:
            continue
        if declared_persistent(cookie):
            if allows(choices, cookie.party, persistent=True):
                allowed.append(AllowedCookie(cookie, PERSISTENT, downgraded=False))
            elif downgrade and allows(choices, cookie.party, persistent=False):
                allowed.append(AllowedCookie(cookie, SESSION, downgraded=True))
        elif allows(choices, cookie.party, persistent=False):
            allowed.append(AllowedCookie(cookie, SESSION, downgraded=False))
    return Allowance(combination_key(choices), tuple(allowed), missing)


def every_allowance(registry: Registry, *, downgrade: bool) -> list[Allowance]:
    """Return the allowance of each of the 16 combinations of the switches."""
    return [
        allowance(dict(zip(SWITCHES, bits, strict=True)), registry, downgrade=downgrade)
        for bits in itertools.product((False, True), repeat=len(SWITCHES))
    ]
