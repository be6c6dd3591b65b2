from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .categories import OPTIONAL
from .decisions import ACTIONS
from .models import ConsentRecord


class DecisionForm(forms.Form):
    """The banner's and the settings page's plain HTML form: it works without JavaScript."""

    action = forms.ChoiceField(choices=[(a.value, a.label) for a in ACTIONS])
    surface = forms.ChoiceField(
        choices=[
            (s.value, s.label)
            for s in (ConsentRecord.Surface.BANNER, ConsentRecord.Surface.SETTINGS)
        ]
    )
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The category slugs contain hyphens, so the switches are added by name.
        for slug in OPTIONAL:
            self.fields[slug] = forms.BooleanField(required=False, label=_(slug))

    def chosen(self) -> dict[str, bool]:
        return {slug: self.cleaned_data[slug] for slug in OPTIONAL}
