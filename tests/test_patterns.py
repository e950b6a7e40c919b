"""Pattern discovery: factor prevalence, co-occurrence and rules, pinned on tiny extracts and the sample."""

import polars as pl
import pytest

from helpers import rows_frame
from queries.engine import BadParameter


def by_code(frame: pl.DataFrame) -> dict:
    return {r["factor_code"]: r for r in frame.iter_rows(named=True)}


def test_prevalence_on_the_tiny_extract(tiny_engine):
    # Population: children with a non-NFA referral: C1, C2, C3, C5, C6 (C4's only referral is NFA).
    # Cohort T2: C2, C3, C6. The rest: C1, C5.
    result = by_code(tiny_engine.run("factor_prevalence", team_id="T2"))
    domestic = result["3B"]  # C3 in the cohort, C1 in the rest
    assert (domestic["cohort_n"], domestic["cohort_with"], domestic["rest_n"], domestic["rest_with"]) == (3, 1, 2, 1)
    assert domestic["cohort_pct"] == pytest.approx(100 / 3)
    assert domestic["lift"] == pytest.approx((1 / 3) / (1 / 2))
    assert domestic["p_value"] == pytest.approx(1.0)
    assert result["18C"]["lift"] is None  # nobody in the rest has it: no finite lift
    assert result["LA01"]["label"] == "Housing: overcrowding"  # a declared local code, in words
    assert result["LA01"]["subject"] == "household"
    assert result["4B"]["subject"] == "parent" and result["3B"]["label"] == "Domestic abuse: parent or carer"
    # Wilson interval for 1 of 3 (Newcombe's formula): 6.15% to 79.23%.
    assert (domestic["cohort_ci_low"], domestic["cohort_ci_high"]) == pytest.approx((6.149, 79.234), abs=0.01)


def test_a_factor_counts_once_per_child_and_only_up_to_as_of(make_engine):
    def edit(tables):
        extra = rows_frame(
            "factors",
            [
                {"child_id": "C3", "referral_id": "R3", "factor_code": "3B", "recorded_date": "2025-09-01",
                 "source": "case_file"},  # the same factor again, from a case-file review
                {"child_id": "C2", "referral_id": "R2", "factor_code": "3B", "recorded_date": "2026-04-02",
                 "source": "case_file"},  # after as_of: not counted
            ],
        )  # fmt: skip
        tables["factors"] = pl.concat([tables["factors"], extra])

    engine = make_engine(edit)
    assert by_code(engine.run("factor_prevalence", team_id="T2"))["3B"]["cohort_with"] == 1
    assert by_code(engine.run("factor_prevalence", team_id="T2", as_of="2026-04-30"))["3B"]["cohort_with"] == 2


def test_cohort_filters(tiny_engine):
    # Girls: C1 (F) and C3 (F) have non-NFA referrals; C6 is U.
    girls = tiny_engine.run("factor_prevalence", sex="F").row(0, named=True)
    assert (girls["cohort_n"], girls["rest_n"]) == (2, 3)
    # CP plan category NEG: C2 (P1). Category EMO/MUL: C1 (P2 initial EMO, latest MUL).
    assert tiny_engine.run("factor_prevalence", cp_category="NEG").row(0, named=True)["cohort_n"] == 1
    assert tiny_engine.run("factor_prevalence", cp_category="MUL").row(0, named=True)["cohort_n"] == 1
    # Age at referral: C6 was unborn at R6; C5 (born June 2008) was 17 at R5.
    assert tiny_engine.run("factor_prevalence", age_band="16+")["cohort_n"][0] == 1
    # Team compared with another team rather than everyone else: T2 (3 children) against T1 (C1).
    versus = tiny_engine.run("factor_prevalence", team_id="T2", compare_team_id="T1").row(0, named=True)
    assert (versus["cohort_n"], versus["rest_n"]) == (3, 1)
    # A period: referrals from 2026 only (R6 for C6 and R7 for C1).
    recent = tiny_engine.run("factor_prevalence", team_id="T2", from_date="2026-01-01").row(0, named=True)
    assert (recent["cohort_n"], recent["rest_n"]) == (1, 1)


def test_a_cohort_needs_a_filter(tiny_engine):
    with pytest.raises(BadParameter, match="choose at least one cohort filter"):
        tiny_engine.run("factor_prevalence")


def test_cooccurrence_and_rules_by_hand(make_engine):
    # Cohort T1 with four children: A+B, A+B, A+B+C, A. So n_A=4, n_B=3, n_AB=3.
    def edit(tables):
        tables["referrals"] = rows_frame(
            "referrals",
            [
                {"referral_id": f"R{i}", "child_id": f"C{i}", "referral_date": "2025-06-01", "source": "1A",
                 "nfa": False, "team_id": "T1"}
                for i in range(1, 6)
            ],
        )  # fmt: skip
        codes = {"C1": ["1B", "2B"], "C2": ["1B", "2B"], "C3": ["1B", "2B", "3B"], "C4": ["1B"], "C5": []}
        tables["factors"] = rows_frame(
            "factors",
            [{"child_id": c, "referral_id": None, "factor_code": f, "recorded_date": "2025-07-01",
              "source": "assessment"} for c, fs in codes.items() for f in fs],
        )  # fmt: skip
        tables["children"] = tables["children"].with_columns(sex=pl.lit("F"))

    engine = make_engine(edit)
    pairs = engine.run("factor_cooccurrence", team_id="T1")
    ab = pairs.filter(factor_a="1B", factor_b="2B").row(0, named=True)
    assert (ab["n_a"], ab["n_b"], ab["n_both"], ab["cohort_n"]) == (4, 3, 3, 5)
    assert ab["confidence"] == pytest.approx(3 / 4)
    assert ab["lift"] == pytest.approx((3 / 5) / ((4 / 5) * (3 / 5)))
    rules = engine.run("factor_rules", team_id="T1", min_children=1)
    rule = rules.filter(a1="1B", a2="2B", consequent_code="3B").row(0, named=True)
    assert (rule["n_children"], rule["n_antecedent"]) == (1, 3)
    assert rule["confidence"] == pytest.approx(1 / 3)
    assert rule["lift"] == pytest.approx((1 / 3) / (1 / 5))
    assert rule["support"] == pytest.approx(1 / 5)
    assert rules.filter(pl.col("lift") <= 1).is_empty()


def test_planted_pattern_is_recovered_from_the_sample(sample_engine):
    """sample_data/README.md: in the physical-abuse unit ~20% have a parent with a personality disorder and
    60-70% a parent abused as a child, far above other teams; housing instability (HS1) is planted equal."""
    teams = sample_engine.run("team_list")
    unit = teams.filter(pl.col("focus") == "physical abuse")["team_id"][0]
    result = by_code(sample_engine.run("factor_prevalence", team_id=unit))
    personality, abused, housing = result["PD1"], result["PA1"], result["HS1"]
    assert personality["cohort_ci_low"] < 20 < personality["cohort_ci_high"]
    assert personality["rest_ci_high"] < personality["cohort_ci_low"] and personality["q_value"] < 0.001
    assert abused["cohort_ci_low"] < 70 and abused["cohort_ci_high"] > 60
    assert abused["rest_ci_high"] < abused["cohort_ci_low"] and abused["q_value"] < 0.001
    assert housing["q_value"] > 0.05  # the planted control shows no difference
    # Parental mental health and domestic abuse are the commonest factors across all children.
    everyone = sample_engine.run("factor_prevalence", team_id=unit)
    commonest = (
        everyone.with_columns(total=pl.col("cohort_with") + pl.col("rest_with")).sort("total", descending=True).head(3)
    )
    assert set(commonest["factor_code"]) <= {"4B", "3B", "3A"}
