"""The summary tables behind the commissioned-services questions (service_episode_facts, closed_referral_strata).

They hold what does not depend on as_of, so the questions only filter them by date. Pinned here: their
values on hand-made cases, and that the questions read from them give what the direct definitions (kept
below as reference SQL: a window per family booking, and "of the kind" worked out from the plan and care
tables at as_of) give, on the sample extract at several as_of dates.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from test_services import SERVICES, by_service, child, costs_scenario, episode

from helpers import referral, rows_frame
from queries.models.services import EPISODES_SQL, STRATA_SQL

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

# "Of the kind" and the strata worked out from the plan and care tables at as_of (before closed_referral_strata).
REFERENCE_STRATIFIED_SQL = """
WITH kind AS (
    SELECT r.referral_id, r.child_id, r.referral_date, r.closure_date, r.team_id
    FROM referrals AS r
    WHERE NOT r.nfa AND r.closure_date IS NOT NULL AND r.closure_date <= $as_of - 365
      AND (
          EXISTS (SELECT 1 FROM cin_plans AS p WHERE p.referral_id = r.referral_id AND p.start_date <= $as_of)
          OR EXISTS (
              SELECT 1 FROM cp_plans AS p
              WHERE p.start_date <= $as_of
                AND (p.referral_id = r.referral_id
                     OR (p.referral_id IS NULL AND p.child_id = r.child_id AND p.start_date <= r.closure_date
                         AND coalesce(p.end_date, $as_of) >= r.referral_date)))
          OR EXISTS (
              SELECT 1 FROM looked_after AS l
              WHERE l.child_id = r.child_id AND l.start_date <= r.closure_date
                AND coalesce(l.end_date, $as_of) >= r.referral_date)
      )
)
SELECT k.referral_id,
       coalesce(r.primary_need, 'N0') AS primary_need,
       age_band(ch.birth_date, k.referral_date) AS age_band,
       CASE WHEN cf.factors_by_closure <= 1 THEN '0-1' WHEN cf.factors_by_closure <= 3 THEN '2-3' ELSE '4+' END
           AS factor_band,
       t.service_area,
       NOT cf.rereferred_within_365 AS success
FROM kind AS k
JOIN referrals AS r ON r.referral_id = k.referral_id
JOIN children AS ch ON ch.child_id = k.child_id
JOIN teams AS t ON t.team_id = k.team_id
JOIN closed_referral_facts AS cf ON cf.referral_id = k.referral_id
ORDER BY k.referral_id
"""

# The stratified referrals as the question reads them.
STRATIFIED_SQL = STRATA_SQL.split("),\n-- Each service")[0] + ")\nSELECT * FROM stratified ORDER BY referral_id"


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


@pytest.mark.parametrize("as_of", AS_OFS)
def test_stratified_referrals_from_the_summary_match_the_definition_at_as_of(sample_engine, as_of):
    got, expected = sql(sample_engine, STRATIFIED_SQL, as_of), sql(sample_engine, REFERENCE_STRATIFIED_SQL, as_of)
    assert expected.height > (100 if as_of.year > 2024 else 0)
    assert got.equals(expected)


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


def test_a_cost_recorded_on_a_later_episode_of_the_booking_counts_once_it_has_started(make_engine):
    def edit(tables):
        tables = costs_scenario(tables)
        tables["service_episodes"] = tables["service_episodes"].with_columns(
            cost=pl.when(pl.col("service_episode_id") == "E6").then(1300.0).otherwise(pl.col("cost"))
        )
        return tables

    engine = make_engine(edit)
    assert by_service(engine.run("service_outcomes", as_of="2023-03-10"))["SF"]["total_cost"] == 1200.0
    costs = dict(episode_costs(engine, dt.date(2023, 3, 20)).select("service_episode_id", "cost").iter_rows())
    assert (costs["E5"], costs["E6"]) == (0.0, 1300.0)


def kind_scenario(tables):
    """Referrals R_A … R_F (children K_A … K_F), each referred 10 Jan 2023 and closed 10 Jan 2024, team T1:

    R_A: a CIN plan recorded on it that started 1 June 2025 (after the closure): of the kind from then;
    R_B: a CP plan with no referral, from June 2022 and still open: of the kind from the referral date;
    R_C: a CP plan with no referral that ended before the referral: never;
    R_D: a period in care May to August 2023: of the kind (from its start);
    R_E: a period in care that started after the closure: never;
    R_F: a CP plan recorded on it from 1 March 2023.
    """
    ids = "ABCDEF"
    tables["children"] = rows_frame("children", [child(f"K_{i}", None) for i in ids])
    tables["referrals"] = rows_frame(
        "referrals", [referral(f"R_{i}", f"K_{i}", "2023-01-10", closed="2024-01-10") for i in ids]
    )
    tables["cin_plans"] = rows_frame(
        "cin_plans",
        [{"cin_plan_id": "N1", "child_id": "K_A", "referral_id": "R_A", "start_date": "2025-06-01", "end_date": None}],
    )
    cp = {"initial_category": "NEG", "latest_category": "NEG"}
    tables["cp_plans"] = rows_frame(
        "cp_plans",
        [
            {"cp_plan_id": "P1", "child_id": "K_B", "referral_id": None, "start_date": "2022-06-01", "end_date": None}
            | cp,
            {"cp_plan_id": "P2", "child_id": "K_C", "referral_id": None, "start_date": "2022-01-01",
             "end_date": "2022-12-31"} | cp,
            {"cp_plan_id": "P3", "child_id": "K_F", "referral_id": "R_F", "start_date": "2023-03-01",
             "end_date": "2023-09-01"} | cp,
        ],
    )  # fmt: skip
    care = {"placement_provider": "C2", "placement_type": "U3", "weekly_cost": None}
    tables["looked_after"] = rows_frame(
        "looked_after",
        [
            {"episode_id": "L1", "child_id": "K_D", "start_date": "2023-05-01", "end_date": "2023-08-01"} | care,
            {"episode_id": "L2", "child_id": "K_E", "start_date": "2024-02-01", "end_date": None} | care,
        ],
    )
    tables["services"] = rows_frame("services", [SERVICES[2]])
    tables["service_episodes"] = rows_frame(
        "service_episodes", [episode(f"E_{i}", "SS", f"K_{i}", f"R_{i}", "2023-03-01", "2023-06-01") for i in ids]
    )
    return tables


def test_closed_referral_strata_kind_from(make_engine):
    engine = make_engine(kind_scenario)
    strata = engine.con.sql("SELECT * FROM closed_referral_strata ORDER BY referral_id").pl()
    assert dict(strata.select("referral_id", "kind_from").iter_rows()) == {
        "R_A": dt.date(2025, 6, 1), "R_B": dt.date(2023, 1, 10), "R_D": dt.date(2023, 5, 1),
        "R_F": dt.date(2023, 3, 1),
    }  # fmt: skip
    row = strata.row(0, named=True)
    assert (row["primary_need"], row["age_band"], row["factor_band"], row["service_area"], row["success"]) == (
        "N1", "5-9", "0-1", "assessment", True,
    )  # fmt: skip
    # The question keeps R_A once its plan has started; the others from a year after the closure.
    for as_of, expected in [("2025-03-31", 3), ("2026-03-31", 4)]:
        assert by_service(engine.run("service_comparison", as_of=as_of))["SS"]["matched"] == 0  # no one to compare
        on = dt.date.fromisoformat(as_of)
        assert sql(engine, STRATIFIED_SQL, on).height == expected
        assert sql(engine, STRATIFIED_SQL, on).equals(sql(engine, REFERENCE_STRATIFIED_SQL, on))
