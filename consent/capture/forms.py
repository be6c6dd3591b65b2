"""The visitor's decision form (banner and settings page), the JSON API's decision, and the paths
a decision may name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.functional import lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from ..categories import CATEGORIES, NECESSARY, OPTIONAL
from ..models import ConsentRecord
from .decisions import ACTIONS

# The longest path a decision names (the form's `next`, the API's `path`); a record keeps 500.
MAX_PATH = 2000
# Control characters, line and paragraph separators (line breaks to some readers), and what
# PostgreSQL text cannot hold (NUL, lone surrogates).
_NOT_IN_A_PATH = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# The fields a decision form may carry besides its own: the CSRF token.
FORM_EXTRAS = frozenset({"csrfmiddlewaretoken"})


def is_site_path(text: str) -> bool:
    """Return whether a text is a path on this site: one leading `/` (`//` or `/\\` would name
    another host to a browser), at most MAX_PATH characters, no control character."""
    return (
        text.startswith("/")
        and len(text) <= MAX_PATH
        and _NOT_IN_A_PATH.search(text) is None
        and url_has_allowed_host_and_scheme(text, allowed_hosts=None)
    )


def landing_path(text: str) -> str:
    """Return a page's path with its query, or only its path when the whole is too long (a
    landing page's campaign parameters): the visitor comes back to that page either way."""
    if len(text) <= MAX_PATH:
        return text
    return text.split("?", 1)[0].split("#", 1)[0]


API_SURFACES = (
    ConsentRecord.Surface.API,
    ConsentRecord.Surface.BANNER,
    ConsentRecord.Surface.SETTINGS,
)


def _one_of(message: str, name: str, values: Iterable[str]) -> Any:
    """Return `message` (marked with gettext_noop) naming the values, translated when shown: a
    field formats its error message with the value given, which this one does not name."""
    return lazy(lambda: _(message) % {name: ", ".join(values)}, str)()


class _Decision(forms.Form):
    """What every decision holds, from the form or the API: one of ACTIONS, a surface the
    caller may name, and no field beyond its own (besides `EXTRAS`)."""

    EXTRAS: frozenset[str] = frozenset()

    action_refused = _one_of(gettext_noop("action must be one of %(actions)s."), "actions", ACTIONS)
    action = forms.ChoiceField(
        choices=[(a.value, a.label) for a in ACTIONS],
        error_messages={"invalid_choice": action_refused, "required": action_refused},
    )

    def clean(self) -> dict[str, Any] | None:
        unknown = sorted(map(str, set(self.data) - set(self.fields) - self.EXTRAS))
        if unknown:
            raise ValidationError(
                _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}, code="unknown"
            )
        return super().clean()


class DecisionForm(_Decision):
    """The banner's and the settings page's plain HTML form: it works without JavaScript.

    `next` is the page to go back to: a path on this site (what the banner sends), or nothing;
    any other value is ignored, and the visitor goes to the settings page. Fields the form does
    not have are refused, as the API refuses them.
    """

    EXTRAS = FORM_EXTRAS

    surface = forms.ChoiceField(
        choices=[
            (s.value, s.label)
            for s in (ConsentRecord.Surface.BANNER, ConsentRecord.Surface.SETTINGS)
        ]
    )
    next = forms.CharField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The category slugs contain hyphens, so the switches are added by name.
        for slug in OPTIONAL:
            self.fields[slug] = forms.BooleanField(required=False, label=_(slug))

    def clean_next(self) -> str:
        value = landing_path(str(self.cleaned_data["next"]))
        MaxLengthValidator(MAX_PATH)(value)  # a path alone that long is no page of ours: a 400
        return value if is_site_path(value) else ""

    def chosen(self) -> dict[str, bool]:
        return {slug: self.cleaned_data[slug] for slug in OPTIONAL}


class CategoriesField(forms.Field):
    """A JSON object of category slugs, each true or false; `necessary` may only be true."""

    def validate(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise ValidationError(_("choices must be an object of category: true or false."))
        unknown = sorted(map(str, set(value) - set(CATEGORIES)))
        if unknown:
            raise ValidationError(
                _("Unknown categories: %(unknown)s. Known: %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(CATEGORIES)}
            )
        if any(not isinstance(chosen, bool) for chosen in value.values()):
            raise ValidationError(_("Each category's value must be true or false."))
        if value.get(NECESSARY) is False:
            raise ValidationError(_("Strictly necessary cookies cannot be refused."))


class ApiDecisionForm(_Decision):
    """The JSON API's decision, `{"action", "choices", "surface", "path"}`, as JSON types; an
    absent one is `custom`, none chosen, `api` or `/`."""

    DEFAULTS = {"action": "custom", "choices": {}, "surface": "api", "path": "/"}

    surface_refused = _one_of(
        gettext_noop("surface must be one of %(surfaces)s."), "surfaces", API_SURFACES
    )
    surface = forms.ChoiceField(
        choices=[(s.value, s.label) for s in API_SURFACES],
        error_messages={"invalid_choice": surface_refused, "required": surface_refused},
    )
    choices = CategoriesField(required=False)
    path = forms.Field(required=False)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__({**self.DEFAULTS, **data})

    def clean_path(self) -> str:
        path = self.cleaned_data["path"]
        if not isinstance(path, str) or not is_site_path(path):
            raise ValidationError(_("path must be a path on this site, starting with /."))
        return path

    def problem(self) -> str:
        """Return the first thing wrong, unknown fields first."""
        errors = self.errors.get(NON_FIELD_ERRORS) or next(iter(self.errors.values()))
        return str(errors[0])
