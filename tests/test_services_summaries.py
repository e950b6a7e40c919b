"""The summary tables behind the commissioned-services questions.

service_episode_facts (costs), closed_referral_strata and service_episode_strata (the comparison).

They hold what does not depend on as_of, so the questions only filter them by date. Pinned here: their
values on hand-made cases, and that the questions read from them give what the direct definitions (kept
below as reference SQL: a window per family booking, and "of the kind" worked out from the plan and care
tables at as_of) give, on the sample extract at several as_of dates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from test_services import SERVICES, by_service, child, costs_scenario, episode

from helpers import referral, rows_frame
from queries.kept import KeptAnswers
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

# The comparison's strata worked out from the plan and care tables at as_of (before closed_referral_strata and
# service_episode_strata), and its referrals of the kind by as_of.
REFERENCE_STRATA_SQL = """
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
),
-- The facts fixed once a referral is closed, worked out directly: the distinct factors (not code 21) recorded by
-- its first authorised assessment (else its referral date), another referral 1 to 365 days after the closure,
-- and whether that could be recorded here at all (not died, moved away or turned 18 within the year).
facts AS (
    SELECT k.referral_id,
           (SELECT count(DISTINCT f.factor_code) FROM factors AS f
            WHERE f.child_id = k.child_id AND f.factor_code <> '21'
              AND f.recorded_date <= coalesce(
                  (SELECT min(a.authorised_date) FROM assessments AS a WHERE a.referral_id = k.referral_id),
                  k.referral_date)) AS factors_at_start,
           EXISTS (SELECT 1 FROM referrals AS x
                   WHERE x.child_id = k.child_id
                     AND x.referral_date > k.closure_date AND x.referral_date <= k.closure_date + 365)
               AS rereferred_within_365,
           coalesce(r.closure_reason IN ('RC2', 'RC5', 'RC6'), false)
               OR coalesce(ch.birth_date + INTERVAL 18 YEAR <= k.closure_date + 365, false) AS cannot_be_judged
    FROM kind AS k
    JOIN referrals AS r ON r.referral_id = k.referral_id
    LEFT JOIN children AS ch ON ch.child_id = k.child_id
),
stratified AS (
    SELECT k.referral_id, k.child_id,
           coalesce(r.primary_need, 'N0') AS primary_need,
           age_band(ch.birth_date, k.referral_date) AS age_band,
           CASE WHEN cf.factors_at_start <= 1 THEN '0-1' WHEN cf.factors_at_start <= 3 THEN '2-3' ELSE '4+' END
               AS factor_band,
           t.service_area,
           NOT cf.rereferred_within_365 AS success
    FROM kind AS k
    JOIN referrals AS r ON r.referral_id = k.referral_id
    JOIN children AS ch ON ch.child_id = k.child_id
    JOIN teams AS t ON t.team_id = k.team_id
    -- a child who died, moved away or turned 18 within the year is left out
    JOIN facts AS cf ON cf.referral_id = k.referral_id AND NOT cf.cannot_be_judged
),
used AS (
    SELECT DISTINCT service_id, referral_id
    FROM service_episodes
    WHERE referral_id IS NOT NULL AND start_date <= $as_of
),
treated AS (
    SELECT se.service_id, s.primary_need, s.age_band, s.factor_band, s.service_area,
           count(*) AS n, count(*) FILTER (WHERE s.success) AS x
    FROM service_episodes AS se
    JOIN stratified AS s ON s.referral_id = se.referral_id
    WHERE se.start_date <= $as_of
    GROUP BY ALL
),
-- The comparison pool of a service in a stratum: every referral of the kind there, less those the service
-- was used on (counted, rather than pairing every service with every referral).
strata_totals AS (
    SELECT primary_need, age_band, factor_band, service_area, count(*) AS n, count(*) FILTER (WHERE success) AS x
    FROM stratified
    GROUP BY ALL
),
used_counts AS (
    SELECT u.service_id, s.primary_need, s.age_band, s.factor_band, s.service_area,
           count(*) AS n, count(*) FILTER (WHERE s.success) AS x
    FROM used AS u
    JOIN stratified AS s ON s.referral_id = u.referral_id
    GROUP BY ALL
),
pool AS (
    SELECT v.service_id, st.primary_need, st.age_band, st.factor_band, st.service_area,
           st.n - coalesce(uc.n, 0) AS n, st.x - coalesce(uc.x, 0) AS x
    FROM services AS v
    CROSS JOIN strata_totals AS st
    LEFT JOIN used_counts AS uc
        ON uc.service_id = v.service_id AND uc.primary_need IS NOT DISTINCT FROM st.primary_need
       AND uc.age_band IS NOT DISTINCT FROM st.age_band AND uc.factor_band IS NOT DISTINCT FROM st.factor_band
       AND uc.service_area IS NOT DISTINCT FROM st.service_area
    WHERE st.n - coalesce(uc.n, 0) > 0
)
SELECT t.service_id, t.primary_need, t.age_band, t.factor_band, t.service_area,
       t.n AS service_n, t.x AS service_x, coalesce(p.n, 0) AS pool_n, coalesce(p.x, 0) AS pool_x
FROM treated AS t
LEFT JOIN pool AS p USING (service_id, primary_need, age_band, factor_band, service_area)
ORDER BY ALL
"""

REFERENCE_STRATIFIED_SQL = (
    REFERENCE_STRATA_SQL.split("\nused AS (")[0].rstrip().rstrip(",")
    + "\nSELECT * EXCLUDE (child_id) FROM stratified ORDER BY referral_id"
)

# The referrals of the kind by as_of, as the question reads them.
STRATIFIED_SQL = """
SELECT referral_id, primary_need, age_band, factor_band, service_area, success
FROM closed_referral_strata
WHERE closure_date <= $as_of - 365 AND kind_from <= $as_of
ORDER BY referral_id
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


@pytest.mark.parametrize("as_of", AS_OFS)
def test_stratified_referrals_from_the_summary_match_the_definition_at_as_of(sample_engine, as_of):
    got, expected = sql(sample_engine, STRATIFIED_SQL, as_of), sql(sample_engine, REFERENCE_STRATIFIED_SQL, as_of)
    assert expected.height > (100 if as_of.year > 2024 else 0)
    assert got.equals(expected)


@pytest.mark.parametrize("as_of", AS_OFS)
def test_comparison_strata_from_the_summaries_match_the_definition_at_as_of(sample_engine, as_of):
    got, expected = sql(sample_engine, STRATA_SQL, as_of), sql(sample_engine, REFERENCE_STRATA_SQL, as_of)
    assert expected.height > (50 if as_of.year > 2024 else 0)
    assert got.select(expected.columns).equals(expected)
    # The stratum's per-family moments (for the family bootstrap) add up to its totals.
    assert (got["stratum_n"] >= got["pool_n"]).all() and (got["stratum_nn"] >= got["stratum_n"]).all()


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
    Service SS on each (twice on R_B).
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
        "service_episodes",
        [episode(f"E_{i}", "SS", f"K_{i}", f"R_{i}", "2023-03-01", "2023-06-01") for i in ids]
        + [episode("E_B0", "SS", "K_B", "R_B", "2023-02-01", "2023-02-20")],  # R_B's first episode of SS
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


def test_service_episode_strata_first_episode_on_a_referral(make_engine):
    engine = make_engine(kind_scenario)
    # R_B (of the kind from its referral date): E_B0 (1 Feb 2023) is SS's first episode on it, E_B (1 March) not.
    rows = engine.con.sql(
        "SELECT start_date, first_for_referral, stratum_no FROM service_episode_strata "
        "WHERE kind_from = DATE '2023-01-10' ORDER BY start_date"
    ).fetchall()
    assert rows == [(dt.date(2023, 2, 1), True, 1), (dt.date(2023, 3, 1), False, 1)]
    # Four referrals of the kind (R_C, R_E never are), five episodes.
    assert engine.con.sql("SELECT count(*) FROM service_episode_strata").fetchall() == [(5,)]
    # 2026: SS's 5 episodes on 4 referrals, one stratum; every referral of the kind used SS: no pool.
    strata = sql(engine, STRATA_SQL, dt.date(2026, 3, 31))
    assert strata.select("service_n", "service_x", "pool_n", "pool_x").row(0) == (5, 5, 0, 0)


def test_a_bootstrap_interval_is_kept_for_the_same_figures(monkeypatch):
    import queries.models.services as services

    calls = []
    compute = services._bootstrap_ratio_interval
    monkeypatch.setattr(services, "_bootstrap_ratio_interval", lambda *a: calls.append(a) or compute(*a))
    monkeypatch.setattr(services, "_BOOTSTRAP_CACHE", KeptAnswers(services._BOOTSTRAP_CACHE.limit))
    cost, successes = [1000.0, 2000.0, 1500.0, 900.0], [1, 2, 0, 1]
    first = services.bootstrap_ratio_interval(cost, successes, "SVX")
    assert services.bootstrap_ratio_interval(np.array(cost), np.array(successes), "SVX") == first
    assert len(calls) == 1  # the same figures: not resampled again
    other_key = services.bootstrap_ratio_interval(cost, successes, "SVY")
    other_data = services.bootstrap_ratio_interval(cost, [1, 2, 1, 1], "SVX")
    assert len(calls) == 3 and other_data != first
    assert first == compute(np.array(cost, dtype=float), np.array(successes, dtype=float), "SVX", 1000, 0.95)
    assert other_key == compute(np.array(cost, dtype=float), np.array(successes, dtype=float), "SVY", 1000, 0.95)
