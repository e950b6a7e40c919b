"""Demand: a seasonal forecast of referrals, its backtest, and the caseload it implies.

Monthly referral counts come from DuckDB (whole months up to as_of); the model is statsmodels'
ETS with additive error and additive 12-month seasonality (no trend), fitted on those few dozen
numbers. The backtest refits it at rolling origins over the last year and scores it by MASE
against the seasonal-naive forecast ("same month last year"), so users can see whether the model
beats last year's pattern, and by how often its 80% and 95% intervals held the months that came.

A history's start-up ramp is trimmed before any fit: the months before the series first reaches
RAMP_SHARE of its level (the median of its last 12 months), which are the months before a
case-management system held everything (a few historic referrals, then a climb). Left in, they
teach the model a level and a spread the service no longer has.
"""

from __future__ import annotations

import datetime as dt
import warnings
from functools import lru_cache

import numpy as np
import polars as pl

from queries.libraries import library
from queries.registry import python_query
from queries.stats import kaplan_meier, km_median, mase

pd = library("pandas")
ets = library("statsmodels.tsa.exponential_smoothing.ets")

SEASON = 12
HORIZON = 12
BACKTEST_ORIGINS = 6  # every other month over the last year
MIN_SEASONAL_MONTHS = 2 * SEASON + 1
RAMP_SHARE = 0.75  # the series has reached its level at the first month with at least this share of it
SIMULATIONS = 1000  # sample paths behind the caseload projection's interval
PROJECTION_LEVEL = 0.80  # the projection's interval

MONTHLY_SQL = """
WITH bounds AS (
    SELECT date_trunc('month', min(referral_date)) AS first_month,
           -- the last whole month: as_of's month when as_of is its last day, else the month before
           CASE WHEN $as_of = last_day($as_of) THEN date_trunc('month', $as_of)
                ELSE date_trunc('month', $as_of) - INTERVAL 1 MONTH END AS last_month
    FROM referrals
    WHERE ($team_id IS NULL OR team_id = $team_id) AND referral_date <= $as_of
),
months AS (
    SELECT CAST(m AS DATE) AS month
    FROM bounds, range(bounds.first_month, bounds.last_month + INTERVAL 1 MONTH, INTERVAL 1 MONTH) AS t(m)
)
SELECT m.month, count(r.referral_id) AS referrals
FROM months AS m
LEFT JOIN referrals AS r
    ON date_trunc('month', r.referral_date) = m.month AND ($team_id IS NULL OR r.team_id = $team_id)
GROUP BY m.month
ORDER BY m.month
"""

FORECAST_PARAMS = [
    "as_of date = as_of ; the forecast starts the month after the last whole month up to this date",
    "team_id str = null ; one team's referrals (default: the whole council)",
]


def monthly_referrals(cursor, as_of: dt.date, team_id: str | None) -> pl.DataFrame:
    return cursor.sql(MONTHLY_SQL, params={"as_of": as_of, "team_id": team_id}).pl()


def _series(values, first_month: dt.date) -> pd.Series:
    start = pd.Period(first_month, freq="M")
    return pd.Series(np.asarray(values, dtype=float), index=pd.period_range(start, periods=len(values), freq="M"))


def start_up_ramp(values) -> int:
    """How many leading months are start-up ramp: those before the first month reaching RAMP_SHARE of the
    level (the median of the last 12 months). 0 when the series starts at its level, or has none."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return 0
    level = float(np.median(values[-SEASON:]))
    if level <= 0:
        return 0
    return int(np.argmax(values >= RAMP_SHARE * level))


def trimmed(values, first_month: dt.date) -> tuple[tuple[float, ...], dt.date, int]:
    """The series without its start-up ramp: (values, its first month, months trimmed)."""
    ramp = start_up_ramp(values)
    return tuple(float(v) for v in values[ramp:]), _add_months(first_month, ramp), ramp


@lru_cache(maxsize=256)
def _fitted(values: tuple[float, ...], first_month: dt.date):
    """The fitted ETS model for a series (cached by value): seasonal once there are 25 months."""
    series = _series(values, first_month)
    seasonal = len(values) >= MIN_SEASONAL_MONTHS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short or flat series
        model = ets.ETSModel(
            series, error="add", trend=None, seasonal="add" if seasonal else None, seasonal_periods=SEASON
        )
        return model.fit(disp=False), seasonal


@lru_cache(maxsize=256)
def _fit_and_forecast(values: tuple[float, ...], first_month: dt.date, horizon: int):
    """(model name, mean, lo80, hi80, lo95, hi95) for `horizon` months after the series (cached by value)."""
    fit, seasonal = _fitted(values, first_month)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prediction = fit.get_prediction(start=len(values), end=len(values) + horizon - 1)
        frame80 = prediction.summary_frame(alpha=0.20)
        frame95 = prediction.summary_frame(alpha=0.05)
    name = "ETS(A,N,A), 12-month seasonality" if seasonal else "ETS(A,N,N), too short for seasonality"
    return (
        name,
        frame80["mean"].to_numpy(),
        frame80["pi_lower"].to_numpy(),
        frame80["pi_upper"].to_numpy(),
        frame95["pi_lower"].to_numpy(),
        frame95["pi_upper"].to_numpy(),
    )


@lru_cache(maxsize=64)
def _sample_paths(values: tuple[float, ...], first_month: dt.date, horizon: int) -> np.ndarray:
    """SIMULATIONS future paths of the fitted model, (horizon, SIMULATIONS), counts never below 0.

    Drawn with the model's own Gaussian errors and a fixed seed, so the projection's interval repeats.
    """
    fit, _ = _fitted(values, first_month)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = fit.simulate(
            nsimulations=horizon, anchor="end", repetitions=SIMULATIONS, rng=np.random.default_rng(20260331)
        )
    return np.maximum(np.asarray(paths, dtype=float).reshape(horizon, SIMULATIONS), 0)


def forecast_frame(history: pl.DataFrame, horizon: int = HORIZON) -> pl.DataFrame:
    """The next `horizon` months after the history, with 80% and 95% intervals (counts never below 0)."""
    if history.height < 3:
        return pl.DataFrame(
            schema={c: pl.Float64 for c in ("forecast", "lo80", "hi80", "lo95", "hi95")} | {"month": pl.Date}
        ).select("month", "forecast", "lo80", "hi80", "lo95", "hi95")
    values, first, ramp = trimmed(history["referrals"].cast(pl.Float64).to_list(), history["month"][0])
    name, mean, lo80, hi80, lo95, hi95 = _fit_and_forecast(values, first, horizon)
    last = history["month"][-1]
    months = pl.Series("month", [_add_months(last, i) for i in range(1, horizon + 1)], dtype=pl.Date)
    return pl.DataFrame(
        {
            "month": months,
            "forecast": np.maximum(mean, 0),
            "lo80": np.maximum(lo80, 0),
            "hi80": np.maximum(hi80, 0),
            "lo95": np.maximum(lo95, 0),
            "hi95": np.maximum(hi95, 0),
            "model": [name] * horizon,
            "fitted_from": [first] * horizon,
            "ramp_months_trimmed": [ramp] * horizon,
        }
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def backtest(history: pl.DataFrame, origins: int = BACKTEST_ORIGINS, horizon: int = HORIZON) -> dict:
    """Rolling-origin backtest over the last year: MASE of the model and of the seasonal-naive forecast,
    and the coverage of the model's 80% and 95% prediction intervals.

    At each origin (every other month in the last 12) the model is refitted on the months before it, less
    their start-up ramp (`start_up_ramp`, judged on those months only), and forecasts up to `horizon`
    months ahead (as far as the data goes). Both forecasts are scaled by the in-sample seasonal-naive error
    of the same training months (Hyndman and Koehler 2006), so the seasonal-naive forecast scores about 1
    and a useful model scores below it. coverage_80 and coverage_95: the share of all (origin, month
    ahead) pairs whose actual count fell inside the interval (ends included); an honest 80% interval
    holds about 80% of them. ramp_months_trimmed: months trimmed from the whole history.
    """
    values = history["referrals"].cast(pl.Float64).to_numpy()
    n = len(values)
    ramp = start_up_ramp(values)
    if n - ramp < MIN_SEASONAL_MONTHS + 2:
        return {"origins": 0, "ramp_months_trimmed": ramp}
    model_scores, naive_scores, model_errors, naive_errors = [], [], [], []
    inside80, inside95 = [], []
    for origin in range(n - 12, n - 1, 12 // origins):
        train, first, _ = trimmed(values[:origin], history["month"][0])
        train, actual = np.asarray(train), values[origin : origin + horizon]
        if len(train) < MIN_SEASONAL_MONTHS:
            continue
        steps = len(actual)
        _, mean, lo80, hi80, lo95, hi95 = _fit_and_forecast(tuple(train), first, horizon)
        model = np.maximum(mean[:steps], 0)
        naive = np.array([train[len(train) - SEASON + (h % SEASON)] for h in range(steps)])
        model_scores.append(mase(actual, model, train, season=SEASON))
        naive_scores.append(mase(actual, naive, train, season=SEASON))
        model_errors.append(np.mean(np.abs(actual - model)))
        naive_errors.append(np.mean(np.abs(actual - naive)))
        inside80 += list((lo80[:steps] <= actual) & (actual <= hi80[:steps]))
        inside95 += list((lo95[:steps] <= actual) & (actual <= hi95[:steps]))
    if not model_scores:
        return {"origins": 0, "ramp_months_trimmed": ramp}
    return {
        "origins": len(model_scores),
        "model_mase": float(np.mean(model_scores)),
        "seasonal_naive_mase": float(np.mean(naive_scores)),
        "model_mae": float(np.mean(model_errors)),
        "seasonal_naive_mae": float(np.mean(naive_errors)),
        "coverage_80": float(np.mean(inside80)),
        "coverage_95": float(np.mean(inside95)),
        "months_scored": len(inside80),
        "ramp_months_trimmed": ramp,
    }


@python_query(
    "demand_forecast",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    title="Referral forecast",
    description="Referrals expected in each of the next 12 months, for the council or one team, from a seasonal "
    "exponential-smoothing model (statsmodels ETS, additive 12-month seasonality) fitted on the whole months up "
    "to as_of, with 80% and 95% prediction intervals. The months before the series first reaches 75% of its "
    "level (the median of its last 12 months) are a start-up ramp and are left out of the fit (fitted_from, "
    "ramp_months_trimmed).",
    tables=["referrals"],
    params=FORECAST_PARAMS,
    # The forecast is fitted on the monthly counts: where a month of its history is hidden (1 to 5 referrals),
    # the forecast, close to those counts, is hidden with it. smallest_month: the fewest referrals in a month
    # that had any, of the history fitted.
    counts=[["smallest_month"]],
    derived={c: ["smallest_month"] for c in ("forecast", "lo80", "hi80", "lo95", "hi95")},
)
def demand_forecast(cursor, as_of, team_id) -> pl.DataFrame:
    history = monthly_referrals(cursor, as_of, team_id)
    frame = forecast_frame(history)
    fitted = history.filter(pl.col("referrals") > 0)
    if not frame.is_empty() and "fitted_from" in frame.columns:
        fitted = fitted.filter(pl.col("month") >= frame["fitted_from"][0])
    return frame.with_columns(smallest_month=pl.lit(fitted["referrals"].min(), dtype=pl.Int64))


@python_query(
    "demand_backtest",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    title="How good is the referral forecast?",
    description="A rolling-origin backtest of the referral forecast over the last year: the model refitted at six "
    "origins, scored by MASE (mean absolute error scaled by the in-sample seasonal-naive error) beside the "
    "seasonal-naive forecast 'same month last year' (below it, the model adds something), and the share of the "
    "months forecast that fell inside the 80% and 95% intervals (coverage_80, coverage_95). Each fit leaves out "
    "the history's start-up ramp (ramp_months_trimmed on the whole history).",
    tables=["referrals"],
    params=FORECAST_PARAMS,
)
def demand_backtest(cursor, as_of, team_id) -> pl.DataFrame:
    scores = backtest(monthly_referrals(cursor, as_of, team_id))
    return pl.DataFrame({"metric": list(scores), "value": [float(v) for v in scores.values()]})


PROJECTION_TEAMS = 12  # with no team chosen, project the teams holding the most open cases (a council has about 12)

# Per team, in one pass each: today's open cases, the whole months of referrals (as monthly_referrals
# gives them for one team) and the last two years' episode durations.
TEAM_OPEN_SQL = """
SELECT r.team_id, any_value(t.team_name) AS team_name, count(DISTINCT r.child_id) AS open_now
FROM referrals AS r
JOIN teams AS t ON t.team_id = r.team_id
WHERE ($team_id IS NULL OR r.team_id = $team_id) AND r.referral_date <= $as_of AND NOT r.nfa
  AND (r.closure_date IS NULL OR r.closure_date > $as_of)
GROUP BY r.team_id
ORDER BY open_now DESC, r.team_id
LIMIT $max_teams
"""

TEAM_MONTHLY_SQL = """
WITH chosen AS (SELECT unnest($teams) AS team_id),
team_referrals AS (
    SELECT r.team_id, r.referral_id, r.referral_date FROM referrals AS r JOIN chosen AS c ON c.team_id = r.team_id
),
bounds AS (
    SELECT team_id, date_trunc('month', min(referral_date)) AS first_month,
           CASE WHEN $as_of = last_day($as_of) THEN date_trunc('month', $as_of)
                ELSE date_trunc('month', $as_of) - INTERVAL 1 MONTH END AS last_month
    FROM team_referrals
    WHERE referral_date <= $as_of
    GROUP BY team_id
),
months AS (
    SELECT team_id, CAST(unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS DATE) AS month
    FROM bounds
),
counts AS (
    SELECT team_id, CAST(date_trunc('month', referral_date) AS DATE) AS month, count(referral_id) AS referrals
    FROM team_referrals
    GROUP BY ALL
)
SELECT m.team_id, m.month, coalesce(c.referrals, 0) AS referrals
FROM months AS m
LEFT JOIN counts AS c ON c.team_id = m.team_id AND c.month = m.month
ORDER BY m.team_id, m.month
"""

TEAM_DURATIONS_SQL = """
SELECT r.team_id, CAST(coalesce(least(closure_date, $as_of), $as_of) - referral_date AS INTEGER) AS days,
       closure_date IS NOT NULL AND closure_date <= $as_of AS closed, count(*) AS n
FROM referrals AS r
JOIN (SELECT unnest($teams) AS team_id) AS c ON c.team_id = r.team_id
WHERE NOT nfa AND referral_date <= $as_of AND referral_date > $as_of - 730
GROUP BY ALL
ORDER BY ALL
"""


@python_query(
    "caseload_projection",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    counts=[["open_cases_now"]],
    # A small team's projection would give its hidden open cases away, so it goes with them.
    derived={
        c: ["open_cases_now"]
        for c in ("projected_open_cases", "fte_needed", "projected_low", "projected_high", "fte_low", "fte_high")
    },
    suppress_within=["month"],
    title="Open caseload projection",
    description="For each team (or one), the open cases expected at the end of each of the next 12 months and the "
    "case-holding FTE they need at the chosen caseload. Little's law: open cases track the referrals of the "
    "last L months, where L is the team's median months to close (Kaplan-Meier); the projection scales today's "
    "open cases by forecast over recent referrals in such a window. With no team chosen, the max_teams teams "
    "holding the most open cases (one forecast model is fitted per team). projected_low and projected_high: an "
    "80% interval, from 1000 simulated paths of the forecast model (seeded), so the uncertainty of the "
    "forecast referrals carries through to the open cases and FTE (fte_low, fte_high).",
    tables=["referrals", "teams"],
    params=[
        *FORECAST_PARAMS,
        "caseload float = setting:national_average_per_fte ; cases per case-holding FTE to plan for",
        f"max_teams int = {PROJECTION_TEAMS} ; with no team chosen, only this many teams, those with the most open "
        "cases",
    ],
)
def caseload_projection(cursor, as_of, team_id, caseload, max_teams=PROJECTION_TEAMS) -> pl.DataFrame:
    # Teams without open cases project nothing, so only teams holding open cases are considered.
    teams = cursor.sql(
        TEAM_OPEN_SQL, params={"as_of": as_of, "team_id": team_id, "max_teams": max(int(max_teams), 0)}
    ).pl()
    schema = {"month": pl.Date, "team_id": pl.String, "team_name": pl.String, "projected_open_cases": pl.Float64,
              "fte_needed": pl.Float64, "open_cases_now": pl.Int64, "window_months": pl.Int64,
              "projected_low": pl.Float64, "projected_high": pl.Float64, "fte_low": pl.Float64,
              "fte_high": pl.Float64}  # fmt: skip
    if teams.is_empty():
        return pl.DataFrame(schema=schema)
    chosen = {"as_of": as_of, "teams": teams["team_id"].to_list()}
    monthly = cursor.sql(TEAM_MONTHLY_SQL, params=chosen).pl()
    durations = cursor.sql(TEAM_DURATIONS_SQL, params=chosen).pl()
    histories = {key[0]: part.drop("team_id") for key, part in monthly.group_by("team_id")}
    episodes = {key[0]: part for key, part in durations.group_by("team_id")}
    rows = []
    for team, name, open_now in teams.sort("team_id").rows():
        history = histories.get(team, pl.DataFrame(schema={"month": pl.Date, "referrals": pl.Int64}))
        rows += _team_projection(history, episodes.get(team), open_now, team, name, caseload)
    return pl.DataFrame(rows, schema=schema)


def _team_projection(history, episodes, open_now, team_id, team_name, caseload) -> list[dict]:
    if episodes is None or episodes.is_empty() or history.height < 3 or not open_now:
        return []
    median_days = km_median(kaplan_meier(episodes["days"], episodes["closed"], weights=episodes["n"]))[0]
    window = int(min(max(round((median_days if np.isfinite(median_days) else 365) / 30.4), 1), 12))
    recent = history["referrals"].tail(window).sum()
    if not recent:
        return []
    forecast = forecast_frame(history)
    known = history["referrals"].cast(pl.Float64).to_numpy()
    combined = np.concatenate([known, forecast["forecast"].to_numpy()])
    values, first, _ = trimmed(known, history["month"][0])
    paths = _sample_paths(values, first, forecast.height)  # (months ahead, simulations)
    simulated = np.concatenate([np.repeat(known[:, None], paths.shape[1], axis=1), paths])
    tail = (1 - PROJECTION_LEVEL) / 2
    start = history.height
    rows = []
    for step, month in enumerate(forecast["month"], start=1):
        inflow = combined[start + step - window : start + step].sum()
        projected = open_now * inflow / recent
        low, high = (
            open_now
            * np.quantile(simulated[start + step - window : start + step].sum(axis=0), [tail, 1 - tail])
            / recent
        )
        rows.append(
            {"month": month, "team_id": team_id, "team_name": team_name, "projected_open_cases": round(projected, 1),
             "fte_needed": round(projected / caseload, 1), "open_cases_now": open_now, "window_months": window,
             "projected_low": round(low, 1), "projected_high": round(high, 1), "fte_low": round(low / caseload, 1),
             "fte_high": round(high / caseload, 1)}
        )  # fmt: skip
    return rows
