"""The auditors' forms: a period of the log, an export's filters, the verify page's kept
checkpoint, the statistics' dates, and the moments `purge_consents` and the pages read the same
way."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from ..log.note import MAX_NOTE


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


# The statistics' dates: the last 30 days unless asked; at most 20 years, ending by LAST_DAY, as
# the periods after the last day shown must be dates too (a month, a week and a day later).
DEFAULT_DAYS = 30
MAX_DAYS = 20 * 366
LAST_DAY = dt.date(9999, 11, 30)


class StatisticsForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    @staticmethod
    def defaults() -> dict[str, dt.date]:
        today = timezone.now().date()
        return {"start": today - dt.timedelta(days=DEFAULT_DAYS - 1), "end": today}

    def clean(self) -> dict[str, dt.date]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        defaults = self.defaults()
        start = cleaned.get("start") or defaults["start"]
        end = cleaned.get("end") or defaults["end"]
        if end > LAST_DAY:
            raise forms.ValidationError(_("Choose an earlier end date."))
        if start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(_("Choose a range of at most 20 years."))
        return {"start": start, "end": end}
