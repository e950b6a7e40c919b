"""Team outcomes and demand: Kaplan-Meier and log-rank through the real questions, re-referrals,
the forecast's backtest on a known seasonal series, and the sample's planted team differences."""

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from helpers import referral, replace_rows, rows_frame

AS_OF = dt.date(2026, 3, 31)
# Freireich et al. (1963) remission times in weeks (Gehan 1965); a trailing * is censored.
SIX_MP = [
    "6",
    "6",
    "6",
    "6*",
    "7",
    "9*",
    "10",
    "10*",
    "11*",
    "13",
    "16",
    "17*",
    "19*",
    "20*",
    "22",
    "23",
    "25*",
    "32*",
    "32*",
    "34*",
    "35*",
]
PLACEBO = [
    "1",
    "1",
    "2",
    "2",
    "3",
    "4",
    "4",
    "5",
    "5",
    "8",
    "8",
    "8",
    "8",
    "11",
    "11",
    "12",
    "12",
    "15",
    "17",
    "22",
    "23",
]
# Published: medians 23 and 8 weeks; log-rank chi-square 16.79 on 1 degree of freedom.
FREIREICH_MEDIANS_WEEKS = (23, 8)
FREIREICH_LOGRANK = 16.79


def freireich_referrals() -> list[dict]:
    """Each remission time as an episode of need: T1 (data-led) is 6-MP, T2 (traditional) placebo.

    An event closes the referral weeks*7 days after it started; a censored time is an episode still
    open on as_of that started weeks*7 days before it.
    """
    rows = []
    for team, times in (("T1", SIX_MP), ("T2", PLACEBO)):
        for i, text in enumerate(times):
            days = int(text.rstrip("*")) * 7
            if text.endswith("*"):
                start, closed = AS_OF - dt.timedelta(days=days), None
            else:
                start = dt.date(2025, 6, 4)
                closed = (start + dt.timedelta(days=days)).isoformat()
            rows.append(referral(f"{team}-{i}", f"{team}-C{i}", start.isoformat(), team=team, closed=closed))
    return rows


def test_kaplan_meier_and_logrank_reproduce_freireich(make_engine):
    engine = make_engine(replace_rows("referrals", freireich_referrals()))
    outcomes = {r["group"]: r for r in engine.run("team_outcomes").iter_rows(named=True)}
    assert outcomes["data_led"]["median_days_to_close"] == FREIREICH_MEDIANS_WEEKS[0] * 7
    assert outcomes["traditional"]["median_days_to_close"] == FREIREICH_MEDIANS_WEEKS[1] * 7
    test = engine.run("time_to_close_logrank").row(0, named=True)
    assert round(test["chi_square"], 2) == FREIREICH_LOGRANK and test["df"] == 1
    curves = engine.run("time_to_close")
    placebo = curves.filter(group="traditional")
    assert placebo["still_open"][-1] == 0.0  # every placebo remission ended
    assert placebo.filter(pl.col("time") == 56)["still_open"][0] == pytest.approx(8 / 21)  # after 8 weeks


@pytest.mark.parametrize(("gap_days", "counts"), [(1, True), (365, True), (366, False), (0, False)])
def test_rereferral_in_team_outcomes(make_engine, gap_days, counts):
    second = dt.date(2026, 1, 10)
    first = second - dt.timedelta(days=gap_days)
    rows = [referral("R1", "C1", first.isoformat(), nfa=True), referral("R2", "C1", second.isoformat())]
    engine = make_engine(replace_rows("referrals", rows))
    outcomes = engine.run("team_outcomes", by="team").filter(group="T1").row(0, named=True)
    assert outcomes["rereferrals"] == int(counts)


def test_service_and_absence_rates_by_hand(tiny_engine):
    by_team = {r["group"]: r for r in tiny_engine.run("team_outcomes", by="team").iter_rows(named=True)}
    # T2 episodes in the window: R2, R3, R6 (non-NFA); SE2 serves R2: 1 per 3 episodes.
    assert by_team["T2"]["service_episodes_per_100"] == pytest.approx(100 / 3)
    assert by_team["T2"]["episodes"] == 3
    # Absence in the 12 months: T2's workers W3 (0 of 16 days) and W4 (3.5 of 12); T1's W1 (1 of 21).
    assert by_team["T2"]["absence_rate"] == pytest.approx(3.5 / 28)
    assert by_team["T1"]["absence_rate"] == pytest.approx(1 / 21)
    # Bootstrapping over workers needs two of them: T2 has an interval, T1 (one worker) none.
    assert 0 <= by_team["T2"]["absence_ci_low"] <= 3.5 / 28 <= by_team["T2"]["absence_ci_high"]
    assert by_team["T1"]["absence_ci_low"] is None


def seasonal_referrals(months: int = 60) -> list[dict]:
    """A known pattern: 40 referrals a month plus a seasonal swing peaking every September, small wobble."""
    swing = [0, -4, -6, -2, 3, 14, -8, -10, 6, 9, 2, -4]  # April .. March; September is +14
    rows, start = [], dt.date(2021, 4, 1)
    for m in range(months):
        month_start = dt.date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1)
        count = 40 + swing[m % 12] + (m * 7919) % 5 - 2
        for k in range(count):
            day = month_start + dt.timedelta(days=k % 28)
            closed = day + dt.timedelta(days=45)  # every episode lasts 45 days
            closure = closed.isoformat() if closed <= AS_OF else None
            rows.append(referral(f"R{m}-{k}", f"C{m}-{k}", day.isoformat(), closed=closure))
    return rows


def test_forecast_and_backtest_on_a_known_seasonal_series(make_engine):
    engine = make_engine(replace_rows("referrals", seasonal_referrals()))
    forecast = engine.run("demand_forecast")
    assert forecast.height == 12 and forecast["month"][0] == dt.date(2026, 4, 1)
    peak = forecast.sort("forecast", descending=True)["month"][0]
    assert peak.month == 9  # September, the planted peak
    assert (forecast["lo95"] <= forecast["lo80"]).all() and (forecast["hi80"] <= forecast["hi95"]).all()
    assert forecast.filter(pl.col("month").dt.month() == 9)["forecast"][0] == pytest.approx(54, abs=3)
    scores = dict(engine.run("demand_backtest").rows())
    assert scores["origins"] == 6
    assert scores["model_mase"] < scores["seasonal_naive_mase"]  # smoothing the wobble beats last year's copy


def test_caseload_projection_on_a_steady_series(make_engine):
    engine = make_engine(replace_rows("referrals", seasonal_referrals()))
    projection = engine.run("caseload_projection", team_id="T1", caseload=10.0)
    assert projection.height == 12
    assert (projection["fte_needed"] - projection["projected_open_cases"] / 10).abs().max() < 0.06


def test_planted_team_differences_in_the_sample(sample_engine):
    """sample_data/README.md: data-led teams close faster, with fewer re-referrals, fewer services, less absence."""
    outcomes = {r["group"]: r for r in sample_engine.run("team_outcomes").iter_rows(named=True)}
    led, trad = outcomes["data_led"], outcomes["traditional"]
    assert led["rereferral_ci_high"] < trad["rereferral_ci_low"]
    assert led["median_ci_high"] < trad["median_ci_low"]
    assert led["absence_rate"] < trad["absence_rate"]
    assert led["service_episodes_per_100"] < trad["service_episodes_per_100"]
    assert sample_engine.run("time_to_close_logrank")["p_value"][0] < 0.001
    funnel = sample_engine.run("rereferral_funnel")
    assert ((funnel["lower_998"] <= funnel["lower_95"]) & (funnel["upper_95"] <= funnel["upper_998"])).all()
    assert math.isclose(funnel["overall_rate"][0], funnel["rereferrals"].sum() / funnel["referrals"].sum())


def test_england_reference_figures():
    from queries.models.outcomes import england_reference

    figures = dict(england_reference(None).select("measure", "value").rows())
    assert figures == {
        "rereferral_rate": 0.22,
        "cases_per_fte": 16.0,
        "absence_rate": 0.032,
        "assessment_45wd_rate": 0.857,
        "icpc_15wd_rate": 0.814,
    }


def test_rows_frame_builds_contract_types():
    frame = rows_frame("referrals", [referral("R1", "C1", "2026-01-01")])
    assert frame.schema["referral_date"] == pl.Date


def funnel_extract(rereferrals_by_team: list[int], per_team: int = 100):
    """Teams T01.. with `per_team` referrals each in the 12 months to AS_OF, the given number of them
    re-referrals (each child's earlier referral dated before the 12 months, so it is not counted)."""

    def edit(tables):
        teams = [
            {"team_id": f"T{i:02d}", "team_name": f"Team {i}", "service_area": "assessment",
             "practice_model": "data_led" if i % 2 else "traditional", "focus": None}
            for i in range(1, len(rereferrals_by_team) + 1)
        ]  # fmt: skip
        rows = []
        for team, repeats in zip(teams, rereferrals_by_team, strict=True):
            t = team["team_id"]
            for k in range(per_team):
                rows.append(referral(f"{t}-{k}", f"{t}-C{k}", "2026-01-10", team=t, closed="2026-02-10"))
                if k < repeats:
                    rows.append(referral(f"{t}-{k}e", f"{t}-C{k}", "2025-01-20", team=t, closed="2025-02-20"))
        tables["teams"] = rows_frame("teams", teams)
        tables["referrals"] = rows_frame("referrals", rows)
        return tables

    return edit


# z-scores -3, -2, -1, -1, 0, 0, 1, 1, 2, 3 at n = 100 around 0.5 (tests/test_stats.py works them by hand):
# phi = 2.082, heterogeneity chi-square 30 on 9 df (p = 0.000439), adjusted 99.8% limits 0.277053-0.722947.
# The exact 99.8% limits at n = 100, p0 = 0.5 are 0.341216-0.648784: only the team at 65% is outside them.
FUNNEL_Z = [-3, -2, -1, -1, 0, 0, 1, 1, 2, 3]


def test_funnel_widens_its_limits_when_teams_are_overdispersed(make_engine):
    engine = make_engine(funnel_extract([50 + 5 * z for z in FUNNEL_Z]))
    funnel = engine.run("rereferral_funnel").sort("team_id")
    assert funnel["limits_adjusted"].all()
    assert funnel["phi"][0] == pytest.approx(2.082, abs=1e-9)
    assert funnel["overdispersion_p"][0] == pytest.approx(0.000439, abs=5e-7)
    assert funnel["lower_998"].to_list() == pytest.approx([0.277053] * 10, abs=1e-6)
    assert funnel["upper_95"].to_list() == pytest.approx([0.641403] * 10, abs=1e-6)
    assert not funnel["outside_998"].any()
    assert funnel.filter("outside_998_unadjusted")["team_id"].to_list() == ["T10"]  # 65%, z = 3
    limits = engine.run("rereferral_funnel_limits")
    at_100 = limits.filter(pl.col("n") == 100, pl.col("level") == 0.998)
    assert at_100["lower"][0] == pytest.approx(0.277053, abs=1e-6) and limits["limits_adjusted"].all()


def test_funnel_keeps_exact_limits_when_teams_vary_as_chance_would(make_engine):
    # Rates 48, 50, 52 of 100 around 0.5: z = -0.4, 0, 0.4, chi-square 0.32 on 2 df: no overdispersion.
    engine = make_engine(funnel_extract([48, 50, 52]))
    funnel = engine.run("rereferral_funnel")
    assert not funnel["limits_adjusted"].any()
    assert funnel["lower_998"].to_list() == pytest.approx([0.341216] * 3, abs=1e-6)
    assert funnel["overdispersion_p"][0] == pytest.approx(math.exp(-0.16), abs=1e-9)  # chi2(2) sf = exp(-x/2)


def test_closures_that_come_back_are_counted_against_the_closing_team(make_engine):
    """The 12 months of closures judged run from as_of - 730 (excluded) to as_of - 365 (included)."""
    rows = [
        # T1 closes A's referral; A comes back 334 days later to T2: T2's re-referral, T1's returned closure.
        referral("R1", "A", "2024-05-01", team="T1", closed="2024-06-01"),
        referral("A2", "A", "2025-05-01", team="T2"),
        # T1 closes B's; B comes back 366 days after the closure: not within the year.
        referral("R2", "B", "2024-06-01", team="T1", closed="2024-07-01"),
        referral("B2", "B", "2025-07-02", team="T3"),
        # T1 closed C's before the window.
        referral("R3", "C", "2024-01-02", team="T1", closed="2024-02-01"),
        referral("C2", "C", "2024-05-01", team="T3", closed="2024-05-02"),
        # T1's NFA on the window's last day; E comes back: an NFA is a closure too.
        referral("R5", "E", "2025-03-31", team="T1", nfa=True, closed="2025-03-31"),
        referral("E2", "E", "2025-06-01", team="T3"),
        # T2 closes D's inside the last year: not yet had its year; F's the day after the window opens; G's on
        # the day it opens (excluded), and G comes back.
        referral("R4", "D", "2025-03-01", team="T2", closed="2025-04-15"),
        referral("R6", "F", "2024-03-01", team="T2", closed="2024-04-01"),
        referral("R7", "G", "2024-03-01", team="T2", closed="2024-03-31"),
        referral("G2", "G", "2024-12-01", team="T3"),
    ]
    engine = make_engine(replace_rows("referrals", rows))
    by_team = {r["group"]: r for r in engine.run("team_outcomes", by="team").iter_rows(named=True)}
    assert (by_team["T1"]["closures"], by_team["T1"]["closures_returned"]) == (3, 2)
    assert (by_team["T2"]["closures"], by_team["T2"]["closures_returned"]) == (1, 0)
    assert by_team["T2"]["rereferrals"] == 1  # A's return counts against the team that received it
    # Wilson 95% for 2 of 3 (Newcombe 1998 method 3, by hand): 0.2077 to 0.9385.
    assert by_team["T1"]["closure_return_rate"] == pytest.approx(2 / 3)
    assert round(by_team["T1"]["closure_return_ci_low"], 4) == 0.2077
    assert round(by_team["T1"]["closure_return_ci_high"], 4) == 0.9385
    by_model = {r["group"]: r for r in engine.run("team_outcomes").iter_rows(named=True)}
    assert by_model["traditional"]["closures"] == 1 and by_model["data_led"]["closures_returned"] == 2


def test_start_up_ramp_is_the_months_before_the_series_reaches_its_level():
    from queries.models.demand import start_up_ramp

    # Level: the median of the last 12 months = 40; 75% of it is 30, first reached by the 5th month (31).
    assert start_up_ramp([1, 0, 6, 20, 31, 28, *([40] * 12)]) == 4
    assert start_up_ramp([38, 45, *([40] * 12)]) == 0  # starts at its level
    assert start_up_ramp([0, 0, 0]) == 0  # no level at all


def test_forecast_leaves_the_start_up_ramp_out_of_the_fit(make_engine):
    steady = seasonal_referrals()  # from April 2021
    # Six months before it of a system filling up: 1, 2, 4, 8, 12 and 20 referrals.
    ramp = [
        referral(f"P{m}-{k}", f"P{m}-{k}", dt.date(2020, 10 + m, 1).isoformat() if m < 3 else
                 dt.date(2021, m - 2, 1).isoformat())
        for m, count in enumerate([1, 2, 4, 8, 12, 20])
        for k in range(count)
    ]  # fmt: skip
    with_ramp = make_engine(replace_rows("referrals", ramp + steady)).run("demand_forecast")
    without = make_engine(replace_rows("referrals", steady)).run("demand_forecast")
    assert with_ramp["ramp_months_trimmed"][0] == 6 and without["ramp_months_trimmed"][0] == 0
    assert with_ramp["fitted_from"][0] == dt.date(2021, 4, 1)
    assert with_ramp["forecast"].to_list() == pytest.approx(without["forecast"].to_list())
    assert with_ramp["hi80"].to_list() == pytest.approx(without["hi80"].to_list())


def test_backtest_coverage_counts_the_months_inside_each_interval(monkeypatch):
    from queries.models import demand

    def fixed_model(values, first_month, horizon):  # a model that always says 10, 80%: 9-11, 95%: 8-12
        return "fixed", *(np.full(horizon, v) for v in (10.0, 9.0, 11.0, 8.0, 12.0))

    monkeypatch.setattr(demand, "_fit_and_forecast", fixed_model)
    # 40 months of 10 or 11 but the last at 11.5: origins 12, 10, .., 2 months before the end score
    # 12 + 10 + 8 + 6 + 4 + 2 = 42 months ahead; the last month is in all six, outside 9-11, inside 8-12.
    counts = [10.0 + (m % 2) for m in range(39)] + [11.5]
    history = pl.DataFrame(
        {"month": [demand._add_months(dt.date(2023, 1, 1), m) for m in range(40)], "referrals": counts}
    )
    scores = demand.backtest(history)
    assert scores["origins"] == 6 and scores["months_scored"] == 42
    assert scores["coverage_80"] == pytest.approx(36 / 42)
    assert scores["coverage_95"] == 1.0


def test_caseload_projection_has_an_interval_from_the_forecast(make_engine, monkeypatch):
    engine = make_engine(replace_rows("referrals", seasonal_referrals()))
    projection = engine.run("caseload_projection", team_id="T1", caseload=10.0)
    assert (projection["projected_low"] <= projection["projected_open_cases"] + 0.05).all()
    assert (projection["projected_open_cases"] <= projection["projected_high"] + 0.05).all()
    assert (projection["projected_high"] > projection["projected_low"]).all()
    assert (projection["fte_high"] - projection["projected_high"] / 10).abs().max() < 0.06
    # With no uncertainty (every simulated future is the forecast itself) the interval is the projection.
    from queries.models import demand

    def certain(values, first_month, horizon):
        mean = demand._fit_and_forecast(values, first_month, horizon)[1]
        return np.repeat(np.maximum(mean, 0)[:, None], 5, axis=1)

    monkeypatch.setattr(demand, "_sample_paths", certain)
    flat = make_engine(replace_rows("referrals", seasonal_referrals())).run("caseload_projection", team_id="T1",
                                                                           caseload=10.0)  # fmt: skip
    assert flat["projected_low"].to_list() == pytest.approx(flat["projected_open_cases"].to_list(), abs=0.051)
    assert flat["projected_high"].to_list() == pytest.approx(flat["projected_open_cases"].to_list(), abs=0.051)


def test_outcomes_within_service_area(make_engine):
    def edit(tables):
        tables["teams"] = rows_frame(
            "teams",
            [
                {"team_id": "T1", "team_name": "A", "service_area": "assessment", "practice_model": "data_led"},
                {"team_id": "T2", "team_name": "B", "service_area": "assessment", "practice_model": "traditional"},
                {"team_id": "T3", "team_name": "C", "service_area": "front_door", "practice_model": "traditional"},
            ],
        )
        rows = [referral(f"{t}-{k}", f"{t}-C{k}", "2026-01-10", team=t) for t, n in (("T1", 4), ("T2", 2), ("T3", 3))
                for k in range(n)]  # fmt: skip
        rows.append(referral("E1", "T1-C0", "2025-12-01", team="T3"))  # makes T1-C0's January referral a re-referral
        tables["referrals"] = rows_frame("referrals", rows)
        return tables

    area = make_engine(edit).run("team_outcomes_by_area")
    engine_rows = {(r["service_area"], r["group"]): r for r in area.iter_rows(named=True)}
    assert (
        engine_rows[("assessment", "data_led")]["referrals"],
        engine_rows[("assessment", "data_led")]["rereferrals"],
    ) == (4, 1)
    assert engine_rows[("assessment", "traditional")]["referrals"] == 2
    assert engine_rows[("front_door", "traditional")]["referrals"] == 4
    assert engine_rows[("assessment", "data_led")]["models_in_area"] == 2
    assert engine_rows[("front_door", "traditional")]["models_in_area"] == 1
    # Wilson 95% for 1 of 4, by hand: 0.0456 to 0.6994.
    assert round(engine_rows[("assessment", "data_led")]["rereferral_ci_low"], 4) == 0.0456
    assert round(engine_rows[("assessment", "data_led")]["rereferral_ci_high"], 4) == 0.6994


def test_a_forecast_is_hidden_with_the_small_months_it_is_fitted_to(make_engine):
    """A head of service sees no forecast of a series with a month of 1 to 5 referrals (the history hides that
    month, and the forecast sits close to it); an analyst sees it, and a large series is shown to both."""
    from queries.access import Scope

    head = Scope("head_of_service", "head@x.gov.uk")
    rows = seasonal_referrals()  # 40 ± a few a month: no small month
    small = [r for r in rows if not r["referral_id"].startswith("R30-") or r["referral_id"] in ("R30-0", "R30-1")]
    engine = make_engine(replace_rows("referrals", small))  # month 30 now has 2 referrals
    hidden = engine.run("demand_forecast", scope=head)
    assert hidden.height == 12 and hidden["forecast"].null_count() == 12 and hidden["smallest_month"].null_count() == 12
    assert engine.run("demand_forecast")["smallest_month"][0] == 2  # exact for an analyst
    shown = make_engine(replace_rows("referrals", rows)).run("demand_forecast", scope=head)
    assert shown["forecast"].null_count() == 0 and shown["smallest_month"][0] > 5
