"""Pattern discovery: factor prevalence, co-occurrence and rules, pinned on tiny extracts and the sample."""

import datetime as dt

import polars as pl
import pytest

from helpers import rows_frame
from queries.engine import BadParameter
from queries.models.pattern_replication import count_columns, replication_summary
from queries.models.patterns import plain_findings
from queries.stats import fisher_exact_p_values


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


def cohort_of(children: dict[str, tuple[str, str, list[str]]]):
    """An edit for make_engine: exactly these children, each (referral date, team, factor codes).

    Each child gets one non-NFA referral and its factors recorded on the referral date.
    """

    def edit(tables):
        base = tables["children"].row(0, named=True)
        tables["children"] = pl.DataFrame(
            [{**base, "child_id": c, "family_id": None, "sex": "F"} for c in children], schema=tables["children"].schema
        )
        tables["referrals"] = rows_frame(
            "referrals",
            [{"referral_id": f"R{c}", "child_id": c, "referral_date": d, "source": "1A", "primary_need": "N1",
              "nfa": False, "team_id": t} for c, (d, t, _) in children.items()],
        )  # fmt: skip
        tables["factors"] = rows_frame(
            "factors",
            [{"child_id": c, "referral_id": f"R{c}", "factor_code": f, "recorded_date": d, "source": "assessment"}
             for c, (d, _, fs) in children.items() for f in fs],
        )  # fmt: skip
        for table in ("assessments", "section47", "cp_plans", "cin_plans", "looked_after", "visits", "cp_reviews"):
            if table in tables:
                tables[table] = tables[table].clear()
        return tables

    return edit


# Cohort T1 of 20 children: 8 with 1B and 2B, one with 1B only, one with 2B only, six with 3B (one of them,
# K11, also 4B), K17 with 4B only, three with none.
PAIR_COHORT = {
    f"K{i:02d}": ("2025-06-01", "T1", fs)
    for i, fs in [
        *[(i, ["1B", "2B"]) for i in range(1, 9)],
        (9, ["1B"]),
        (10, ["2B"]),
        (11, ["3B", "4B"]),
        *[(i, ["3B"]) for i in range(12, 17)],
        (17, ["4B"]),
        *[(i, []) for i in range(18, 21)],
    ]
}
# scipy.stats.fisher_exact (two-sided) for each unordered pair's table [[both, A only], [B only, neither]]:
# 1B-2B [[8, 1], [1, 10]]; 1B-3B and 2B-3B [[0, 9], [6, 5]]; 1B-4B and 2B-4B [[0, 9], [2, 9]]; 3B-4B [[1, 5], [1, 13]].
PAIR_P = {("1B", "2B"): 0.0009228387711359848, ("1B", "3B"): 0.014086687306501549,
          ("2B", "3B"): 0.014086687306501549, ("1B", "4B"): 0.4789473684210527,
          ("2B", "4B"): 0.4789473684210527, ("3B", "4B"): 0.5210526315789474}  # fmt: skip
# statsmodels multipletests(method="fdr_bh") over the six pairs, and over the three pairs of 1B, 2B and 3B.
PAIR_Q_ALL = {("1B", "2B"): 0.005537032626815909, ("1B", "3B"): 0.028173374613003097,
              ("2B", "3B"): 0.028173374613003097, ("1B", "4B"): 0.5210526315789474,
              ("2B", "4B"): 0.5210526315789474, ("3B", "4B"): 0.5210526315789474}  # fmt: skip
PAIR_Q_THREE = {("1B", "2B"): 0.0027685163134079545, ("1B", "3B"): 0.014086687306501549,
                ("2B", "3B"): 0.014086687306501549}  # fmt: skip


def test_cooccurrence_pairs_are_tested_with_fisher_and_bh(make_engine):
    engine = make_engine(cohort_of(PAIR_COHORT))
    pairs = engine.run("factor_cooccurrence", team_id="T1")
    assert pairs.height == 12  # every ordered pair of the four factors, recorded together or not
    for (a, b), p in PAIR_P.items():
        for first, second in ((a, b), (b, a)):  # one test per unordered pair, the same p and q both ways
            row = pairs.filter(factor_a=first, factor_b=second).row(0, named=True)
            assert row["p_value"] == pytest.approx(p, rel=1e-6), (first, second)
            assert row["q_value"] == pytest.approx(PAIR_Q_ALL[(a, b)], rel=1e-6), (first, second)
    never = pairs.filter(factor_a="1B", factor_b="3B").row(0, named=True)
    assert (never["n_both"], never["lift"]) == (0, 0.0)
    # 3B and 4B: together more often than chance (lift 1*20/(6*2)) but not beyond it (q 0.52).
    loose = pairs.filter(factor_a="3B", factor_b="4B").row(0, named=True)
    assert loose["lift"] == pytest.approx(20 / 12) and loose["q_value"] > 0.05
    # Only the factors asked for: the false discovery rate is over exactly the pairs returned.
    three = engine.run("factor_cooccurrence", team_id="T1", factor_codes="1B, 2B,3B")
    assert three.height == 6
    for (a, b), q in PAIR_Q_THREE.items():
        assert three.filter(factor_a=a, factor_b=b)["q_value"][0] == pytest.approx(q, rel=1e-6)


def test_one_sided_fisher_matches_scipy():
    # scipy.stats.fisher_exact(table, alternative="greater").pvalue, typed in.
    tables = [(8, 2, 1, 5), (3, 7, 2, 8), (5, 0, 0, 5), (1, 9, 11, 3), (12, 30, 40, 300), (0, 0, 0, 0)]
    expected = [0.024475524475524483, 0.49999999999999994, 0.003968253968253969, 0.9999663480953022,
                0.0052908219442728815, 1.0]  # fmt: skip
    a, b, c, d = (list(column) for column in zip(*tables, strict=True))
    assert fisher_exact_p_values(a, b, c, d, alternative="greater") == pytest.approx(expected, rel=1e-7)
    two_sided = [0.034965034965034975, 1.0, 0.007936507936507938, 0.0027594561852200836, 0.006747806875158948, 1.0]
    assert fisher_exact_p_values(a, b, c, d) == pytest.approx(two_sided, rel=1e-7)  # the default is unchanged
    with pytest.raises(ValueError, match="alternative"):
        fisher_exact_p_values(a, b, c, d, alternative="less")


def replication_cohort(scale: int = 1) -> dict:
    """T1 (the cohort) and T2 (everyone else), ten children each before July 2025 and ten each after.

    Earlier: 1B in 8 of T1's and 1 of T2's; 2B in 5 and 5; 3B in 7 and 1.
    Later: 1B in 7 and 2; 2B in 4 and 6; 3B in 2 and 2. `scale` multiplies every count.
    """
    plan = {
        ("2025-0{}-15", "T1"): {"1B": 8, "2B": 5, "3B": 7},
        ("2025-0{}-15", "T2"): {"1B": 1, "2B": 5, "3B": 1},
        ("2025-1{}-15", "T1"): {"1B": 7, "2B": 4, "3B": 2},
        ("2025-1{}-15", "T2"): {"1B": 2, "2B": 6, "3B": 2},
    }
    children = {}
    for block, ((dates, team), counts) in enumerate(plan.items()):
        for i in range(10 * scale):
            month = 1 + i % 6 if dates.startswith("2025-0") else i % 3  # Jan-Jun, or Oct-Dec
            factors = [code for code, n in counts.items() if i < n * scale]
            children[f"K{block}{i}"] = (dates.format(month), team, factors)
    return children


# scipy.stats.fisher_exact, typed in. Earlier half (two-sided): 1B [[8, 2], [1, 9]], 2B [[5, 5], [5, 5]],
# 3B [[7, 3], [1, 9]]; statsmodels multipletests(method="fdr_bh") over the three.
EARLIER_P = {"1B": 0.005477494641581329, "2B": 1.0, "3B": 0.019766611097880447}
EARLIER_Q = {"1B": 0.016432483924743987, "2B": 1.0, "3B": 0.029649916646820672}
# Later half, alternative="greater": 1B [[7, 3], [2, 8]], 2B [[4, 6], [6, 4]], 3B [[2, 8], [2, 8]].
LATER_P = {"1B": 0.03488925934746368, "2B": 0.9105522960012125, "3B": 0.7089783281733746}


def test_findings_are_checked_on_the_later_referrals(make_engine):
    engine = make_engine(cohort_of(replication_cohort()))
    for split in ({"split_date": "2025-08-20"}, {}):  # August, or the default: the month after the median's
        result = by_code(engine.run("factor_replication", team_id="T1", **split))
        for code, row in result.items():
            assert row["split_date"] == (dt.date(2025, 8, 1) if split else dt.date(2025, 7, 1))
            assert row["discovery_p"] == pytest.approx(EARLIER_P[code], rel=1e-6)
            assert row["discovery_q"] == pytest.approx(EARLIER_Q[code], rel=1e-6)
            assert row["confirmation_p"] == pytest.approx(LATER_P[code], rel=1e-6)
            assert (row["discovery_cohort_n"], row["discovery_rest_n"]) == (10, 10)
        assert result["1B"]["finding"] and result["1B"]["verdict"] == "held up"
        assert result["3B"]["finding"] and result["3B"]["verdict"] == "did not hold up"
        assert not result["2B"]["finding"] and result["2B"]["verdict"] == "not a finding in the earlier referrals"
        assert result["3B"]["confirmation_lift"] == pytest.approx(1.0)
    answer = engine.run("factor_replication", team_id="T1")
    assert replication_summary(answer) == "1 of the 2 findings in the earlier referrals held up in the later ones."


def test_an_empty_half_or_group_is_not_tested(make_engine):
    engine = make_engine(cohort_of(replication_cohort()))
    # Splitting after every referral leaves the later half empty: nothing to confirm, no p, no verdict.
    late = by_code(engine.run("factor_replication", team_id="T1", split_date="2026-01-01"))["1B"]
    assert (late["confirmation_cohort_n"], late["confirmation_rest_n"]) == (0, 0)
    assert late["confirmation_p"] is None and late["confirmation_cohort_pct"] is None
    assert late["finding"] and late["verdict"] is None
    # A comparison group of no children: sizes say so; no p, q or NaN on the main table.
    sizes = engine.run("factor_cohort_sizes", team_id="T1", compare_team_id="T3").row(0, named=True)
    assert (sizes["cohort_n"], sizes["rest_n"]) == (20, 0)
    alone = engine.run("factor_prevalence", team_id="T1", compare_team_id="T3")
    assert alone["p_value"].null_count() == alone.height and alone["q_value"].null_count() == alone.height
    assert alone["rest_ci_low"].null_count() == alone.height and not alone["rest_pct"].is_nan().any()
    assert plain_findings(alone) == []
    # A period with no referrals: a cohort of no children, and no factors to list.
    empty = engine.run("factor_cohort_sizes", team_id="T1", from_date="2024-01-01", to_date="2024-12-31")
    assert empty.row(0) == (0, 0)
    assert engine.run("factor_prevalence", team_id="T1", from_date="2024-01-01", to_date="2024-12-31").is_empty()


def test_replication_for_a_head_of_service_rests_on_the_protected_counts(make_engine):
    from scipy.stats import fisher_exact

    from queries.access import Scope

    engine = make_engine(cohort_of(replication_cohort(scale=4)))
    shown = engine.run("factor_replication", scope=Scope("head_of_service", "h"), team_id="T1", split_date="2025-07-01")
    assert not [c for c in shown.columns if c.endswith("_ckey")]
    assert shown["discovery_p"].drop_nulls().len() and shown["discovery_p"].null_count()  # some shown, some hidden
    for row in shown.iter_rows(named=True):
        for half, alternative in (("discovery", "two-sided"), ("confirmation", "greater")):
            n, with_, rest_n, rest_with = (row[c] for c in count_columns(half))
            assert all(v is None or v > 5 for v in (n, with_, rest_n, rest_with))  # small counts hidden
            if None in (n, with_, rest_n, rest_with):
                assert row[f"{half}_p"] is None and row["verdict"] is None
            else:
                table = [[with_, n - with_], [rest_with, rest_n - rest_with]]
                assert row[f"{half}_p"] == pytest.approx(fisher_exact(table, alternative=alternative).pvalue)
