"""The statistics page's charts, drawn as SVG on the server: no script, no inline style (the
Content-Security-Policy allows neither), nothing from another host. pygal and matplotlib were
not taken because their SVG carries inline styles.

Each chart is geometry for `consent/_chart.svg`; its legend is HTML beside it (the
`chart-legend` list of `consent/statistics.html`), so the browser, not a guess of a character's
width, lays out labels in any language.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from policy.models import PolicyVersion

from ..categories import OPTIONAL
from ..models import ConsentRecord
from .figures import Period, VersionRates, period_name

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

WIDTH, HEIGHT = 800, 320
# The top leaves room for the highest tick's label; the legend is not in the SVG.
LEFT, RIGHT, TOP, BOTTOM = 56, 40, 16, 48


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
    """One entry of a chart's legend: a colour and what it stands for, shown as HTML text."""

    colour: str
    text: str


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
    chart.legend = [Swatch(colour, str(Event(e).label)) for e, colour in EVENT_COLOURS.items()]
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
    chart.legend = [Swatch(CATEGORY_COLOURS[s], str(CATEGORY_NAMES[s])) for s in OPTIONAL]
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
