"""The compliance measures are counted without listing every item (for speed at national scale):
the counts must equal the items compliance_items lists, for any dates and visit standards."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

MEASURES_FROM_ITEMS = """
SELECT as_of, team_id, measure, count(*) FILTER (WHERE met) AS numerator, count(*) AS denominator
FROM compliance_items($dates, $cp, $cin, $cla)
WHERE team_id IS NOT NULL
GROUP BY ALL
"""

MEASURES_COUNTED = """
SELECT as_of, team_id, measure, numerator, denominator
FROM compliance_measures($dates, $cp, $cin, $cla)
WHERE denominator > 0
"""

VISITS_LISTED = """
SELECT as_of, team_id, count(*) FILTER (WHERE met) AS numerator, count(*) AS denominator
FROM compliance_state($dates, $cp, $cin, $cla)
WHERE measure = 'visits_in_timescale'
GROUP BY ALL
"""

VISITS_COUNTED = "SELECT as_of, team_id, numerator, denominator FROM visit_compliance_counts($dates, $cp, $cin, $cla)"


def rows(engine, sql, dates, cp, cin, cla):
    cursor = engine.con.cursor()
    try:
        found = cursor.sql(sql, params={"dates": dates, "cp": cp, "cin": cin, "cla": cla}).fetchall()
    finally:
        cursor.close()
    return sorted(found, key=repr)


def every_day(first: dt.date, days: int) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(days)]


def month_ends(last: dt.date, months: int) -> list[dt.date]:
    ends, day = [last], last.replace(day=1)
    for _ in range(months - 1):
        day = day - dt.timedelta(days=1)
        ends.append(day)
        day = day.replace(day=1)
    return ends


STANDARDS = [(10, 20, 42), (1, 1, 1), (5, 3, 10), (25, 40, 90)]


@pytest.mark.parametrize("cp, cin, cla", STANDARDS)
def test_visit_counts_equal_the_listed_plans_on_every_day(sample_engine, cp, cin, cla):
    # Every day of six weeks: working days, weekends and the days either side of each due date.
    dates = every_day(sample_engine.as_of - dt.timedelta(days=41), 42)
    counted = rows(sample_engine, VISITS_COUNTED, dates, cp, cin, cla)
    assert counted == rows(sample_engine, VISITS_LISTED, dates, cp, cin, cla)
    assert sum(r[3] for r in counted) > 1000  # plans were judged on those days
    met = sum(r[2] for r in counted)
    assert 0 < met < sum(r[3] for r in counted) or cp == 25  # some overdue under the usual standards


def test_visit_counts_equal_the_listed_plans_on_month_ends_and_in_the_tiny_extract(sample_engine, tiny_engine):
    for engine in (sample_engine, tiny_engine):
        dates = month_ends(engine.as_of, 24)
        for cp, cin, cla in STANDARDS:
            counted = rows(engine, VISITS_COUNTED, dates, cp, cin, cla)
            assert counted == rows(engine, VISITS_LISTED, dates, cp, cin, cla)
            assert counted


@pytest.mark.parametrize(
    "dates",
    [
        "trend",  # twelve month-ends: overlapping windows
        [dt.date(2025, 3, 31)],
        [dt.date(2024, 1, 15), dt.date(2025, 6, 30)],  # windows far apart
        [dt.date(2025, 2, 28), dt.date(2025, 3, 1), dt.date(2026, 2, 28)],  # a day apart and exactly a year apart
    ],
)
def test_every_measure_counted_equals_its_items_listed(sample_engine, dates):
    if dates == "trend":
        dates = month_ends(sample_engine.as_of, 12)
    counted = rows(sample_engine, MEASURES_COUNTED, dates, 10, 20, 42)
    assert counted == rows(sample_engine, MEASURES_FROM_ITEMS, dates, 10, 20, 42)
    assert {r[2] for r in counted} >= {"assessment_45wd", "visits_in_timescale", "cpp_2_years", "repeat_cpp"}


def test_month_ends_run_back_from_as_of():
    from queries.models.compliance import month_ends

    assert month_ends(dt.date(2026, 3, 31), 3) == [dt.date(2026, 3, 31), dt.date(2026, 2, 28), dt.date(2026, 1, 31)]
    assert month_ends(dt.date(2024, 3, 15), 3) == [dt.date(2024, 3, 15), dt.date(2024, 2, 29), dt.date(2024, 1, 31)]
    assert month_ends(dt.date(2025, 1, 1), 2) == [dt.date(2025, 1, 1), dt.date(2024, 12, 31)]
    assert month_ends(dt.date(2025, 1, 1), 0) == []


def test_trend_from_kept_month_ends_equals_a_fresh_count(sample_dir_engine_pair):
    from queries.models import compliance

    warm, fresh = sample_dir_engine_pair
    warm.run("compliance_trend", months=3)  # keeps three month-ends
    warm.run("compliance_trend", team_id="T1", months=6)
    reused = warm.run("compliance_trend")
    counted_at_once = fresh.run("compliance_trend")
    assert reused.equals(counted_at_once)
    assert reused.height == 12 * 6 * warm.run("team_list").height
    # Each point is the compliance summary on that date.
    last = reused.filter(pl.col("month_end") == warm.as_of).drop("month_end")
    assert last.equals(warm.run("compliance_summary").select(last.columns))
    # Another visit standard is counted, not taken from the kept figures.
    strict = warm.run("compliance_trend", cp_visit_working_days=1, cin_visit_working_days=1, cla_visit_days=1)
    visits = pl.col("measure") == "visits_in_timescale"
    assert strict.filter(visits)["numerator"].sum() < reused.filter(visits)["numerator"].sum()
    assert len(compliance._CACHE) <= compliance._CACHE.limit


def test_kept_month_ends_are_bounded(sample_engine):
    from queries.models import compliance

    sample_engine.run("compliance_trend", months=compliance._CACHE.limit + 5)
    assert len(compliance._CACHE) == compliance._CACHE.limit


@pytest.fixture
def sample_dir_engine_pair():
    from queries.engine import Engine
    from schemas.extract import SAMPLE_DATA, open_extract

    engines = [Engine(open_extract(SAMPLE_DATA)), Engine(open_extract(SAMPLE_DATA))]
    yield engines
    for engine in engines:
        engine.close()
