"""Team outcomes: re-referrals, time to close, use of services and sickness absence, by group.

Groups are practice models (data-led, traditional) or teams. Every figure covers referrals
dated in the 12 months to as_of. DuckDB aggregates; the small per-group tables get their
intervals here: Wilson for the re-referral rate, Kaplan-Meier (open episodes censored at
as_of) for the median days to close, an exact Poisson interval for service episodes per 100
episodes, and a bootstrap over workers (seeded, so repeatable) for the absence rate.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import polars as pl

from queries.registry import python_query
from queries.stats import (
    adjusted_funnel_limits,
    funnel_limits,
    kaplan_meier,
    km_median,
    logrank_test,
    overdispersion,
    wilson_intervals,
)
from queries.stats.distributions import gamma_ppf

GROUP_PARAMS = [
    "as_of date = as_of ; the end of the 12 months",
    "by str = practice_model ; compare practice models or teams | choices: practice_model, team",
]
REFERENCE_FILE = Path(__file__).resolve().parent.parent / "reference" / "england.toml"
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_BLOCK = 1_000_000  # indices drawn at once in the bootstrap (about 8 MB)

GROUP_EXPR = "CASE WHEN $by = 'team' THEN team_id ELSE practice_model END"

REREFERRALS_SQL = f"""
SELECT {GROUP_EXPR} AS "group", count(*) AS referrals, count(*) FILTER (WHERE is_rereferral) AS rereferrals
FROM referral_flags($as_of)
GROUP BY ALL
"""

EPISODES_SQL = f"""
SELECT {GROUP_EXPR} AS "group", coalesce(primary_need, 'N0') AS primary_need,
       CAST(coalesce(least(closure_date, $as_of), $as_of) - referral_date AS INTEGER) AS days,
       closure_date IS NOT NULL AND closure_date <= $as_of AS closed,
       count(*) AS episodes
FROM referral_flags($as_of)
WHERE NOT nfa
GROUP BY ALL
"""

SERVICES_SQL = f"""
-- Service episodes counted per referral before the join, so each episode is one row and is
-- counted as the other figures count referrals (joining first and counting distinct referrals
-- took most of team_outcomes' time at national scale).
SELECT {GROUP_EXPR} AS "group", count(*) AS episodes,
       CAST(coalesce(sum(s.service_episodes), 0) AS BIGINT) AS service_episodes
FROM referral_flags($as_of) AS e
LEFT JOIN (
    SELECT referral_id, count(*) AS service_episodes FROM service_episodes WHERE start_date <= $as_of GROUP BY referral_id
) AS s ON s.referral_id = e.referral_id
WHERE NOT e.nfa
GROUP BY ALL
"""

CLOSURE_RETURNS_SQL = """
-- Closures a full year before as_of (closed after as_of - 730 days, up to as_of - 365), so each has
-- had its whole year to come back; grouped by the team that held the referral when it closed.
SELECT CASE WHEN $by = 'team' THEN c.team_id ELSE t.practice_model END AS "group", count(*) AS closures,
       count(*) FILTER (WHERE c.returned_within_365) AS closures_returned
FROM referral_facts AS c
JOIN teams AS t ON t.team_id = c.team_id
WHERE c.closure_date > $as_of - 730 AND c.closure_date <= $as_of - 365
GROUP BY ALL
"""

ABSENCE_SQL = """
SELECT CASE WHEN $by = 'team' THEN w.team_id ELSE t.practice_model END AS "group", a.worker_id,
       sum(a.absence_days) AS absence_days, sum(a.contracted_days) AS contracted_days
FROM worker_absence AS a
JOIN workers AS w ON w.worker_id = a.worker_id
JOIN teams AS t ON t.team_id = w.team_id
WHERE a.month > $as_of - 365 AND a.month <= $as_of
GROUP BY ALL
ORDER BY ALL  -- the bootstrap resamples workers in this order: a fixed order keeps its interval repeatable
"""


def poisson_rate_interval(events: int, exposure: int, per: float = 100.0, confidence: float = 0.95):
    """Exact (Garwood 1936) interval for a rate of events per `per` units of exposure."""
    if exposure == 0:
        return np.nan, np.nan
    alpha = 1 - confidence
    # chi2.ppf(q, 2k) / 2 in the usual statement of it: the gamma(k) quantile, the same numbers to the bit
    low = gamma_ppf(alpha / 2, events) if events > 0 else 0.0
    high = gamma_ppf(1 - alpha / 2, events + 1)
    return per * low / exposure, per * high / exposure


def bootstrap_ratio_interval(numerators, denominators, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 20260331):
    """Percentile bootstrap interval for sum(numerators) / sum(denominators), resampling the units (workers)."""
    numerators, denominators = np.asarray(numerators, float), np.asarray(denominators, float)
    if len(numerators) < 2:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    # Resamples drawn a block of rows at a time: the same random stream and sums as one
    # (resamples x units) draw, so the same interval, without a matrix of millions of indices.
    block = max(1, min(resamples, BOOTSTRAP_BLOCK // len(numerators)))
    ratios = []
    for start in range(0, resamples, block):
        picks = rng.integers(0, len(numerators), size=(min(block, resamples - start), len(numerators)))
        ratios.append(numerators[picks].sum(axis=1) / denominators[picks].sum(axis=1))
    ratios = np.concatenate(ratios)
    return float(np.quantile(ratios, 0.025)), float(np.quantile(ratios, 0.975))


def median_days_by_group(episodes: pl.DataFrame) -> dict[str, tuple[float, float, float]]:
    medians = {}
    for (group,), part in episodes.group_by("group"):
        table = kaplan_meier(part["days"], part["closed"], weights=part["episodes"])
        medians[group] = km_median(table)
    return medians


@python_query(
    "team_outcomes",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    counts=[["referrals", "rereferrals"], ["episodes", "service_episodes"], ["closures", "closures_returned"]],
    derived={
        **{c: ["rereferrals", "referrals"] for c in ("rereferral_rate", "rereferral_ci_low", "rereferral_ci_high")},
        **{
            c: ["closures_returned", "closures"]
            for c in ("closure_return_rate", "closure_return_ci_low", "closure_return_ci_high")
        },  # fmt: skip
        **{c: ["referrals"] for c in ("median_days_to_close", "median_ci_low", "median_ci_high")},
        **{
            c: ["service_episodes", "episodes"]
            for c in ("service_episodes_per_100", "service_ci_low", "service_ci_high")
        },
    },
    title="Team outcomes",
    description="For each practice model (or team, with by=team), over referrals dated in the 12 months to as_of: "
    "referrals, the re-referral rate (with a Wilson 95% interval), the median days to close an episode of need "
    "(Kaplan-Meier, open episodes censored at as_of), commissioned service episodes per 100 episodes, and the "
    "sickness absence rate of the group's workers, each with a 95% interval. Beside the re-referral rate (counted "
    "against the team receiving the new referral): closure_return_rate, the share of the group's own closures "
    "(referrals, NFA included, closed in the 12 months ending a year before as_of) whose child was referred again within 365 days "
    "(Wilson 95% interval), by the team that closed them.",
    tables=["referrals", "teams"],
    optional_tables=["service_episodes", "worker_absence", "workers"],
    params=GROUP_PARAMS,
)
def team_outcomes(cursor, as_of, by) -> pl.DataFrame:
    params = {"as_of": as_of, "by": by}
    rereferrals = cursor.sql(REREFERRALS_SQL, params=params).pl()
    medians = median_days_by_group(cursor.sql(EPISODES_SQL, params=params).pl())
    services = {r["group"]: r for r in cursor.sql(SERVICES_SQL, params=params).pl().iter_rows(named=True)}
    absence = cursor.sql(ABSENCE_SQL, params=params).pl()
    returns = {r["group"]: r for r in cursor.sql(CLOSURE_RETURNS_SQL, params=params).pl().iter_rows(named=True)}
    rows = []
    received = {r["group"]: r for r in rereferrals.iter_rows(named=True)}
    # A group that closed referrals a year ago but received none this year still has its closures to show.
    for group in sorted(received.keys() | returns.keys()):
        r = received.get(group, {"referrals": 0, "rereferrals": 0})
        rate_low, rate_high = wilson_intervals([r["rereferrals"]], [r["referrals"]])
        median, median_low, median_high = medians.get(group, (np.nan, np.nan, np.nan))
        svc = services.get(group, {"episodes": 0, "service_episodes": 0})
        per_100 = 100 * svc["service_episodes"] / svc["episodes"] if svc["episodes"] else None
        svc_low, svc_high = poisson_rate_interval(svc["service_episodes"], svc["episodes"])
        mine = absence.filter(pl.col("group") == group)
        contracted = mine["contracted_days"].sum()
        absence_rate = mine["absence_days"].sum() / contracted if contracted else None
        abs_low, abs_high = bootstrap_ratio_interval(mine["absence_days"], mine["contracted_days"])
        closed = returns.get(group, {"closures": 0, "closures_returned": 0})
        return_low, return_high = wilson_intervals([closed["closures_returned"]], [closed["closures"]])
        rows.append(
            {
                "group": group,
                "referrals": r["referrals"],
                "rereferral_rate": r["rereferrals"] / r["referrals"] if r["referrals"] else None,
                "median_days_to_close": median,
                "service_episodes_per_100": per_100,
                "absence_rate": absence_rate,
                "rereferrals": r["rereferrals"],
                "rereferral_ci_low": float(rate_low[0]),
                "rereferral_ci_high": float(rate_high[0]),
                "median_ci_low": median_low,
                "median_ci_high": median_high,
                "episodes": svc["episodes"],
                "service_episodes": svc["service_episodes"],
                "service_ci_low": svc_low,
                "service_ci_high": svc_high,
                "absence_ci_low": abs_low,
                "absence_ci_high": abs_high,
                "workers": mine.height,
                "closures": closed["closures"],
                "closures_returned": closed["closures_returned"],
                "closure_return_rate": closed["closures_returned"] / closed["closures"] if closed["closures"] else None,
                "closure_return_ci_low": float(return_low[0]),
                "closure_return_ci_high": float(return_high[0]),
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None).fill_nan(None)


@python_query(
    "time_to_close",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    title="Time to close an episode of need",
    description="Kaplan-Meier curves of days from referral to closure for non-NFA referrals dated in the 12 months "
    "to as_of, by practice model or team; an episode still open on as_of is censored there. One row per group "
    "and day on which an episode closed or was censored, with the share still open and its 95% interval.",
    tables=["referrals", "teams"],
    params=GROUP_PARAMS,
)
def time_to_close(cursor, as_of, by) -> pl.DataFrame:
    episodes = cursor.sql(EPISODES_SQL, params={"as_of": as_of, "by": by}).pl()
    curves = []
    for (group,), part in episodes.group_by("group", maintain_order=True):
        table = kaplan_meier(part["days"], part["closed"], weights=part["episodes"])
        curves.append(table.with_columns(pl.lit(group).alias("group")).rename({"survival": "still_open"}))
    if not curves:
        return pl.DataFrame(schema={"group": pl.String, "time": pl.Float64, "still_open": pl.Float64})
    return pl.concat(curves).select("group", pl.all().exclude("group")).sort("group", "time")


@python_query(
    "time_to_close_logrank",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    title="Do groups differ in time to close? (log-rank test)",
    description="The log-rank test of the Kaplan-Meier curves of days to close (non-NFA referrals in the 12 months "
    "to as_of, open episodes censored): chi-square, degrees of freedom and p-value, by practice model or team.",
    tables=["referrals", "teams"],
    params=GROUP_PARAMS,
)
def time_to_close_logrank(cursor, as_of, by) -> pl.DataFrame:
    episodes = cursor.sql(EPISODES_SQL, params={"as_of": as_of, "by": by}).pl()
    chi2, df, p = logrank_test(episodes["days"], episodes["closed"], episodes["group"], weights=episodes["episodes"])
    return pl.DataFrame({"chi_square": [chi2], "df": [df], "p_value": [p], "groups": [episodes["group"].n_unique()]})


TEAM_REREFERRALS_SQL = """
SELECT f.team_id, t.team_name, count(*) AS referrals, count(*) FILTER (WHERE is_rereferral) AS rereferrals
FROM referral_flags($as_of) AS f JOIN teams AS t USING (team_id) GROUP BY ALL ORDER BY team_id
"""
FUNNEL_LEVELS = ((0.95, "95"), (0.998, "998"))


def funnel_limits_for(teams: pl.DataFrame, n_values) -> tuple[pl.DataFrame, dict]:
    """The limits to judge teams by at each n, and the overdispersion test behind the choice.

    Spiegelhalter (2005): when the teams' re-referral rates vary more than chance would make them
    (Winsorised phi > 1, I * phi against chi-square on I - 1 df, p < 0.05), the limits are widened by
    the multiplicative factor phi; otherwise they are the exact binomial limits.
    """
    overall = teams["rereferrals"].sum() / teams["referrals"].sum()
    test = overdispersion(teams["rereferrals"], teams["referrals"], overall)
    if test["adjusted"]:
        limits = adjusted_funnel_limits(overall, n_values, test["phi"])
    else:
        limits = funnel_limits(overall, n_values)
    return limits, test | {"overall": overall}


def _level_columns(limits: pl.DataFrame, suffix: str = "") -> dict:
    columns = {}
    for level, name in FUNNEL_LEVELS:
        at_level = limits.filter(pl.col("level") == level)
        columns[f"lower_{name}{suffix}"] = at_level["lower"]
        columns[f"upper_{name}{suffix}"] = at_level["upper"]
    return columns


FUNNEL_DERIVED = (
    "rate", "outside_998", "outside_998_unadjusted", "phi", "overdispersion_p", "lower_95", "upper_95",
    "lower_998", "upper_998",
)  # fmt: skip


@python_query(
    "rereferral_funnel",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    counts=[["referrals", "rereferrals"]],
    derived={c: ["rereferrals", "referrals"] for c in FUNNEL_DERIVED},
    title="Re-referral rate by team, against funnel limits",
    description="Each team's re-referral rate over referrals in the 12 months to as_of, with the 95% and 99.8% "
    "funnel limits around the council's overall rate at that team's number of referrals (Spiegelhalter 2005). "
    "Overdispersion is estimated first (phi: the mean squared Winsorised z-score; I * phi against chi-square on "
    "I - 1 degrees of freedom): when present (p < 0.05) the limits are widened by phi (multiplicative model, "
    "limits_adjusted true), otherwise they are exact binomial. A team outside the 99.8% limits used differs by "
    "more than chance; outside_998_unadjusted says whether it is outside the exact limits.",
    tables=["referrals", "teams"],
    params=["as_of date = as_of ; the end of the 12 months"],
)
def rereferral_funnel(cursor, as_of) -> pl.DataFrame:
    teams = cursor.sql(TEAM_REREFERRALS_SQL, params={"as_of": as_of}).pl()
    if teams.is_empty():
        return teams
    n = teams["referrals"].to_numpy()
    limits, test = funnel_limits_for(teams, n)  # one row per team, per level, in team order
    exact = funnel_limits(test["overall"], n)
    return (
        teams.with_columns(
            rate=pl.col("rereferrals") / pl.col("referrals"),
            overall_rate=pl.lit(test["overall"]),
            **_level_columns(limits),
            **_level_columns(exact, "_exact"),
            phi=pl.lit(test["phi"], dtype=pl.Float64),
            overdispersion_p=pl.lit(test["p_value"], dtype=pl.Float64),
            limits_adjusted=pl.lit(test["adjusted"]),
        )
        .with_columns(
            outside_998=(pl.col("rate") < pl.col("lower_998")) | (pl.col("rate") > pl.col("upper_998")),
            outside_998_unadjusted=(pl.col("rate") < pl.col("lower_998_exact"))
            | (pl.col("rate") > pl.col("upper_998_exact")),
        )
        .drop("lower_95_exact", "upper_95_exact", "lower_998_exact", "upper_998_exact")
        .fill_nan(None)
    )


@python_query(
    "rereferral_funnel_limits",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    title="Funnel limits for re-referral rates",
    description="The 95% and 99.8% funnel limits around the council's re-referral rate (referrals in the 12 months "
    "to as_of) for every number of referrals from 10 up to the largest team's, to draw the funnel: widened for "
    "overdispersion when the teams show it (limits_adjusted, phi; as rereferral_funnel), else exact binomial.",
    tables=["referrals", "teams"],
    params=["as_of date = as_of ; the end of the 12 months"],
)
def rereferral_funnel_limits(cursor, as_of) -> pl.DataFrame:
    teams = cursor.sql(TEAM_REREFERRALS_SQL, params={"as_of": as_of}).pl()
    if teams.is_empty() or not teams["referrals"].sum():
        return pl.DataFrame(schema={"n": pl.Float64, "level": pl.Float64, "lower": pl.Float64, "upper": pl.Float64})
    grid = np.unique(np.geomspace(10, max(teams["referrals"].max(), 11) * 1.1, 80).round())
    limits, test = funnel_limits_for(teams, grid)
    return limits.with_columns(
        overall_rate=pl.lit(test["overall"]),
        phi=pl.lit(test["phi"], dtype=pl.Float64),
        limits_adjusted=pl.lit(test["adjusted"]),
    )


def with_rereferral_rate(counts: pl.DataFrame) -> pl.DataFrame:
    """rereferral_rate with its Wilson 95% interval, from the referrals and rereferrals columns."""
    low, high = wilson_intervals(counts["rereferrals"].to_numpy(), counts["referrals"].to_numpy())
    return counts.with_columns(
        rereferral_rate=pl.col("rereferrals") / pl.col("referrals"),
        rereferral_ci_low=pl.Series(low),
        rereferral_ci_high=pl.Series(high),
    )


@python_query(
    "team_outcomes_by_need",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    counts=[["referrals", "rereferrals"]],
    derived={
        **{c: ["rereferrals", "referrals"] for c in ("rereferral_rate", "rereferral_ci_low", "rereferral_ci_high")},
        "median_days_to_close": ["referrals"],
    },
    suppress_within=["group"],
    title="Outcomes within each primary need",
    description="Re-referral rate (Wilson 95% interval) and median days to close (Kaplan-Meier) by practice model "
    "within each primary need, over referrals in the 12 months to as_of, so that like is compared with like.",
    tables=["referrals", "teams"],
    params=["as_of date = as_of ; the end of the 12 months"],
)
def team_outcomes_by_need(cursor, as_of) -> pl.DataFrame:
    counts = cursor.sql(
        "SELECT coalesce(primary_need, 'N0') AS primary_need, practice_model AS \"group\", count(*) AS referrals, "
        "count(*) FILTER (WHERE is_rereferral) AS rereferrals FROM referral_flags($as_of) GROUP BY ALL "
        'ORDER BY primary_need, "group"',
        params={"as_of": as_of},
    ).pl()
    episodes = cursor.sql(EPISODES_SQL, params={"as_of": as_of, "by": "practice_model"}).pl()
    medians = {}
    for (need, group), part in episodes.group_by("primary_need", "group"):
        medians[(need, group)] = km_median(kaplan_meier(part["days"], part["closed"], weights=part["episodes"]))[0]
    return (
        with_rereferral_rate(counts)
        .with_columns(
            median_days_to_close=pl.Series(
                [medians.get((n, g)) for n, g in counts.select("primary_need", "group").rows()], dtype=pl.Float64
            ),
        )
        .fill_nan(None)
    )


AREA_SQL = """
WITH counts AS (
    SELECT t.service_area, f.practice_model AS "group", count(*) AS referrals,
           count(*) FILTER (WHERE f.is_rereferral) AS rereferrals
    FROM referral_flags($as_of) AS f
    JOIN teams AS t ON t.team_id = f.team_id
    GROUP BY ALL
)
SELECT *, count(*) OVER (PARTITION BY service_area) AS models_in_area
FROM counts
ORDER BY service_area, "group"
"""


@python_query(
    "team_outcomes_by_area",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    counts=[["referrals", "rereferrals"]],
    derived={c: ["rereferrals", "referrals"] for c in ("rereferral_rate", "rereferral_ci_low", "rereferral_ci_high")},
    suppress_within=["group"],
    title="Outcomes within each service area",
    description="Re-referral rate (Wilson 95% interval) by practice model within each service area (front door, "
    "assessment, child protection...), over referrals in the 12 months to as_of. Practice model goes with service "
    "area (a council may run all its front door teams one way), so models are compared within an area; "
    "models_in_area says how many practice models the area has: with one, there is nothing to compare there.",
    tables=["referrals", "teams"],
    params=["as_of date = as_of ; the end of the 12 months"],
)
def team_outcomes_by_area(cursor, as_of) -> pl.DataFrame:
    return with_rereferral_rate(cursor.sql(AREA_SQL, params={"as_of": as_of}).pl()).fill_nan(None)


@python_query(
    "england_reference",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager", "social_worker"),
    title="England's figures for comparison",
    description="National figures to set beside the council's own, from DfE statistics: the re-referral rate, "
    "average caseload per case-holding FTE, sickness absence, assessments within 45 working days and ICPCs within "
    "15 working days (queries/reference/england.toml, with sources).",
    tables=[],
    params=[],
)
def england_reference(cursor) -> pl.DataFrame:
    with REFERENCE_FILE.open("rb") as f:
        figures = tomllib.load(f)["figure"]
    return pl.DataFrame(figures).select("measure", "value", "year", "label", "source")
