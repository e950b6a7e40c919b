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
from queries.stats import newcombe_difference_interval, wilson_interval

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
    assert (sessions["ci_low"], sessions["ci_high"]) == pytest.approx(wilson_interval(2, 3))
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
    P8 (stratum A but 2 factors, band 2-3; code 21 on P1 does not count) matches no SX episode.
    """
    cases = {  # referral: (need, team, success, plan)
        "S1": ("N1", "T1", True, True), "S2": ("N1", "T1", False, True), "S3": ("N2", "T1", True, True),
        "S4": ("N1", "T2", True, True), "S5": ("N1", "T1", True, False),
        "P1": ("N1", "T1", True, True), "P2": ("N1", "T1", True, True), "P3": ("N1", "T1", False, True),
        "P4": ("N1", "T1", False, True), "P5": ("N2", "T1", True, True), "P6": ("N2", "T1", True, True),
        "P7": ("N2", "T1", False, True), "P8": ("N1", "T1", True, True),
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
        + [{"child_id": "KP1", "referral_id": "P1", "factor_code": "21", "recorded_date": "2023-03-01",
            "source": "assessment"}],
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
    assert sx["comparison_referrals"] == 7  # P1-P7; P8 is in a stratum no SX episode is in
    # Standardised to SX's mix (2 in A, 1 in B): 2/3 × 2/4 + 1/3 × 2/3 = 5/9; crude 4/7.
    assert sx["comparison_success_rate"] == pytest.approx(5 / 9)
    assert sx["comparison_crude_rate"] == pytest.approx(4 / 7)
    # Kish effective n: 1 / ((2/3)²/4 + (1/3)²/3) = 27/4.
    assert sx["comparison_effective_n"] == pytest.approx(27 / 4)
    diff, low, high = newcombe_difference_interval(2, 3, 5 / 9 * 27 / 4, 27 / 4)
    assert (sx["difference"], sx["difference_low"], sx["difference_high"]) == pytest.approx((diff, low, high))
    assert sx["difference"] == pytest.approx(2 / 3 - 5 / 9)
    assert sx["verdict"].startswith("Cannot tell: too few episodes")
    # SY's episode (P4) is compared with every other case of its stratum, SX users included.
    sy = by_service(result)["SY"]
    assert (sy["matched"], sy["comparison_referrals"]) == (1, 5)  # P1, P2, P3, S1, S2 … and S5 has no plan


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

# sample_data/README.md: generating success rate and the measured (rate, assessable episodes).
PLANTED = {
    "SV01": (0.80, 0.81, 330), "SV02": (0.76, 0.79, 154), "SV03": (0.72, 0.77, 105), "SV04": (0.70, 0.73, 354),
    "SV05": (0.66, 0.69, 254), "SV06": (0.62, 0.73, 204), "SV07": (0.58, 0.58, 133), "SV08": (0.64, 0.75, 98),
    "SV09": (0.52, 0.50, 58), "SV10": (0.60, 0.70, 114),
}  # fmt: skip


def test_planted_service_differences_are_recovered(sample_engine):
    rows = by_service(sample_engine.run("service_outcomes"))
    assert set(rows) == set(PLANTED)
    for service_id, (_generating, measured, assessable) in PLANTED.items():
        row = rows[service_id]
        assert row["assessable"] == assessable, service_id
        assert row["success_rate"] == pytest.approx(measured, abs=0.006), service_id
        assert row["ci_low"] < measured < row["ci_high"]
        assert row["cost_per_success_low"] < row["cost_per_success"] < row["cost_per_success_high"]
    # The generating rate falls inside the Wilson interval for most services (chance and the
    # generator's 18th-birthday closures move a few), and the ordering that matters is clear:
    inside = [s for s, (g, _m, _n) in PLANTED.items() if rows[s]["ci_low"] <= g <= rows[s]["ci_high"]]
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
        assert row["assessable"] + row["not_yet_assessable"] == row["episodes"]
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
    # FGC (0.80) is at least as good; MST's interval includes no difference.
    assert rows["SV01"]["difference_low"] > -0.01
    assert rows["SV02"]["difference_low"] < 0 < rows["SV02"]["difference_high"]
    assert rows["SV02"]["verdict"].startswith("The data cannot tell")


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
