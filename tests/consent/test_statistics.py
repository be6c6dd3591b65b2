import datetime
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from consent.categories import OPTIONAL, all_refused
from consent.models import ConsentRecord
from tests.factories import make_auditor, make_published, make_record, make_staff

pytestmark = pytest.mark.django_db

URL = "/audit/statistics/"
D1, D2, D3 = datetime.date(2026, 3, 9), datetime.date(2026, 3, 10), datetime.date(2026, 3, 12)


def record_on(day, **kwargs):
    """Append a record through the real write path, as if on that day at noon (UTC)."""
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=noon):
        return make_record(**kwargs)


def table_row(page, label):
    """Return the cells of the data table's row headed `label`."""
    row = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', page)
    assert row, label
    return re.findall(r"<td>(.*?)</td>", row.group(1))


@pytest.fixture
def auditor_client(client):
    client.force_login(make_auditor())
    return client


def test_decisions_are_counted_per_day_and_event(auditor_client):
    record_on(D1, event="accept_all")
    record_on(D1, event="accept_all")
    record_on(D1, event="reject_all", choices=all_refused())
    record_on(D2, event="gpc", surface="gpc")
    record_on(D3, event="withdraw", choices=all_refused())

    page = auditor_client.get(URL, {"start": "2026-03-09", "end": "2026-03-11"}).content.decode()

    # accept all, reject all, custom, withdraw, GPC, re-consent, total
    assert table_row(page, "2026-03-09") == ["2", "1", "0", "0", "0", "0", "3"]
    assert table_row(page, "2026-03-10") == ["0", "0", "0", "0", "1", "0", "1"]
    assert table_row(page, "2026-03-11") == ["0"] * 7
    assert "2026-03-12" not in page
    assert "<title>2026-03-09: 2 × Accept all</title>" in page
    assert "4 decisions from 2026-03-09 to 2026-03-11" in page


def test_opt_in_rates_are_per_category_and_policy_version_without_gpc(auditor_client):
    for _ in range(3):
        record_on(D1, event="accept_all")
    record_on(D1, event="reject_all", choices=all_refused())
    record_on(D1, event="gpc", surface="gpc", choices=all_refused())
    make_published(body="A new text.")
    record_on(D2, event="custom", choices={"third-party": True, "session": True})

    page = auditor_client.get(URL, {"start": "2026-03-01", "end": "2026-03-31"}).content.decode()

    # decisions, first-party, third-party, session, persistent
    assert table_row(page, "Cookie Policy v2 (en)") == ["4", "75.0%", "75.0%", "75.0%", "75.0%"]
    assert table_row(page, "Cookie Policy v3 (en)") == ["1", "0.0%", "100.0%", "100.0%", "0.0%"]
    assert "Version 3 (en): Third-party allowed in 100.0%" in page


def test_the_page_is_two_aggregate_queries_whatever_the_number_of_records(auditor_client):
    for day in (D1, D2, D3):
        record_on(day)

    with CaptureQueriesContext(connection) as context:
        response = auditor_client.get(URL, {"start": "2026-01-01", "end": "2026-12-31"})

    assert response.status_code == 200
    on_records = [q["sql"] for q in context if "consent_consentrecord" in q["sql"]]
    assert len(on_records) == 2
    assert all("GROUP BY" in sql for sql in on_records)
    assert "DATE_TRUNC('week'" in on_records[0]


def test_without_dates_it_shows_the_last_30_days(auditor_client):
    page = auditor_client.get(URL).content.decode()

    assert page.count('<th scope="row">') == 30
    assert 'type="date" name="start"' in page
    assert "Consent decisions per day" in page


@pytest.mark.parametrize(
    ("start", "end", "heading", "rows"),
    [
        ("2026-01-01", "2026-03-31", "day", 90),
        ("2025-01-01", "2026-06-30", "week", 79),  # from Monday 30 December 2024
        ("2020-01-01", "2026-12-31", "month", 84),
    ],
)
def test_long_ranges_are_counted_per_week_or_month(auditor_client, start, end, heading, rows):
    record_on(D1)

    page = auditor_client.get(URL, {"start": start, "end": end}).content.decode()

    assert f"Consent decisions per {heading}" in page
    assert page.count('<th scope="row">') == rows + 1  # and one a policy version


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"start": "2026-02-30"}, "Enter a valid date."),
        ({"end": "yesterday"}, "Enter a valid date."),
        ({"start": "2026-03-10", "end": "2026-03-01"}, "must not be after the end date"),
        ({"start": "0001-01-01", "end": "9999-12-31"}, "Choose an earlier end date."),
        ({"start": "9990-01-01", "end": "9999-12-30"}, "Choose an earlier end date."),
        ({"start": "9999-12-01", "end": "9999-12-01"}, "Choose an earlier end date."),
        ({"start": "1990-01-01", "end": "2026-01-01"}, "at most 20 years"),
    ],
)
def test_bad_dates_answer_400_with_the_reason(auditor_client, params, error):
    response = auditor_client.get(URL, params)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert '<svg class="chart"' not in response.content.decode()


def test_charts_are_labelled_svg_with_no_script_or_inline_style(auditor_client):
    record_on(D1)

    page = auditor_client.get(URL, {"start": "2026-03-01", "end": "2026-03-31"}).content.decode()

    for chart in ("decisions", "rates"):
        assert f'aria-labelledby="{chart}-title" aria-describedby="{chart}-desc"' in page
        assert f'<title id="{chart}-title">' in page
        assert f'<desc id="{chart}-desc">' in page
    svg = "".join(re.findall(r"<svg class=\"chart\".*?</svg>", page, re.S))
    assert "style=" not in svg
    assert "<script" not in svg
    assert "<table>" in page  # the data behind each chart


def legend_labels(page):
    """Return the text of each legend entry, as the page's HTML holds it."""
    lists = re.findall(r'<ul class="chart-legend">(.*?)</ul>', page, re.S)
    return [
        [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li>(.*?)</li>", ul)] for ul in lists
    ]


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_each_legend_label_is_text_of_the_page_in_full_in_every_language(auditor_client, language):
    """The legend is an HTML list beside each SVG, so the browser lays out every label at its
    own width: none is SVG text placed by a guess of how wide its characters are."""
    from consent.audit.charts import CATEGORY_NAMES

    make_record()
    response = auditor_client.get(URL, HTTP_ACCEPT_LANGUAGE=language)
    page = response.content.decode()
    with translation.override(language):
        events = [str(label) for label in ConsentRecord.Event.labels]
        categories = [str(CATEGORY_NAMES[slug]) for slug in OPTIONAL]

    assert response.headers["Content-Language"] == language
    assert legend_labels(page) == [events, categories]
    if language != "en":
        assert "Accept all" not in legend_labels(page)[0]  # translated, not the English
    svg_text = re.findall(r"<text[^>]*>(.*?)</text>", page)
    assert not set(events + categories) & set(svg_text)


def test_statistics_need_the_permission(client):
    assert client.get(URL)["Location"].startswith("/admin/login/")
    client.force_login(make_staff("consent.view_consentrecord", username="viewer"))
    assert client.get(URL).status_code == 403
    client.force_login(make_staff("consent.view_statistics", username="analyst"))
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize(
    ("start", "end"),
    [("9990-01-01", "9999-11-30"), ("9998-01-01", "9999-11-30"), ("9999-11-30",) * 2],
)
def test_the_last_months_a_date_can_name_are_counted(auditor_client, start, end):
    response = auditor_client.get(URL, {"start": start, "end": end})

    assert response.status_code == 200
    assert '<svg class="chart"' in response.content.decode()


@pytest.mark.parametrize("params", [{}, {"start": "2026-03-01"}, {"start": "soon"}])
def test_the_statistics_are_never_kept_in_a_cache(auditor_client, params):
    response = auditor_client.get(URL, params)

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
