"""The visitor's decision form (banner and settings page) and the paths a decision may name."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from ..categories import OPTIONAL
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


class DecisionForm(forms.Form):
    """The banner's and the settings page's plain HTML form: it works without JavaScript.

    `next` is the page to go back to: a path on this site (what the banner sends), or nothing;
    any other value is ignored, and the visitor goes to the settings page. Fields the form does
    not have are refused, as the API refuses them.
    """

    action = forms.ChoiceField(choices=[(a.value, a.label) for a in ACTIONS])
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

    def clean(self) -> dict[str, Any] | None:
        unknown = sorted(set(self.data) - set(self.fields) - FORM_EXTRAS)
        if unknown:
            raise ValidationError(
                _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)}, code="unknown"
            )
        return super().clean()

    def chosen(self) -> dict[str, bool]:
        return {slug: self.cleaned_data[slug] for slug in OPTIONAL}
