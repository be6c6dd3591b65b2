"""The figures of the statistics page: decisions over time, opt-in rates per policy version.

Both are one GROUP BY each in PostgreSQL, so the page stays fast over millions of records;
`charts.py` draws them.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, DateField, Q
from django.db.models.functions import Trunc
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from policy.models import PolicyVersion

from ..categories import OPTIONAL, field_of
from ..models import ConsentRecord

Event = ConsentRecord.Event


def start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


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

    def percent(self, slug: str) -> str:
        return f"{self.rate(slug):.1%}"


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


class Table(NamedTuple):
    """A chart's numbers for the table under it: column headings, then rows of a heading cell
    and data cells."""

    head: Sequence[str]
    rows: Sequence[tuple[str, Sequence[object]]]


def decisions_table(periods: Sequence[Period], kind: str) -> Table:
    head = [capfirst(period_name(kind)), *(str(Event(e).label) for e in Event), str(_("Total"))]
    return Table(head, [(p.start.isoformat(), [*map(p.count, Event), p.total]) for p in periods])


def rates_table(rates: Sequence[VersionRates], categories: Sequence[str]) -> Table:
    head = [str(_("Policy version")), str(_("Decisions")), *categories]
    return Table(head, [(str(r.version), [r.total, *map(r.percent, OPTIONAL)]) for r in rates])
