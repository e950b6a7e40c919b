"""The compliance trend: the compliance summary's measures at each of the last months' ends.

Each date's measures for every team come from the compliance_measures macro and are kept per
engine (whose extract does not change under it), date and visit standards. A month-end's
figures never depend on the other dates asked with it, so another team, a shorter trend or a
later as_of in the same month reuse the month-ends already counted; at national scale counting
twelve month-ends takes about 2 s.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from queries.engine import engine_instance
from queries.kept import KeptAnswers
from queries.registry import python_query

MEASURES_SQL = """
SELECT as_of, team_id, measure, numerator, denominator, pct, label, higher_is_better, measure_order
FROM compliance_measures($dates::DATE[], $cp, $cin, $cla)
"""
MAX_CACHED_DATES = 48  # every team's six measures on a date: about 15,000 rows for all of England

_CACHE = KeptAnswers(MAX_CACHED_DATES)


def month_ends(as_of: dt.date, months: int) -> list[dt.date]:
    """as_of, then the last day of each of the months - 1 months before as_of's month."""
    dates, first_of_month = [], as_of.replace(day=1)
    for i in range(max(months, 0)):
        if i == 0:
            dates.append(as_of)
        else:
            dates.append(first_of_month - dt.timedelta(days=1))
            first_of_month = dates[-1].replace(day=1)
    return dates


def measures_on(cursor, dates: list[dt.date], cp: int, cin: int, cla: int) -> pl.DataFrame:
    """Every team's compliance measures on each date (compliance_measures), counting only dates not kept."""
    engine = engine_instance(cursor)
    keys = {day: (engine, day, cp, cin, cla) for day in dict.fromkeys(dates)}
    kept = {day: _CACHE.get(key) for day, key in keys.items()}
    missing = [day for day, measures in kept.items() if measures is None]
    if missing or not keys:
        counted = cursor.sql(MEASURES_SQL, params={"dates": missing, "cp": cp, "cin": cin, "cla": cla}).pl()
        if not keys:
            return counted
        by_date = counted.partition_by("as_of", as_dict=True)
        for day in missing:  # a date with no teams still has an (empty) answer
            kept[day] = by_date.get((day,), counted.clear())
            _CACHE.put(keys[day], kept[day])
    return pl.concat([kept[day] for day in keys])


@python_query(
    "compliance_trend",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager"),
    counts=[["numerator", "denominator"]],
    derived={"pct": ["numerator", "denominator"]},
    suppress_within=["month_end", "measure"],
    title="Compliance trend",
    description="The compliance summary's measures at the end of each of the last 12 months (the latest point is "
    "as_of itself), per team, so a manager can see whether practice is drifting.",
    tables=["teams", "referrals", "assessments"],
    optional_tables=["section47", "cp_plans", "cp_reviews", "cin_plans", "looked_after", "visits"],
    params=[
        "as_of date = as_of ; the last point of the trend",
        "months int = 12 ; how many month-ends to show",
        "team_id str = null ; only this team",
        "cp_visit_working_days int = setting ; CP visit standard in working days",
        "cin_visit_working_days int = setting ; CIN visit standard in working days",
        "cla_visit_days int = setting ; looked-after visit standard in calendar days",
    ],
)
def compliance_trend(
    cursor, as_of, months, team_id, cp_visit_working_days, cin_visit_working_days, cla_visit_days
) -> pl.DataFrame:
    measures = measures_on(
        cursor, month_ends(as_of, months), cp_visit_working_days, cin_visit_working_days, cla_visit_days
    )
    if team_id is not None:
        measures = measures.filter(pl.col("team_id") == team_id)
    return measures.sort("team_id", "measure_order", "as_of").select(
        pl.col("as_of").alias("month_end"),
        "team_id",
        "measure",
        "numerator",
        "denominator",
        "pct",
        "label",
        "higher_is_better",
    )
