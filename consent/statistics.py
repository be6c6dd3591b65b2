"""Consent statistics for admins and auditors: decisions over time, opt-in rates per version.

Both figures are one GROUP BY each in PostgreSQL, so the page stays fast over millions of
records; the charts are SVG drawn on the server (no script, nothing from another host), each
followed by the same numbers as a table.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, DateField, Q
from django.db.models.functions import Trunc
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from policy.models import PolicyVersion

from .categories import OPTIONAL, field_of
from .models import ConsentRecord
from .replica import read_database

Event = ConsentRecord.Event

# Okabe–Ito colours: told apart with any kind of colour vision.
EVENT_COLOURS = {
    Event.ACCEPT_ALL: "#009E73",
    Event.REJECT_ALL: "#D55E00",
    Event.CUSTOM: "#0072B2",
    Event.WITHDRAW: "#CC79A7",
    Event.GPC: "#E69F00",
    Event.RECONSENT: "#56B4E9",
}
CATEGORY_COLOURS = dict(zip(OPTIONAL, ("#0072B2", "#D55E00", "#009E73", "#CC79A7"), strict=True))
CATEGORY_NAMES = {
    "first-party": _("First-party"),
    "third-party": _("Third-party"),
    "session": _("Session"),
    "persistent": _("Persistent"),
}

DEFAULT_DAYS = 30
MAX_DAYS = 20 * 366
# The periods after the last day shown must be dates too (a month, a week and a day later).
LAST_DAY = datetime.date(9999, 11, 30)


def start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


# Figures --------------------------------------------------------------------------------------


@dataclass
class Period:
    start: datetime.date
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, event: str) -> int:
        return self.counts.get(event, 0)


@dataclass
class VersionRates:
    version: PolicyVersion
    total: int
    allowed: dict[str, int]

    def rate(self, slug: str) -> float:
        return self.allowed[slug] / self.total if self.total else 0.0


def period_kind(start: datetime.date, end: datetime.date) -> str:
    """Return how finely to count: days for up to three months, then weeks, then months."""
    days = (end - start).days + 1
    return "day" if days <= 92 else "week" if days <= 2 * 366 else "month"


def period_name(kind: str) -> str:
    return str({"day": _("day"), "week": _("week"), "month": _("month")}[kind])


def truncate(day: datetime.date, kind: str) -> datetime.date:
    if kind == "week":
        return day - datetime.timedelta(days=day.weekday())  # PostgreSQL's weeks start on Monday
    if kind == "month":
        return day.replace(day=1)
    return day


def next_period(day: datetime.date, kind: str) -> datetime.date:
    if kind == "month":
        return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return day + datetime.timedelta(days=7 if kind == "week" else 1)


def in_range(start: datetime.date, end: datetime.date) -> Q:
    return Q(created_at__gte=start_of(start), created_at__lt=start_of(end) + datetime.timedelta(1))


def decisions(
    start: datetime.date, end: datetime.date, kind: str, using: str = DEFAULT_DB_ALIAS
) -> list[Period]:
    """Return the number of records of each event per period, with empty periods included."""
    rows = (
        ConsentRecord.objects.using(using)
        .filter(in_range(start, end))
        .annotate(period=Trunc("created_at", kind, output_field=DateField()))
        .values_list("period", "event")
        .annotate(n=Count("*"))
        .order_by()
    )
    counts: dict[datetime.date, dict[str, int]] = {}
    for period, event, n in rows:
        counts.setdefault(period, {})[event] = n
    periods = []
    day = truncate(start, kind)
    while day <= end:
        periods.append(Period(day, counts.get(day, {})))
        day = next_period(day, kind)
    return periods


def opt_in_rates(
    start: datetime.date, end: datetime.date, using: str = DEFAULT_DB_ALIAS
) -> list[VersionRates]:
    """Return, per policy version, how many decisions allowed each optional category.

    GPC records are left out: the browser sent them, the visitor chose nothing.
    """
    allowed = {field_of(s): Count("id", filter=Q(**{field_of(s): True})) for s in OPTIONAL}
    rows = list(
        ConsentRecord.objects.using(using)
        .filter(in_range(start, end))
        .exclude(event=Event.GPC)
        .values("policy_version")
        .annotate(total=Count("*"), **allowed)
        .order_by()
    )
    versions = PolicyVersion.objects.using(using).in_bulk([row["policy_version"] for row in rows])
    rates = [
        VersionRates(
            versions[row["policy_version"]],
            row["total"],
            {slug: row[field_of(slug)] for slug in OPTIONAL},
        )
        for row in rows
    ]
    return sorted(rates, key=lambda r: (r.version.language, r.version.number or 0))


# Charts ---------------------------------------------------------------------------------------

WIDTH, HEIGHT = 800, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 40, 40, 48


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Swatch:
    x: float
    colour: str
    text: str

    @property
    def text_x(self) -> float:
        return self.x + 16


@dataclass
class Chart:
    """Geometry for `consent/_chart.svg`, which draws it."""

    id: str
    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    x_labels: list[Label] = field(default_factory=list)
    y_ticks: list[Label] = field(default_factory=list)
    legend: list[Swatch] = field(default_factory=list)

    @property
    def left(self) -> int:
        return LEFT

    @property
    def right(self) -> int:
        return self.width - RIGHT

    @property
    def baseline(self) -> int:
        return self.height - BOTTOM


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Return round tick values from 0 that cover `maximum` (1, 2 or 5 times a power of ten)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(maximum / step) + 1)]


def _frame(chart: Chart, ticks: Sequence[float], fmt: str) -> float:
    """Add the y axis ticks; return how many pixels one unit is high."""
    plot_height = chart.baseline - TOP
    scale = plot_height / ticks[-1]
    chart.y_ticks = [Label(LEFT - 6, chart.baseline - t * scale, fmt.format(t)) for t in ticks]
    return scale


def _legend(chart: Chart, entries: Sequence[tuple[str, str]]) -> None:
    x = float(LEFT)
    for colour, text in entries:
        chart.legend.append(Swatch(x, colour, text))
        x += 22 + 7.5 * len(text)


def decisions_chart(
    periods: Sequence[Period], kind: str, start: datetime.date, end: datetime.date
) -> Chart:
    """Stack each period's events into one bar."""
    total = sum(p.total for p in periods)
    summary = ", ".join(
        f"{Event(e).label}: {sum(p.count(e) for p in periods)}" for e in EVENT_COLOURS
    )
    chart = Chart(
        id="decisions",
        title=gettext("Consent decisions per %(period)s") % {"period": period_name(kind)},
        description=gettext(
            "%(total)d decisions from %(start)s to %(end)s, as stacked bars per %(period)s. "
            "%(summary)s."
        )
        % {
            "total": total,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "period": period_name(kind),
            "summary": summary,
        },
    )
    _legend(chart, [(colour, str(Event(e).label)) for e, colour in EVENT_COLOURS.items()])
    ticks = nice_ticks(max((p.total for p in periods), default=0))
    scale = _frame(chart, ticks, "{:g}")
    slot = (chart.right - LEFT) / len(periods)
    width = max(slot * 0.8, 1.0)
    every = math.ceil(len(periods) / 8)  # room for eight ISO dates
    for i, period in enumerate(periods):
        x = LEFT + i * slot + (slot - width) / 2
        y = float(chart.baseline)
        for event, colour in EVENT_COLOURS.items():
            n = period.count(event)
            if n:
                y -= n * scale
                title = f"{period.start.isoformat()}: {n} × {Event(event).label}"
                chart.bars.append(Bar(x, y, width, n * scale, colour, title))
        if i % every == 0:
            label = period.start.isoformat()[: 7 if kind == "month" else 10]
            chart.x_labels.append(Label(x + width / 2, chart.baseline + 18, label))
    return chart


def version_label(version: PolicyVersion) -> str:
    return f"{version.number} ({version.language})"


def rates_chart(rates: Sequence[VersionRates]) -> Chart:
    """Group four bars (one per optional category) for each policy version."""
    chart = Chart(
        id="rates",
        title=gettext("Opt-in rate per category and policy version"),
        description=" ".join(
            gettext("Version %(version)s, %(total)d decisions: %(rates)s.")
            % {
                "version": version_label(r.version),
                "total": r.total,
                "rates": ", ".join(f"{CATEGORY_NAMES[s]} {r.rate(s):.0%}" for s in OPTIONAL),
            }
            for r in rates
        )
        or gettext("No decisions in this period."),
    )
    _legend(chart, [(CATEGORY_COLOURS[s], str(CATEGORY_NAMES[s])) for s in OPTIONAL])
    scale = _frame(chart, [0, 0.25, 0.5, 0.75, 1.0], "{:.0%}")
    if not rates:
        return chart
    slot = (chart.right - LEFT) / len(rates)
    width = min(slot * 0.8 / len(OPTIONAL), 48)
    for i, r in enumerate(rates):
        x0 = LEFT + i * slot + (slot - width * len(OPTIONAL)) / 2
        for j, slug in enumerate(OPTIONAL):
            height = r.rate(slug) * scale
            title = gettext("Version %(version)s: %(category)s allowed in %(rate)s") % {
                "version": version_label(r.version),
                "category": CATEGORY_NAMES[slug],
                "rate": f"{r.rate(slug):.1%}",
            }
            chart.bars.append(
                Bar(
                    x0 + j * width,
                    chart.baseline - height,
                    width,
                    height,
                    CATEGORY_COLOURS[slug],
                    title,
                )
            )
        label = f"v{version_label(r.version)}"
        chart.x_labels.append(Label(LEFT + (i + 0.5) * slot, chart.baseline + 18, label))
    return chart


# The page -------------------------------------------------------------------------------------


class StatisticsForm(forms.Form):
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    @staticmethod
    def defaults() -> dict[str, datetime.date]:
        today = timezone.now().date()
        return {"start": today - datetime.timedelta(days=DEFAULT_DAYS - 1), "end": today}

    def clean(self) -> dict[str, datetime.date]:
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


def table_rows(periods: Sequence[Period]) -> Iterator[tuple[datetime.date, list[int], int]]:
    for period in periods:
        yield period.start, [period.count(e) for e in EVENT_COLOURS], period.total


@never_cache  # the figures of a day: no cache keeps them for the next reader
@staff_member_required
@permission_required("consent.view_statistics", raise_exception=True)
def statistics_view(request: HttpRequest) -> HttpResponse:
    form = StatisticsForm(request.GET or None, initial=StatisticsForm.defaults())
    context = {
        **admin.site.each_context(request),
        "title": gettext("Consent statistics"),
        "form": form,
    }
    if form.is_bound and not form.is_valid():
        return render(request, "consent/statistics.html", context, status=400)
    dates = form.cleaned_data if form.is_bound else StatisticsForm.defaults()
    start, end = dates["start"], dates["end"]
    kind = period_kind(start, end)
    using = read_database()
    periods = decisions(start, end, kind, using)
    rates = opt_in_rates(start, end, using)
    context |= {
        "start": start,
        "end": end,
        "period": period_name(kind),
        "events": [(Event(e).label, colour) for e, colour in EVENT_COLOURS.items()],
        "categories": [CATEGORY_NAMES[s] for s in OPTIONAL],
        "decisions_chart": decisions_chart(periods, kind, start, end),
        "decision_rows": list(table_rows(periods)),
        "rates_chart": rates_chart(rates),
        "rate_rows": [(r, [f"{r.rate(s):.1%}" for s in OPTIONAL]) for r in rates],
    }
    return render(request, "consent/statistics.html", context)
