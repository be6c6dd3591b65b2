from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.dateparse import parse_datetime
from django.utils.functional import lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .categories import CATEGORIES, NECESSARY, OPTIONAL
from .decisions import ACTIONS
from .log.note import MAX_NOTE
from .models import ConsentRecord

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


def parse_moment(value: str) -> datetime:
    """Return the UTC time an auditor means by `2026-01-31` (midnight UTC) or an ISO 8601 date
    and time (UTC unless it names an offset). Raise ValueError for anything else.
    """
    parsed = parse_datetime(value.strip())
    if parsed is None:
        raise ValueError(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class MomentField(forms.Field):
    """A time typed by a person, read by `parse_moment`: commands and pages accept the same."""

    default_error_messages = {
        "invalid": _(
            "Enter a date such as 2026-01-31 or a date and time such as 2026-01-31T12:00:00Z."
        ),
    }

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        try:
            return parse_moment(str(value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class TimeRangeForm(forms.Form):
    """A period of the consent log: from `since` (included) to `until` (excluded), either open."""

    since = MomentField(
        label=_("Since"), required=False, help_text=_("Included. Empty: from the beginning.")
    )
    until = MomentField(
        label=_("Until"), required=False, help_text=_("Excluded. Empty: up to now.")
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        if since is not None and until is not None and since >= until:
            raise ValidationError(_("“Since” must be earlier than “until”."), code="empty_range")
        return cleaned


# The largest numbers the columns hold (PostgreSQL's integer and bigint): a number typed in
# beyond them is a clear 400, not a query that cannot run.
MAX_INTEGER = 2**31 - 1
MAX_BIGINT = 2**63 - 1


class ExportForm(TimeRangeForm):
    """What an export may be narrowed to, besides its period."""

    consent_id = forms.UUIDField(label=_("Consent ID"), required=False)
    policy_version = forms.IntegerField(
        label=_("Policy version"), required=False, min_value=1, max_value=MAX_INTEGER
    )


class ExportProofForm(ExportForm):
    """An export's filters, and the size of the checkpoint its proof is against."""

    size = forms.IntegerField(
        label=_("Checkpoint size"), required=False, min_value=0, max_value=MAX_BIGINT
    )


class VerifyForm(forms.Form):
    """What the verify page checks the log against besides itself: a checkpoint kept elsewhere.

    There is no period: every entry is part of one tree, and a check of part of it would prove
    nothing of the rest.
    """

    checkpoint = forms.CharField(
        label=_("Kept checkpoint"),
        required=False,
        max_length=MAX_NOTE,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "false"}),
        help_text=_(
            "Optional: a signed checkpoint kept from an earlier day (from /consent-log/checkpoint "
            "or a receipt). The log must have only grown since."
        ),
    )

    def clean_checkpoint(self) -> str:
        text = str(self.cleaned_data["checkpoint"]).replace("\r\n", "\n")
        if text.strip() and not text.endswith("\n"):
            text += "\n"  # a text area may drop the note's final newline
        return text if text.strip() else ""


def error_text(form: forms.Form, options: bool = False) -> str:
    """Return a form's errors one to a line, each after the query parameter it is about, or the
    command-line option with `options` (`--consent-id`).
    """
    lines: list[str] = []
    for field, errors in form.errors.items():
        if field == NON_FIELD_ERRORS:
            name = ""
        else:
            name = f"--{field.replace('_', '-')}: " if options else f"{field}: "
        lines.extend(f"{name}{error}" for error in errors)
    return "\n".join(lines)
