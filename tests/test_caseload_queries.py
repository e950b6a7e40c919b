"""Caseload status questions pinned at their edges on tiny hand-built extracts.

Dates are worked by hand against the England and Wales calendar; as_of is 2026-03-31
(a Tuesday) unless a test moves it. Good Friday 2026 is 3 April, Easter Monday 6 April.
"""

import datetime as dt

import polars as pl
import pytest

from helpers import referral, scenario

D = dt.date.fromisoformat
OPEN_C1 = referral("R1", "C1", "2025-01-06", worker="W1", team="T1")


def overdue(engine, **params):
    return engine.run("overdue_visits", **params).select("child_id", "plan_type", "due_date", "working_days_overdue")


def test_cp_due_date_skips_easter(make_engine):
    # Last CP visit Friday 20 March; 10 working days later skips Good Friday and Easter Monday.
    engine = make_engine(scenario([OPEN_C1], cp=[("C1", "2026-01-05", None)], visits=[("C1", "2026-03-20", "cp")]))
    assert overdue(engine, as_of="2026-04-07").is_empty()
    late = overdue(engine, as_of="2026-04-08").row(0)
    assert late == ("C1", "cp", D("2026-04-07"), 1)


def test_a_visit_on_the_due_date_itself_is_on_time(make_engine):
    # Plan starts Monday 2 March; 10 working days later is Monday 16 March.
    on_time = make_engine(scenario([OPEN_C1], cp=[("C1", "2026-03-02", None)], visits=[("C1", "2026-03-16", "cp")]))
    # Seen on the due date: the next visit is due 30 March, one working day before as_of.
    assert overdue(on_time).row(0) == ("C1", "cp", D("2026-03-30"), 1)
    late = make_engine(scenario([OPEN_C1], cp=[("C1", "2026-03-02", None)], visits=[("C1", "2026-03-17", "cp")]))
    # Seen a day late: next due 31 March, which is as_of itself, so not yet overdue.
    assert overdue(late).is_empty()
    row = late.run("worker_cases", worker_id="W1").row(0, named=True)
    assert (row["next_visit_due"], row["working_days_to_due"], row["rag"]) == (D("2026-03-31"), 0, "amber")


def test_no_visit_yet_counts_from_the_plan_start(make_engine):
    engine = make_engine(scenario([OPEN_C1], cp=[("C1", "2026-03-02", None)]))
    assert overdue(engine).row(0) == ("C1", "cp", D("2026-03-16"), 11)


def test_a_visit_of_another_type_does_not_count(make_engine):
    engine = make_engine(scenario([OPEN_C1], cp=[("C1", "2026-03-02", None)], visits=[("C1", "2026-03-25", "other")]))
    assert overdue(engine).row(0)[1] == "cp"


def test_plan_starting_or_ending_on_as_of(make_engine):
    starts = make_engine(scenario([OPEN_C1], cp=[("C1", "2026-03-31", None)]))
    assert overdue(starts).is_empty()
    row = starts.run("worker_cases").row(0, named=True)
    assert (row["plans"], row["next_visit_due"], row["working_days_to_due"]) == ("CP", D("2026-04-16"), 10)
    ends = make_engine(scenario([OPEN_C1], cp=[("C1", "2025-01-06", "2026-03-31")]))
    assert overdue(ends).is_empty()
    assert ends.run("worker_cases").row(0, named=True)["plans"] is None


def test_cin_and_cla_standards(make_engine):
    engine = make_engine(
        scenario(
            [OPEN_C1, referral("R2", "C2", "2025-01-06", worker="W3", team="T2")],
            cin=[("C1", "2026-01-05", None)],
            cla=[("C2", "2025-06-01", None)],
            visits=[("C1", "2026-03-03", "cin"), ("C2", "2026-02-16", "cla")],
        )
    )
    # CIN: 20 working days after Tuesday 3 March is Tuesday 31 March: due today, not overdue.
    # CLA: 42 calendar days after 16 February is 30 March: overdue by one working day.
    assert overdue(engine).rows() == [("C2", "cla", D("2026-03-30"), 1)]


def test_child_with_two_plans_counts_once_per_plan_type(make_engine):
    engine = make_engine(scenario([OPEN_C1], cp=[("C1", "2025-06-01", None)], cla=[("C1", "2025-06-01", None)]))
    assert sorted(r[1] for r in overdue(engine).rows()) == ["cla", "cp"]
    w1 = engine.run("caseload_by_worker", team_id="T1").filter(worker_id="W1").row(0, named=True)
    assert (w1["open_cases"], w1["cp_cases"], w1["cla_cases"], w1["cin_cases"], w1["overdue_visits"]) == (1, 1, 1, 0, 2)


def test_caseload_counts_children_not_referrals_and_keeps_workers_with_none(make_engine):
    referrals = [
        referral("R1", "C1", "2025-01-06", worker="W3", team="T2"),
        referral("R2", "C1", "2025-02-06", worker="W3", team="T2"),  # same child twice: one case
        referral("R3", "C2", "2025-02-06", worker="W3", team="T2", closed="2026-01-10"),  # closed
        referral("R4", "C3", "2025-02-06", worker="W3", team="T2", nfa=True),  # NFA
        referral("R5", "C4", "2025-02-06", worker="W4", team="T2"),  # W4 left in January
    ]
    caseload = make_engine(scenario(referrals)).run("caseload_by_worker", team_id="T2")
    rows = {r["worker_id"]: r for r in caseload.iter_rows(named=True)}
    assert rows["W3"]["open_cases"] == 1
    assert rows["W3"]["cases_per_fte"] == 1.3  # 1 case / 0.8 FTE = 1.25, shown to one decimal
    assert rows["W4"]["open_cases"] == 1 and rows["W4"]["in_post"] is False
    all_workers = make_engine(scenario(referrals)).run("caseload_by_worker")
    assert all_workers.filter(worker_id="W2")["open_cases"].to_list() == [0]  # a worker with no cases


def test_open_assessments_count_working_days_from_referral(make_engine):
    engine = make_engine(
        scenario(
            [referral("R1", "C1", "2026-01-15", worker="W1", team="T1")],
            assessments=[("R1", "C1", "2026-01-16", None)],
        )
    )
    row = engine.run("open_assessments").row(0, named=True)
    # 45 working days from Thursday 15 January is Thursday 19 March; 53 working days have passed.
    assert (row["deadline"], row["working_days_since_referral"], row["working_days_left"]) == (
        D("2026-03-19"), 53, -8,
    )  # fmt: skip


@pytest.mark.parametrize(("authorised", "on_time"), [("2026-03-19", 1), ("2026-03-20", 0)])
def test_assessment_45wd_edge(make_engine, authorised, on_time):
    engine = make_engine(
        scenario(
            [referral("R1", "C1", "2026-01-15", team="T1")],
            assessments=[("R1", "C1", "2026-01-16", authorised)],
        )
    )
    measure = engine.run("compliance_summary", team_id="T1").filter(measure="assessment_45wd").row(0, named=True)
    assert (measure["numerator"], measure["denominator"]) == (on_time, 1)


@pytest.mark.parametrize(("icpc", "on_time"), [("2026-03-02", 1), ("2026-03-03", 0)])
def test_icpc_15wd_edge(make_engine, icpc, on_time):
    # Strategy discussion Monday 9 February; 15 working days later is Monday 2 March.
    engine = make_engine(
        scenario([referral("R1", "C1", "2026-02-05", team="T1")], s47=[("R1", "C1", "2026-02-09", icpc)])
    )
    measure = engine.run("compliance_summary", team_id="T1").filter(measure="icpc_15wd").row(0, named=True)
    assert (measure["numerator"], measure["denominator"]) == (on_time, 1)


def test_cp_review_timeliness_first_3_then_6_months(make_engine):
    engine = make_engine(
        scenario(
            [referral("R1", "C1", "2025-05-01", team="T1")],
            cp=[("C1", "2025-05-15", None)],
            reviews=[("P1", "2025-08-15"), ("P1", "2026-02-16")],  # on time; then 6 months + 1 day: late
        )
    )
    measure = engine.run("compliance_summary", team_id="T1").filter(measure="cp_review_timely").row(0, named=True)
    assert (measure["numerator"], measure["denominator"], measure["pct"]) == (1, 2, 50.0)


def test_key_indicators_cpp_2_years_and_repeat_plans(make_engine):
    engine = make_engine(
        scenario(
            [referral("R1", "C1", "2024-01-01", team="T1"), referral("R2", "C2", "2024-01-01", team="T1")],
            cp=[
                ("C1", "2024-03-31", None),  # open, started exactly 2 years before as_of: counts
                ("C2", "2024-04-01", "2025-01-01"),  # an earlier plan for C2
                ("C2", "2025-06-01", None),  # a repeat plan started in the last 12 months
            ],
        )
    )
    summary = {r["measure"]: r for r in engine.run("compliance_summary", team_id="T1").iter_rows(named=True)}
    assert (summary["cpp_2_years"]["numerator"], summary["cpp_2_years"]["denominator"]) == (1, 2)
    assert (summary["repeat_cpp"]["numerator"], summary["repeat_cpp"]["denominator"]) == (1, 1)


def test_trend_points_are_month_ends_and_match_the_summary(tiny_engine):
    trend = tiny_engine.run("compliance_trend", team_id="T2", months=3)
    assert sorted(set(trend["month_end"])) == [D("2026-01-31"), D("2026-02-28"), D("2026-03-31")]
    latest = trend.filter(month_end=D("2026-03-31")).select("measure", "numerator", "denominator")
    summary = tiny_engine.run("compliance_summary", team_id="T2").select("measure", "numerator", "denominator")
    assert latest.sort("measure").equals(summary.sort("measure"))


def test_due_soon_window_is_five_working_days(make_engine):
    engine = make_engine(
        scenario(
            [OPEN_C1, referral("R2", "C2", "2025-01-06", worker="W3", team="T2")],
            cp=[("C1", "2025-06-01", None), ("C2", "2025-06-01", None)],
            visits=[("C1", "2026-03-24", "cp"), ("C2", "2026-03-25", "cp")],
        )
    )
    # The window runs to Thursday 9 April, the 5th working day after as_of over Easter.
    # C1 (seen 24 March) is due 9 April, inside it; C2 (seen 25 March) due 10 April, outside.
    due = engine.run("due_soon").filter(item="visit")
    assert due.select("child_id", "due_date", "working_days_left").rows() == [("C1", D("2026-04-09"), 5)]


def test_chronology_is_one_childs_timeline_in_order(tiny_engine):
    events = tiny_engine.run("child_chronology", child_id="C2")
    assert events["event"].to_list()[:5] == [
        "Referral", "S47 enquiry", "Assessment started", "ICPC", "CP plan started",
    ]  # fmt: skip
    assert events["event_date"].is_sorted()
    assert tiny_engine.run("child_chronology", child_id="C999").is_empty()


def test_missing_optional_plan_table_is_left_out_not_fatal(make_engine):
    engine = make_engine(drop=("cin_plans",))
    assert engine.unavailable_reason(["cin_plans"]) == "the cin_plans table is not in this extract"
    assert "cin" not in engine.run("overdue_visits")["plan_type"].to_list()


def test_planted_visit_drift_shows_in_the_sample(sample_engine):
    """The sample plants more visit drift in traditional teams (sample_data/README.md)."""
    teams = sample_engine.run("team_list").select("team_id", "practice_model")
    visits = (
        sample_engine.run("compliance_summary")
        .filter(measure="visits_in_timescale")
        .join(teams, on="team_id")
        .group_by("practice_model")
        .agg(met=pl.col("numerator").sum(), of=pl.col("denominator").sum())
        .with_columns(pct=pl.col("met") / pl.col("of"))
    )
    pct = dict(zip(visits["practice_model"], visits["pct"], strict=True))
    assert 0.75 < pct["traditional"] < pct["data_led"] < 1.0  # mostly on time, some drift, worse in traditional
    overdue = sample_engine.run("overdue_visits")
    assert overdue.height > 0
    assert overdue["working_days_overdue"].is_sorted(descending=True)  # worst first
    caseload = sample_engine.run("team_caseload")
    holders_fte = caseload["case_holding_fte"].sum()
    assert 12 < caseload["open_cases"].sum() / holders_fte < 20  # about 16 cases per case-holding FTE


def test_compliance_rag_against_the_councils_targets(tiny_engine):
    """Green meets the target, amber misses it by at most rag_amber_points, red by more; none with nothing measured."""

    def visits(**targets):
        rows = tiny_engine.run("compliance_summary", team_id="T1", **targets)
        return rows.filter(measure="visits_in_timescale").select("pct", "target", "rag").row(0)

    assert visits() == (0.0, 90.0, "red")  # 0 of 1 against settings.toml's 90%
    assert visits(target_visits_in_timescale=0.0) == (0.0, 0.0, "green")
    assert visits(target_visits_in_timescale=4.0) == (0.0, 4.0, "amber")
    assert visits(target_visits_in_timescale=4.0, rag_amber_points=3.0)[2] == "red"
    nothing = tiny_engine.run("compliance_summary", team_id="T1").filter(measure="icpc_15wd").row(0, named=True)
    assert (nothing["denominator"], nothing["rag"]) == (0, None)


def test_a_rag_is_hidden_with_the_counts_it_rests_on(sample_engine):
    from queries.access import Scope

    seen = sample_engine.run("compliance_summary", scope=Scope("head_of_service", "h@x"))
    hidden = seen.filter(pl.col("numerator").is_null() | pl.col("denominator").is_null())
    assert hidden.height and hidden["rag"].null_count() == hidden.height
    shown = seen.filter(pl.col("pct").is_not_null())
    lower = ~shown["higher_is_better"]
    miss = (shown["pct"] - shown["target"]).zip_with(lower, shown["target"] - shown["pct"])  # lower: above it misses
    expected = ["green" if m <= 0 else "amber" if m <= 5 else "red" for m in miss.to_list()]
    assert shown["rag"].to_list() == expected
