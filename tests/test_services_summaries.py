"""The summary table behind the commissioned-services questions' costs (service_episode_facts).

It holds what does not depend on as_of (each episode's family booking, whether it is the child's first
of the service), so the questions only filter it by date. Pinned here: its values on hand-made cases, and
that the costs read from it are what a window per family booking at as_of (kept below as reference SQL)
gives, on the sample extract at several as_of dates.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_services import by_service, costs_scenario

from queries.models.services import EPISODES_SQL

AS_OFS = [dt.date(2026, 3, 31), dt.date(2025, 9, 30), dt.date(2024, 3, 31), dt.date(2023, 6, 15)]

# The family bookings worked out at as_of with windows (the definition before booking_no was a summary column).
REFERENCE_EPISODE_COSTS_SQL = """
WITH ep AS (
    SELECT se.service_episode_id, se.service_id, se.child_id, se.start_date,
           CASE WHEN se.end_date <= $as_of THEN se.end_date END AS end_date,
           se.cost AS recorded_cost, s.unit_cost, s.cost_unit, se.family_no
    FROM service_episode_facts AS se
    JOIN services AS s ON s.service_id = se.service_id
    WHERE se.start_date <= $as_of
),
family_runs AS (
    SELECT *,
           CASE WHEN start_date <= max(coalesce(end_date, $as_of)) OVER (
                    PARTITION BY family_no, service_id ORDER BY start_date, service_episode_id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                THEN 0 ELSE 1 END AS new_booking
    FROM ep
),
bookings AS (
    SELECT *,
           sum(new_booking) OVER (PARTITION BY family_no, service_id ORDER BY start_date, service_episode_id
                                  ROWS UNBOUNDED PRECEDING) AS booking
    FROM family_runs
)
SELECT service_episode_id, service_id, child_id,
       CASE
           WHEN recorded_cost IS NOT NULL THEN recorded_cost
           WHEN cost_unit = 'week' THEN unit_cost * date_diff('day', start_date, coalesce(end_date, $as_of)) / 7
           WHEN cost_unit = 'family' THEN
               CASE WHEN count(recorded_cost) OVER booking_window > 0 THEN 0.0
                    ELSE unit_cost / count(*) OVER booking_window END
           ELSE unit_cost
       END AS cost
FROM bookings
WINDOW booking_window AS (PARTITION BY family_no, service_id, booking)
ORDER BY service_episode_id
"""


def sql(engine, text: str, as_of: dt.date) -> pl.DataFrame:
    return engine.con.sql(text, params={"as_of": as_of}).pl()


def episode_costs(engine, as_of: dt.date) -> pl.DataFrame:
    text = (
        EPISODES_SQL + "SELECT service_episode_id, service_id, child_id, cost FROM episodes ORDER BY service_episode_id"
    )
    return sql(engine, text, as_of)


@pytest.mark.parametrize("as_of", AS_OFS)
def test_episode_costs_from_the_summary_bookings_match_the_windows_at_as_of(sample_engine, as_of):
    got, expected = episode_costs(sample_engine, as_of), sql(sample_engine, REFERENCE_EPISODE_COSTS_SQL, as_of)
    assert got.height == expected.height > 1000
    assert got.drop("cost").equals(expected.drop("cost"))
    assert (got["cost"] - expected["cost"]).abs().max() < 1e-9
    # first_for_child counts the children who had the service by as_of
    children = sql(
        sample_engine,
        "SELECT service_id, count(*) FILTER (WHERE first_for_child) AS n, count(DISTINCT child_id) AS distinct_n "
        "FROM service_episode_facts WHERE start_date <= $as_of GROUP BY ALL",
        as_of,
    )
    assert children["n"].to_list() == children["distinct_n"].to_list()


def test_service_episode_facts_bookings_and_first_episodes(make_engine):
    engine = make_engine(costs_scenario)
    facts = {
        r["service_episode_id"]: r
        for r in engine.con.sql("SELECT * FROM service_episode_facts").pl().iter_rows(named=True)
    }
    # Siblings K1 and K2's overlapping SF episodes are one booking; K1's later one another.
    assert facts["E5"]["booking_no"] == facts["E6"]["booking_no"] != facts["E7"]["booking_no"]
    # Every other episode is a booking of its own (no overlap within a family and service).
    assert len({f["booking_no"] for f in facts.values()}) == len(facts) - 1
    assert [facts[e]["first_for_child"] for e in ("E5", "E6", "E7", "E10", "E11")] == [True, True, False, True, False]


def test_a_booking_is_charged_to_its_episodes_started_by_as_of(make_engine):
    engine = make_engine(costs_scenario)
    # 10 March 2023: only E5 of the E5 + E6 booking has started: it carries the whole £1,200.
    early = by_service(engine.run("service_outcomes", as_of="2023-03-10"))["SF"]
    assert (early["children"], early["total_cost"]) == (1, 1200.0)
    costs = dict(episode_costs(engine, dt.date(2023, 3, 20)).select("service_episode_id", "cost").iter_rows())
    assert (costs["E5"], costs["E6"]) == (600.0, 600.0)
