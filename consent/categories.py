"""The five consent categories: their slugs are the same in forms, JSON, exports and the database.

Party (first/third) and lifetime (session/persistent) are two axes of one cookie: a cookie that is
not strictly necessary may be set only when its party and its lifetime are both consented.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_noop

NECESSARY = "necessary"
FIRST_PARTY = "first-party"
THIRD_PARTY = "third-party"
SESSION = "session"
PERSISTENT = "persistent"

CATEGORIES = (NECESSARY, FIRST_PARTY, THIRD_PARTY, SESSION, PERSISTENT)
OPTIONAL = (FIRST_PARTY, THIRD_PARTY, SESSION, PERSISTENT)
PARTIES = (NECESSARY, FIRST_PARTY, THIRD_PARTY)
LIFETIMES = (SESSION, PERSISTENT)

Choices = Mapping[str, bool]


def field_of(slug: str) -> str:
    """Return the name of the consent record's field for a category (`first_party`)."""
    return slug.replace("-", "_")


def normalise(choices: Mapping[str, bool]) -> dict[str, bool]:
    """Return every category's value explicitly: necessary always on, anything unnamed off."""
    return {slug: slug == NECESSARY or bool(choices.get(slug, False)) for slug in CATEGORIES}


def all_accepted() -> dict[str, bool]:
    return dict.fromkeys(CATEGORIES, True)


def all_refused() -> dict[str, bool]:
    return normalise({})


def allows(choices: Choices, party: str, persistent: bool) -> bool:
    """Return whether a cookie of this party and lifetime may be set under these choices."""
    if party == NECESSARY:
        return True
    return bool(choices.get(party)) and bool(choices.get(PERSISTENT if persistent else SESSION))


# The categories' names and descriptions as the seed policy words them. Migration consent.0003
# wrote a frozen copy into the registry's rows, which hold the English; marking them here with
# gettext_noop is what puts them in the catalogue, so they are translated wherever they are shown.
SEED_TEXT = {
    NECESSARY: (
        gettext_noop("Strictly necessary"),
        gettext_noop(
            "These are cookies which are needed for our websites, applications or services to "
            "function properly, for example, these cookies allow you to access secure areas of our "
            "website."
        ),
    ),
    FIRST_PARTY: (
        gettext_noop("First-party"),
        gettext_noop(
            "First-party cookies are set by the website visited by the user. The data collected "
            "using first-party cookies is used for purposes like calculating pageviews, sessions, "
            "and number of users."
        ),
    ),
    THIRD_PARTY: (
        gettext_noop("Third-party"),
        gettext_noop(
            "Third-party cookies are set by domains that are not directly visited by the user. "
            "This happens when we add third-party elements (like chatbot, and social plugins) on "
            "our website."
        ),
    ),
    SESSION: (
        gettext_noop("Session"),
        gettext_noop(
            "Session cookies either expire immediately or within a few seconds of the user leaving "
            "the web browser."
        ),
    ),
    PERSISTENT: (
        gettext_noop("Persistent"),
        gettext_noop(
            "Persistent cookies stay on your browser for a very long time. Persistent cookies are "
            "used by us to track a single user and his/her interaction with our website."
        ),
    ),
}
