"""Commissioned services: cost, success, comparison, spend by month and placement costs.

Definitions pinned on hand-made tiny extracts (as_of 31 March 2026, so as_of − 365 days is 31 March 2025),
the Newcombe interval on the published example, and the planted service differences of the sample.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from helpers import referral, rows_frame
from queries.models.services import bootstrap_ratio_interval, verdict_text
from queries.stats import newcombe_difference_interval

AS_OF = dt.date(2026, 3, 31)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def child(cid: str, family: str | None, born: str = "2015-05-01") -> dict:
    return {"child_id": cid, "family_id": family, "sex": "F", "birth_date": born, "ethnicity": "WBRI"}


def episode(eid, service, child_id, referral_id, start, end=None, exit_reason=None, cost=None) -> dict:
    return {
        "service_episode_id": eid, "service_id": service, "child_id": child_id, "referral_id": referral_id,
        "start_date": start, "end_date": end, "exit_reason": exit_reason or ("ongoing" if end is None else "completed"),
        "cost": cost,
    }  # fmt: skip


SERVICES = [
    {"service_id": "SF", "service_name": "Family meeting", "provider": "P", "category": "family_group_conference",
     "commissioning": "block", "unit_cost": 1200.0, "cost_unit": "family"},
    {"service_id": "SW", "service_name": "Weekly support", "provider": "P", "category": "other",
     "commissioning": "spot", "unit_cost": 350.0, "cost_unit": "week"},
    {"service_id": "SS", "service_name": "Parenting sessions", "provider": "P", "category": "parenting_programme",
     "commissioning": "framework", "unit_cost": 80.0, "cost_unit": "session"},
]  # fmt: skip


def costs_scenario(tables):
    """K1 and K2 are siblings (family FA); K3 has no family_id; K4, K5, K6 are families of one.

    RA (K3) closed 365 days before as_of: assessable, success. RB (K4) closed 364 days before: not yet.
    RC (K5) closed 10 Jan 2024, re-referred on day 365 (9 Jan 2025): failure.
    RD (K6) closed 10 Jan 2024, re-referred on day 366 (10 Jan 2025): success.
    RF1/RF2 (K1/K2) closed 10 Jan 2024, never re-referred: two successes in one family.
    """
    tables["children"] = rows_frame(
        "children",
        [child("K1", "FA"), child("K2", "FA"), child("K3", None), child("K4", "FB"), child("K5", "FC"),
         child("K6", "FD")],
    )  # fmt: skip
    tables["referrals"] = rows_frame(
        "referrals",
        [
            referral("RA", "K3", "2024-06-01", closed="2025-03-31"),
            referral("RB", "K4", "2024-06-01", closed="2025-04-01"),
            referral("RC", "K5", "2023-01-01", closed="2024-01-10"),
            referral("RC2", "K5", "2025-01-09", nfa=True),
            referral("RD", "K6", "2023-01-01", closed="2024-01-10"),
            referral("RD2", "K6", "2025-01-10", nfa=True),
            referral("RF1", "K1", "2023-01-01", closed="2024-01-10"),
            referral("RF2", "K2", "2023-01-01", closed="2024-01-10"),
        ],
    )
    tables["services"] = rows_frame("services", SERVICES)
    tables["service_episodes"] = rows_frame(
        "service_episodes",
        [
            # per session: the unit cost once, unless a cost is recorded
            episode("E1", "SS", "K3", "RA", "2024-07-01", "2024-09-01"),
            episode("E2", "SS", "K4", "RB", "2024-07-01", "2024-09-01", "disengaged"),
            episode("E3", "SS", "K5", "RC", "2023-02-01", "2023-04-01", cost=500.0),
            episode("E4", "SS", "K6", "RD", "2023-02-01", "2023-04-01", "other"),
            # per family: siblings' overlapping episodes are one booking, charged once; a later one is charged again
            episode("E5", "SF", "K1", "RF1", "2023-03-01", "2023-05-01"),
            episode("E6", "SF", "K2", "RF2", "2023-03-15", "2023-05-20"),
            episode("E7", "SF", "K1", None, "2025-06-01", "2025-08-01"),
            # per week: (end, or as_of when open, − start) / 7 weeks, fractional
            episode("E8", "SW", "K3", None, "2026-03-03"),  # open: 28 days to as_of
            episode("E9", "SW", "K5", "RC", "2023-02-01", "2023-02-11"),  # 10 days
            episode("E10", "SW", "K6", None, "2026-02-15", "2026-03-15"),  # 28 days: 14 in Feb, 14 in Mar
            episode("E11", "SW", "K6", None, "2026-04-02", "2026-04-20"),  # after as_of: not counted
        ],
    )
    return tables


def by_service(frame: pl.DataFrame) -> dict:
    return {r["service_id"]: r for r in frame.iter_rows(named=True)}


def test_required_columns_in_contract_order(tiny_engine):
    result = tiny_engine.run("service_outcomes")
    assert result.columns[:11] == [
        "service_id", "service_name", "children", "total_cost", "cost_per_child", "assessable", "successes",
        "success_rate", "ci_low", "ci_high", "cost_per_success",
    ]  # fmt: skip
    # The tiny extract: SE1 (R1 closed 15 Oct 2025, too recent), SE2 open MST, SE3 without a referral.
    rows = by_service(result)
    assert rows["SV1"]["total_cost"] == 1200.0 and rows["SV1"]["not_yet_assessable"] == 1
    # MST £450 a week, open since 1 Aug 2025: 242 days to as_of.
    assert rows["SV2"]["total_cost"] == pytest.approx(450 * 242 / 7)
    assert rows["SV3"]["total_cost"] == 80.0  # per session: once
    assert all(r["assessable"] == 0 and r["success_rate"] is None for r in rows.values())


def test_costs_success_and_assessability_by_hand(make_engine):
    rows = by_service(make_engine(costs_scenario).run("service_outcomes"))
    sessions = rows["SS"]
    # E1 80 + E2 80 + E3 500 (recorded) + E4 80.
    assert (sessions["children"], sessions["total_cost"], sessions["cost_per_child"]) == (4, 740.0, 185.0)
    # RA closed exactly 365 days before as_of: assessable; RB 364 days: not yet.
    assert (sessions["assessable"], sessions["not_yet_assessable"]) == (3, 1)
    # E1 (no new referral) and E4 (re-referral on day 366) succeed; E3 (day 365) fails.
    assert sessions["successes"] == 2
    assert sessions["success_rate"] == pytest.approx(2 / 3)
    # The interval resamples the three families: all three failures has chance (1/3)³ = 3.7% (above the 2.5% tail)
    # and all three successes (2/3)³ = 30%, so the 95% percentile interval is exactly 0 to 1.
    assert (sessions["ci_low"], sessions["ci_high"]) == (0.0, 1.0)
    assert sessions["cost_per_success"] == pytest.approx((80 + 500 + 80) / 2)
    assert (sessions["completed"], sessions["disengaged"], sessions["other_exit"], sessions["ongoing"]) == (2, 1, 1, 0)

    family = rows["SF"]
    # Siblings K1 and K2 overlapping: one booking of £1,200 (£600 each); K1's later episode: another £1,200.
    assert (family["children"], family["total_cost"], family["cost_per_child"]) == (2, 2400.0, 1200.0)
    assert (family["assessable"], family["successes"], family["cost_per_success"]) == (2, 2, 600.0)
    # One family: every bootstrap resample is that family, so the interval is the point.
    assert (family["cost_per_success_low"], family["cost_per_success_high"]) == (600.0, 600.0)

    weekly = rows["SW"]
    # E8 open: 350 × 28/7 = 1400; E9 350 × 10/7 = 500; E10 350 × 28/7 = 1400; E11 starts after as_of.
    assert (weekly["children"], weekly["total_cost"]) == (3, pytest.approx(3300.0))
    assert (weekly["assessable"], weekly["successes"], weekly["cost_per_success"]) == (1, 0, None)
    assert weekly["ongoing"] == 1


def test_the_boundaries_move_with_as_of(make_engine):
    engine = make_engine(costs_scenario)
    # One day later, RB (closed 1 April 2025) is exactly 365 days old: assessable, and a success.
    later = by_service(engine.run("service_outcomes", as_of="2026-04-01"))["SS"]
    assert (later["assessable"], later["successes"]) == (4, 3)
    # On 10 March 2026 E8 has run 7 days and E10 is still open after 23 days; on 1 March E8 had not started.
    earlier = by_service(engine.run("service_outcomes", as_of="2026-03-10"))["SW"]
    assert earlier["total_cost"] == pytest.approx(500 + 350 * 23 / 7 + 350 * 7 / 7)
    assert earlier["ongoing"] == 2
    first = by_service(engine.run("service_outcomes", as_of="2026-03-01"))["SW"]
    assert (first["children"], first["ongoing"]) == (2, 1)


def test_a_recorded_cost_on_a_family_booking_is_not_doubled(make_engine):
    def edit(tables):
        tables = costs_scenario(tables)
        tables["service_episodes"] = tables["service_episodes"].with_columns(
            cost=pl.when(pl.col("service_episode_id") == "E5").then(1300.0).otherwise(pl.col("cost"))
        )
        return tables

    family = by_service(make_engine(edit).run("service_outcomes"))["SF"]
    # The booking E5 + E6 costs what was recorded (1,300), not 1,300 + a share of the unit cost.
    assert family["total_cost"] == 1300.0 + 1200.0


def test_bootstrap_resamples_families_with_a_fixed_seed():
    cost = [1000.0, 2000.0, 1500.0, 900.0, 3000.0]
    successes = [1, 2, 0, 1, 1]
    first = bootstrap_ratio_interval(cost, successes, "SVX")
    assert first == bootstrap_ratio_interval(cost, successes, "SVX")  # deterministic
    low, high = first
    assert low < sum(cost) / sum(successes) < high
    assert bootstrap_ratio_interval([500.0], [1], "SVX") == (500.0, 500.0)
    assert bootstrap_ratio_interval([500.0, 10.0], [0, 0], "SVX") == (None, None)
    # A family of two siblings who both succeed is one unit: merging siblings narrows nothing spuriously.
    assert bootstrap_ratio_interval([1200.0], [2], "SVX") == (600.0, 600.0)


def test_spend_by_month_spreads_weekly_costs(make_engine):
    spend = make_engine(costs_scenario).run("service_spend_by_month")
    assert spend.columns[:4] == ["month", "commissioning", "service_id", "spend"]
    got = {(r["month"], r["service_id"]): r["spend"] for r in spend.iter_rows(named=True)}
    assert got[(day("2026-02-01"), "SW")] == pytest.approx(700.0)  # E10: 14 of its 28 days
    assert got[(day("2026-03-01"), "SW")] == pytest.approx(700.0 + 1400.0)  # E10's other half + E8
    assert got[(day("2023-02-01"), "SW")] == pytest.approx(500.0)
    assert got[(day("2023-03-01"), "SF")] == 1200.0  # one-off, in the start month
    assert got[(day("2025-06-01"), "SF")] == 1200.0
    # Spread or not, the months add up to the total cost.
    totals = by_service(make_engine(costs_scenario).run("service_outcomes"))
    for service_id, row in totals.items():
        assert spend.filter(service_id=service_id)["spend"].sum() == pytest.approx(row["total_cost"])
    recent = make_engine(costs_scenario).run("service_spend_by_month", from_date="2026-01-15")
    assert recent["month"].min() == day("2026-02-01")


def test_placement_costs_on_the_tiny_extract(tiny_engine):
    costs = tiny_engine.run("placement_costs")
    assert costs.columns[:6] == ["placement_type", "placement", "children", "weekly_spend", "annual_spend",
                                 "mean_weekly_cost"]  # fmt: skip
    # In care on as_of: C5 (U3, £850 a week); E2 (K2) ended in August 2025.
    u3 = costs.filter(placement_type="U3").row(0, named=True)
    assert u3["placement"] == "Foster placement with relative or friend: not long-term or fostering for adoption"
    assert (u3["children"], u3["weekly_spend"], u3["mean_weekly_cost"]) == (1, 850.0, 850.0)
    assert u3["annual_spend"] == pytest.approx(850 * 365 / 7)
    assert costs["placement_type"].to_list() == ["U3", "all"]
    assert tiny_engine.run("placement_costs", as_of="2025-06-01").filter(placement_type="K2")["children"][0] == 1


# --- the comparison ------------------------------------------------------------------------------------------------


def comparison_scenario(tables):
    """Service SX on closed CIN cases (all children aged 5-9 at referral, no factors):

    stratum A (need N1, team T1 assessment): SX episodes S1 success, S2 failure; comparison P1, P2 success,
      P3, P4 failure (P4 had another service: still compared);
    stratum B (need N2, T1): SX episode S3 success; comparison P5, P6 success, P7 failure;
    stratum C (N1, team T2 child protection): SX episode S4 success, nobody to compare with: unmatched;
    S5 (stratum A) had SX on a case with no plan: not the compared kind, unmatched;
    P8 (stratum A but 2 factors recorded by its assessment, band 2-3; code 21 on P1 does not count) matches no SX
    episode; P9 (success) had the same 2 factors recorded only at its closure, after the work started: band 0-1,
    so it is compared in stratum A.
    """
    cases = {  # referral: (need, team, success, plan)
        "S1": ("N1", "T1", True, True), "S2": ("N1", "T1", False, True), "S3": ("N2", "T1", True, True),
        "S4": ("N1", "T2", True, True), "S5": ("N1", "T1", True, False),
        "P1": ("N1", "T1", True, True), "P2": ("N1", "T1", True, True), "P3": ("N1", "T1", False, True),
        "P4": ("N1", "T1", False, True), "P5": ("N2", "T1", True, True), "P6": ("N2", "T1", True, True),
        "P7": ("N2", "T1", False, True), "P8": ("N1", "T1", True, True), "P9": ("N1", "T1", True, True),
    }  # fmt: skip
    refs, plans = [], []
    for rid, (need, team, success, plan) in cases.items():
        refs.append(referral(rid, f"K{rid}", "2023-01-10", team=team, closed="2024-01-10") | {"primary_need": need})
        if not success:
            refs.append(referral(f"{rid}x", f"K{rid}", "2024-06-01", nfa=True, team=team))
        if plan:
            plans.append({"cin_plan_id": f"N{rid}", "child_id": f"K{rid}", "referral_id": rid,
                          "start_date": "2023-02-01", "end_date": "2024-01-10"})  # fmt: skip
    tables["children"] = rows_frame("children", [child(f"K{rid}", None) for rid in cases])
    tables["referrals"] = rows_frame("referrals", refs)
    tables["cin_plans"] = rows_frame("cin_plans", plans)
    tables["cp_plans"] = tables["cp_plans"].clear()
    tables["looked_after"] = tables["looked_after"].clear()
    tables["factors"] = rows_frame(
        "factors",
        [{"child_id": "KP8", "referral_id": "P8", "factor_code": c, "recorded_date": "2023-03-01",
          "source": "assessment"} for c in ("3B", "4B")]
        + [{"child_id": "KP9", "referral_id": "P9", "factor_code": c, "recorded_date": "2024-01-05",
            "source": "case_file"} for c in ("3B", "4B")]
        + [{"child_id": "KP1", "referral_id": "P1", "factor_code": "21", "recorded_date": "2023-03-01",
            "source": "assessment"}],
    )  # fmt: skip
    tables["assessments"] = rows_frame(
        "assessments",
        [{"assessment_id": f"A{rid}", "referral_id": rid, "child_id": f"K{rid}", "start_date": "2023-01-12",
          "authorised_date": "2023-03-01", "worker_id": "W1", "in_need": True} for rid in ("P8", "P9")],
    )  # fmt: skip
    tables["services"] = rows_frame(
        "services",
        [
            SERVICES[2] | {"service_id": "SX", "service_name": "X"},
            SERVICES[2] | {"service_id": "SY", "service_name": "Y"},
        ],
    )
    tables["service_episodes"] = rows_frame(
        "service_episodes",
        [episode(f"E{rid}", "SX", f"K{rid}", rid, "2023-03-01", "2023-06-01") for rid in ("S1", "S2", "S3", "S4", "S5")]
        + [episode("EP4", "SY", "KP4", "P4", "2023-03-01", "2023-06-01")],
    )
    return tables


def test_comparison_by_hand(make_engine):
    result = make_engine(comparison_scenario).run("service_comparison")
    sx = by_service(result)["SX"]
    assert (sx["assessable"], sx["matched"], sx["unmatched"], sx["strata_matched"]) == (5, 3, 2, 2)
    assert sx["service_success_rate"] == pytest.approx(2 / 3)
    assert sx["comparison_referrals"] == 8  # P1-P7 and P9; P8 is in a stratum no SX episode is in
    # Standardised to SX's mix (2 in A, 1 in B): 2/3 × 3/5 + 1/3 × 2/3 = 28/45; crude 5/8.
    assert sx["comparison_success_rate"] == pytest.approx(28 / 45)
    assert sx["comparison_crude_rate"] == pytest.approx(5 / 8)
    # Kish effective n: 1 / ((2/3)²/5 + (1/3)²/3) = 135/17.
    assert sx["comparison_effective_n"] == pytest.approx(135 / 17)
    assert sx["difference"] == pytest.approx(2 / 3 - 28 / 45)
    assert sx["difference_low"] < sx["difference"] < sx["difference_high"]
    assert sx["verdict"].startswith("Cannot tell: too few episodes")
    assert sx["cost_per_matched_episode"] == 80.0 and sx["cost_per_additional_success"] is None
    # No service has 10 matched episodes: nothing to correct for, 95% intervals.
    assert (sx["services_compared"], sx["interval_level"]) == (0, 0.95)
    # SY's episode (P4) is compared with every other case of its stratum, SX users included.
    sy = by_service(result)["SY"]
    assert (sy["matched"], sy["comparison_referrals"]) == (1, 6)  # P1, P2, P3, P9, S1, S2 … and S5 has no plan


def test_newcombe_published_example():
    """Newcombe (1998) Table II: 56/70 − 48/80 = 0.2000, 95% interval 0.0524 to 0.3339."""
    diff, low, high = newcombe_difference_interval(56, 70, 48, 80)
    assert (round(diff, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)


def test_verdict_words():
    base = {"assessable": 200, "matched": 180, "difference": 0.2, "difference_low": 0.0524, "difference_high": 0.3339}
    assert verdict_text(base).startswith("Better than similar children without it: about 20 more in every 100")
    worse = base | {"difference": -0.2, "difference_low": -0.3339, "difference_high": -0.0524}
    assert verdict_text(worse).startswith("Worse than similar children without it: about 20 fewer")
    unclear = base | {"difference": 0.02, "difference_low": -0.05, "difference_high": 0.09}
    assert verdict_text(unclear).startswith("The data cannot tell")
    assert "5 fewer and 9 more" in verdict_text(unclear)
    assert verdict_text(base | {"matched": 0}).startswith("Cannot tell: no similar children")
    assert verdict_text(base | {"assessable": 0, "matched": 0}).startswith("Cannot tell yet")


# --- the planted service differences of the sample -------------------------------------------------------------------

# sample_data/README.md: generating success rate of each service.
PLANTED = {
    "SV01": 0.80, "SV02": 0.76, "SV03": 0.72, "SV04": 0.70, "SV05": 0.66, "SV06": 0.62, "SV07": 0.58, "SV08": 0.64,
    "SV09": 0.52, "SV10": 0.60,
}  # fmt: skip

# The definition straight from the extract's tables: assessable when the referral closed at least 365 days before
# as_of and the child neither died (RC2), moved to another council (RC5) or adult services (RC6), nor turned 18
# within 365 days of the closure; a success when no referral is dated 1 to 365 days after the closure.
REFERENCE_OUTCOMES_SQL = """
SELECT se.service_id, count(*) AS assessable,
       count(*) FILTER (WHERE NOT EXISTS (
           SELECT 1 FROM referrals AS x WHERE x.child_id = r.child_id
             AND x.referral_date > r.closure_date AND x.referral_date <= r.closure_date + 365)) AS successes
FROM service_episodes AS se
JOIN referrals AS r ON r.referral_id = se.referral_id
JOIN children AS c ON c.child_id = se.child_id
WHERE se.start_date <= $as_of AND r.closure_date <= $as_of - 365
  AND r.closure_reason NOT IN ('RC2', 'RC5', 'RC6') AND c.birth_date + INTERVAL 18 YEAR > r.closure_date + 365
GROUP BY ALL
"""


def reference_outcomes(folder) -> dict:
    import duckdb

    con = duckdb.connect()
    for table in ("service_episodes", "referrals", "children"):
        con.sql(f"CREATE VIEW {table} AS SELECT * FROM '{folder}/{table}.parquet'")
    frame = con.sql(REFERENCE_OUTCOMES_SQL, params={"as_of": AS_OF}).pl()
    return {r["service_id"]: (r["assessable"], r["successes"]) for r in frame.iter_rows(named=True)}


def test_planted_service_differences_are_recovered(sample_engine):
    from schemas.extract import SAMPLE_DATA

    rows = by_service(sample_engine.run("service_outcomes"))
    assert set(rows) == set(PLANTED)
    reference = reference_outcomes(SAMPLE_DATA)
    for service_id, (assessable, successes) in reference.items():
        row = rows[service_id]
        assert (row["assessable"], row["successes"]) == (assessable, successes), service_id
        assert row["ci_low"] < row["success_rate"] < row["ci_high"]
        assert row["cost_per_success_low"] < row["cost_per_success"] < row["cost_per_success_high"]
        # Ageing out and moving away are set aside, not counted as "not yet".
        assert row["cannot_be_judged"] > 0
    # The generating rate falls inside the family-bootstrap interval for most services, and the ordering that
    # matters is clear:
    inside = [s for s, g in PLANTED.items() if rows[s]["ci_low"] <= g <= rows[s]["ci_high"]]
    assert len(inside) >= 7, inside
    fgc, mst, residential = rows["SV01"], rows["SV02"], rows["SV09"]
    # The cheapest family-level service is among the best; the dearest is the worst.
    assert residential["ci_high"] < fgc["ci_low"] and residential["ci_high"] < mst["ci_low"]
    assert fgc["cost_per_child"] < mst["cost_per_child"] < residential["cost_per_child"]
    assert residential["cost_per_success_low"] > 4 * mst["cost_per_success_high"]  # about £50,000 vs £7,200
    assert 1000 < fgc["cost_per_child"] < 1300  # about the £1,150 unit cost
    # Who got what was costed: every episode counted, none judged twice.
    assert sum(r["episodes"] for r in rows.values()) == 2388
    for row in rows.values():
        assert row["assessable"] + row["not_yet_assessable"] + row["cannot_be_judged"] == row["episodes"]
        assert row["completed"] + row["disengaged"] + row["other_exit"] + row["ongoing"] == row["episodes"]


def test_planted_comparison_on_the_sample(sample_engine):
    rows = by_service(sample_engine.run("service_comparison"))
    # Nearly every assessable episode finds similar children.
    for row in rows.values():
        assert row["matched"] >= 0.9 * row["assessable"]
    # Non-service cases come back 18% (data-led) / 31% (traditional) of the time: ~0.75 success.
    assert all(0.7 < r["comparison_success_rate"] < 0.82 for r in rows.values())
    # The residential assessment (0.52) is clearly worse than similar children's usual path.
    assert rows["SV09"]["difference_high"] < 0 and rows["SV09"]["verdict"].startswith("Worse")
    assert rows["SV07"]["difference_high"] < 0
    # Ten services compared at once: every interval is a Bonferroni 99.5% one.
    assert all(r["services_compared"] == 10 and r["interval_level"] == pytest.approx(0.995) for r in rows.values())
    # FGC (0.80 on a ~0.75 baseline) and MST: +5 points at most, which ten services at once cannot tell from none,
    # so no cost per additional success is given.
    for service_id in ("SV01", "SV02"):
        row = rows[service_id]
        assert row["difference_low"] < 0 < row["difference_high"], service_id
        assert row["verdict"].startswith("The data cannot tell") and row["cost_per_additional_success"] is None
    # A service that did worse bought no additional successes.
    assert rows["SV09"]["cost_per_additional_success"] is None


def test_placement_costs_on_the_sample(sample_engine):
    costs = {r["placement_type"]: r for r in sample_engine.run("placement_costs").iter_rows(named=True)}
    # sample_data/README.md: foster £585-665 a week, children's home £3,000-5,000; 99 children in care at as_of.
    assert costs["all"]["children"] == 99
    assert 585 <= costs["U4"]["mean_weekly_cost"] <= 665
    assert 3000 <= costs["K2"]["mean_weekly_cost"] <= 5000
    assert costs["all"]["weekly_spend"] == pytest.approx(sum(r["weekly_spend"] for t, r in costs.items() if t != "all"))


def naive_bootstrap_interval(cost, successes, seed, resamples=2000):
    """Reference: resample every family with replacement (indices), the textbook percentile bootstrap."""
    rng = np.random.default_rng(seed)
    cost, successes = np.asarray(cost), np.asarray(successes)
    picks = rng.integers(0, cost.size, size=(resamples, cost.size))
    ratio = cost[picks].sum(axis=1) / successes[picks].sum(axis=1)
    return np.quantile(ratio, [0.025, 0.975])


@pytest.mark.parametrize("families", [800, 20_000])  # grouped exact resampling; the normal limit
def test_bootstrap_agrees_with_resampling_every_family(families):
    rng = np.random.default_rng(7)
    cost = np.round(rng.lognormal(7, 0.6, families), -1)  # rounded: many families share a cost
    successes = rng.binomial(2, 0.45, families).astype(float)
    low, high = bootstrap_ratio_interval(cost, successes, "SVX")
    ref_low, ref_high = naive_bootstrap_interval(cost, successes, seed=11)
    point = cost.sum() / successes.sum()
    assert low < point < high
    # The Monte Carlo error of a 2.5% quantile from 1,000 and 2,000 resamples is about 5% of the interval's
    # half-width; a wrong variance (e.g. the families' instead of the totals') would be off by far more.
    half_width = (ref_high - ref_low) / 2
    assert abs(low - ref_low) < 0.15 * half_width
    assert abs(high - ref_high) < 0.15 * half_width


def test_bootstrap_of_identical_families_is_the_point_in_the_normal_limit():
    low, high = bootstrap_ratio_interval(np.full(6000, 300.0), np.ones(6000), "SVX")
    assert low == pytest.approx(300.0) and high == pytest.approx(300.0)


# --- what the service added, and at what cost -------------------------------------------------------------------


def planted_effect_scenario(tables):
    """A planted effect of exactly +10 points on a 75% baseline, all in one stratum, each child a family of one.

    SX (£500 a session, one session each) was used on 200 closed CIN cases, 170 of them with no new referral
    within a year (85%); 400 cases of the same kind without it, 300 with none (75%). SY1-SY4 were used on 20 of
    SX's cases each, so five services are compared at once.
    """
    refs, plans, children, episodes = [], [], [], []
    for i in range(600):
        rid, kid = f"R{i}", f"K{i}"
        success = (i < 170) if i < 200 else (i < 500)
        refs.append(referral(rid, kid, "2023-01-10", closed="2024-01-10"))
        if not success:
            refs.append(referral(f"{rid}x", kid, "2024-06-01", nfa=True))
        plans.append({"cin_plan_id": f"N{i}", "child_id": kid, "referral_id": rid, "start_date": "2023-02-01",
                      "end_date": "2024-01-10"})  # fmt: skip
        children.append(child(kid, None))
        if i < 200:
            episodes.append(episode(f"E{i}", "SX", kid, rid, "2023-03-01", "2023-06-01"))
        if i % 10 < 4 and i < 200:
            episodes.append(episode(f"F{i}", f"SY{i % 10 + 1}", kid, rid, "2023-03-01", "2023-06-01"))
    tables["children"] = rows_frame("children", children)
    tables["referrals"] = rows_frame("referrals", refs)
    tables["cin_plans"] = rows_frame("cin_plans", plans)
    tables["cp_plans"] = tables["cp_plans"].clear()
    tables["looked_after"] = tables["looked_after"].clear()
    tables["factors"] = tables["factors"].clear()
    tables["assessments"] = tables["assessments"].clear()
    tables["services"] = rows_frame(
        "services",
        [SERVICES[2] | {"service_id": "SX", "service_name": "X", "unit_cost": 500.0}]
        + [SERVICES[2] | {"service_id": f"SY{k}", "service_name": f"Y{k}"} for k in range(1, 5)],
    )
    tables["service_episodes"] = rows_frame("service_episodes", episodes)
    return tables


def test_cost_per_additional_success_on_a_planted_effect(make_engine):
    engine = make_engine(planted_effect_scenario)
    sx = by_service(engine.run("service_comparison"))["SX"]
    assert (sx["matched"], sx["matched_successes"], sx["comparison_referrals"]) == (200, 170, 400)
    assert (sx["service_success_rate"], sx["comparison_success_rate"]) == pytest.approx((0.85, 0.75))
    assert sx["difference"] == pytest.approx(0.10)
    # Five services compared: Bonferroni, each interval at 1 − 0.05/5 = 99%.
    assert (sx["services_compared"], sx["interval_level"]) == (5, pytest.approx(0.99))
    # Families of one: resampling families is resampling children, so the 99% interval is close to
    # Newcombe's for two independent proportions: 170/200 − 300/400, 99% ≈ 0.014 to 0.183 (Wald 0.014 to 0.186).
    _diff, low, high = newcombe_difference_interval(170, 200, 300, 400, confidence=0.99)
    assert sx["difference_low"] == pytest.approx(low, abs=0.015)
    assert sx["difference_high"] == pytest.approx(high, abs=0.015)
    assert sx["difference_low"] > 0 and sx["verdict"].startswith("Better than similar children")
    # Cost per additional success = cost per child ÷ the difference = £500 ÷ 0.10.
    assert sx["cost_per_matched_episode"] == 500.0
    assert sx["cost_per_additional_success"] == pytest.approx(5000.0)
    # Every episode costs £500, so its interval is £500 ÷ the difference's limits (the same resamples).
    assert sx["cost_per_additional_success_low"] == pytest.approx(500 / sx["difference_high"], rel=0.03)
    assert sx["cost_per_additional_success_high"] == pytest.approx(500 / sx["difference_low"], rel=0.15)
    assert "Each extra child with no new referral cost about £5,000" in sx["verdict"]
    # Cost per success counts those who would have had no new referral anyway: £500 ÷ 0.85, far below £5,000.
    outcome = by_service(engine.run("service_outcomes"))["SX"]
    assert outcome["cost_per_success"] == pytest.approx(500 / 0.85)


def test_no_cost_per_additional_success_when_the_difference_may_be_zero(make_engine):
    def weaker(tables):
        tables = planted_effect_scenario(tables)
        # 155 of SX's 200 succeed (77.5%): +2.5 points, whose interval includes zero.
        fail = {f"K{i}" for i in range(155, 170)}
        extra = [referral(f"R{k[1:]}x", k, "2024-06-01", nfa=True) for k in sorted(fail)]
        tables["referrals"] = pl.concat([tables["referrals"], rows_frame("referrals", extra)])
        return tables

    sx = by_service(make_engine(weaker).run("service_comparison"))["SX"]
    assert sx["difference"] == pytest.approx(0.025)
    assert sx["difference_low"] < 0 < sx["difference_high"]
    assert sx["cost_per_additional_success"] is None
    assert sx["cost_per_additional_success_low"] is None and sx["cost_per_additional_success_high"] is None
    assert sx["verdict"].startswith("The data cannot tell") and "cannot be told either" in sx["verdict"]


def test_siblings_widen_the_difference_interval(make_engine):
    def siblings(tables):
        tables = planted_effect_scenario(tables)
        # SX's children in pairs of one family, each pair sharing its outcome: half as many independent families.
        return tables | {
            "children": tables["children"].with_columns(
                family_id=pl.when(pl.col("child_id").str.slice(1).cast(pl.Int64) < 200)
                .then("FAM" + (pl.col("child_id").str.slice(1).cast(pl.Int64) // 2).cast(pl.String))
                .otherwise(pl.col("family_id"))
            )
        }

    alone = by_service(make_engine(planted_effect_scenario).run("service_comparison"))["SX"]
    paired = by_service(make_engine(siblings).run("service_comparison"))["SX"]
    assert paired["difference"] == pytest.approx(alone["difference"])
    # Pairs of identical outcomes: the service side's variance doubles (its share is about 58% of the total).
    width_alone = alone["difference_high"] - alone["difference_low"]
    width_paired = paired["difference_high"] - paired["difference_low"]
    assert width_paired > 1.15 * width_alone


def test_ageing_out_and_moving_away_cannot_be_judged(make_engine):
    def leaving(tables):
        tables = planted_effect_scenario(tables)
        # K0 turns 18 on 1 Dec 2024, within a year of its case closing (10 Jan 2024); K1's case closed as moved to
        # another council (RC5); K2's as transferred to adult services (RC6); K3 turns 18 on 11 Jan 2025, a day late.
        born = {"K0": "2006-12-01", "K3": "2007-01-11"}
        reasons = {"R1": "RC5", "R2": "RC6"}
        return tables | {
            "children": tables["children"].with_columns(
                birth_date=pl.col("child_id")
                .replace_strict(born, default=None)
                .str.to_date()
                .fill_null(pl.col("birth_date"))
            ),
            "referrals": tables["referrals"].with_columns(
                closure_reason=pl.col("referral_id").replace_strict(reasons, default=pl.col("closure_reason"))
            ),
        }

    engine = make_engine(leaving)
    sx = by_service(engine.run("service_outcomes"))["SX"]
    # K0, K1, K2 are set aside (all three successes): 197 judged, 167 with no new referral.
    assert (sx["assessable"], sx["successes"], sx["cannot_be_judged"], sx["not_yet_assessable"]) == (197, 167, 3, 0)
    comparison = by_service(engine.run("service_comparison"))["SX"]
    # K3 is judged, but was 15 at referral (age band 10-15) with nobody of that age to compare with: unmatched.
    assert (comparison["assessable"], comparison["matched"], comparison["matched_successes"]) == (197, 196, 166)
    assert comparison["unmatched"] == 1
