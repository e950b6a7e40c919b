"""Demand: referrals forecast for the next 12 months, how good the forecast is, and the caseload to staff for."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from pages._charts import COUNCIL
from pages._charts import show as show_chart
from pages._frame import opened_engine, page_main, run, show_table
from queries.settings import setting

PAGE = {
    "title": "Demand",
    "icon": ":material/trending_up:",
    "roles": ["head_of_service", "analyst", "admin"],
    "order": 60,
    "needs": ["referrals"],
    "description": "For a head of service: referrals expected over the next 12 months for the council or a team, "
    "with 80% and 95% intervals; a backtest showing whether the model beats last year's pattern; and the open "
    "caseload and case-holding FTE each team is likely to need.",
}


def forecast_chart(container, history: pl.DataFrame, forecast: pl.DataFrame) -> None:
    def build() -> go.Figure:
        figure = go.Figure()
        months = forecast["month"].to_list()
        for low, high, colour, words in (("lo95", "hi95", "rgba(31,111,139,0.15)", "95% interval"),
                                         ("lo80", "hi80", "rgba(31,111,139,0.30)", "80% interval")):  # fmt: skip
            figure.add_trace(
                go.Scatter(
                    x=months + months[::-1],
                    y=forecast[high].to_list() + forecast[low].to_list()[::-1],
                    fill="toself",
                    fillcolor=colour,
                    line=dict(width=0),
                    name=words,
                    hoverinfo="skip",
                )
            )
        figure.add_trace(
            go.Scatter(
                x=history["month"].to_list(),
                y=history["referrals"].to_list(),
                mode="lines+markers",
                line=dict(color="#333"),
                marker=dict(size=4),
                name="Referrals received",
                hovertemplate="%{x|%B %Y}: %{y} referrals<extra></extra>",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=months,
                y=forecast["forecast"].to_list(),
                mode="lines+markers",
                line=dict(color=COUNCIL, dash="dash"),
                name="Forecast",
                hovertemplate="%{x|%B %Y}: about %{y:.0f} expected<extra></extra>",
            )
        )
        figure.update_layout(
            height=420,
            xaxis=dict(tickformat="%b %Y"),
            yaxis=dict(title="Referrals per month", rangemode="tozero"),
            margin=dict(l=10, r=10, t=30, b=10),
            legend=dict(orientation="h", y=-0.15),
        )
        return figure

    show_chart(container, build, key="forecast", cache=(history, forecast))
    if history["referrals"].null_count():
        container.caption("Months with too few referrals to show safely are not drawn, to protect children's privacy.")


def backtest_note(container, backtest: pl.DataFrame) -> None:
    scores = dict(zip(backtest["metric"], backtest["value"], strict=True))
    if not scores.get("origins"):
        container.info("There are not yet enough months of referrals (about 27 are needed) to test the forecast.")
        return
    model, naive = scores["model_mase"], scores["seasonal_naive_mase"]
    columns = container.columns(3)
    columns[0].metric("Forecast error (MASE)", f"{model:.2f}", help="Lower is better. Scaled mean absolute error.")
    columns[1].metric("'Same month last year' error (MASE)", f"{naive:.2f}")
    columns[2].metric("Typical miss per month", f"{scores['model_mae']:.0f} referrals")
    if model < 0.9 * naive:
        verdict = "The model forecast better than simply repeating last year's months over the past year."
    elif model <= 1.1 * naive:
        verdict = "The model did about as well as repeating last year's months: treat it as a rough guide."
    else:
        verdict = "The model did worse than repeating last year's months: rely on last year's pattern instead."
    container.caption(
        f"{verdict} Backtest: refitted at {int(scores['origins'])} points over the last year, each forecasting up to "
        "12 months ahead."
    )
    container.caption(coverage_words(scores))


def coverage_words(scores: dict) -> str:
    """How often the intervals held what came, in words a planner can use."""
    cover80, cover95 = 100 * scores["coverage_80"], 100 * scores["coverage_95"]
    words = (
        f"Over those forecasts, the 80% range held {cover80:.0f}% of the months that came and the 95% range "
        f"{cover95:.0f}%. "
    )
    if cover80 < 70 or cover95 < 85:
        words += "The ranges are too narrow: plan for more variation than they show. "
    elif cover80 > 90:
        words += "The ranges are wider than they need be. "
    ramp = int(scores.get("ramp_months_trimmed", 0))
    if ramp:
        words += (
            f"The first {ramp} months of the history, before referrals reached their usual level (a start-up "
            "ramp), are left out of every fit."
        )
    return words


def projection_section(container, team_id: str | None) -> None:
    container.markdown(
        "How many case-holding staff each team will need if referrals follow the forecast above and each "
        "worker holds the caseload you plan for."
    )
    caseload = container.number_input(
        "Plan for this many cases per case-holding FTE",
        min_value=5.0,
        max_value=40.0,
        value=float(setting("national_average_per_fte")),
        step=0.5,
        key="planned_caseload",
    )
    projection = run("caseload_projection", container, team_id=team_id, caseload=caseload)
    if projection is None or projection.is_empty():
        container.info("Not enough history to project caseloads.")
        return
    months = projection["month"].unique().sort()
    picks = [months[2], months[5], months[-1]] if months.len() >= 6 else [months[-1]]
    summary = (
        projection.filter(pl.col("month").is_in(picks))
        .with_columns(pl.col("month").dt.strftime("%b %Y"))
        .with_columns(pl.format("{} ({}–{})", "fte_needed", "fte_low", "fte_high").alias("fte_range"))
        .pivot(on="month", index=["team_name", "open_cases_now"], values="fte_range", aggregate_function="first")
        .rename({"team_name": "Team", "open_cases_now": "Open cases now"})
    )
    container.caption("Case-holding FTE needed at the end of the month (80% range in brackets):")
    show_table(
        container,
        summary,
        "caseload_projection",
        filters={"team": team_id, "cases_per_fte": f"{caseload:g}"},
        question="caseload_projection",
    )
    container.caption(
        "Open cases follow recent referrals: each team's projection scales today's open cases by the forecast "
        "referrals over a window as long as its median time to close (Little's law). The range comes from 1,000 "
        "simulated futures of the referral forecast, so it carries the forecast's uncertainty; where the backtest "
        "above found the forecast's ranges too narrow, treat this one as too narrow as well."
    )


def render(container) -> None:
    container.title("Demand")
    engine = opened_engine(container)
    if engine is None:
        return
    teams = run("team_list", container)
    names = dict(zip(teams["team_id"], teams["team_name"], strict=True)) if teams is not None else {}
    team_id = container.selectbox(
        "Forecast for",
        [None, *names],
        format_func=lambda t: "The whole council" if t is None else names[t],
        key="demand_team",
    )
    history = run("referrals_by_month", container, months=60, team_id=team_id, total=True)
    forecast = run("demand_forecast", container, team_id=team_id)
    if forecast is not None and not forecast.is_empty() and forecast["forecast"].null_count() == forecast.height:
        container.markdown("## Referrals: the last five years and the next twelve months")
        container.info(
            "No forecast is shown here: some months of this history have too few referrals to show safely, "
            "and a forecast fitted to them would give them away. Choose the whole council (or a larger team).",
            icon=":material/shield:",
        )
    elif history is not None and forecast is not None and not forecast.is_empty():
        container.markdown("## Referrals: the last five years and the next twelve months")
        forecast_chart(container, history, forecast)
        ramp = int(forecast["ramp_months_trimmed"][0])
        container.caption(
            f"Model: {forecast['model'][0]}"
            + (
                f", fitted from {forecast['fitted_from'][0]:%B %Y}: the {ramp} months before, while referrals were "
                "still climbing to their usual level, are left out."
                if ramp
                else "."
            )
        )
        show_table(
            container,
            forecast.select(
                pl.col("month").dt.strftime("%B %Y").alias("Month"),
                pl.col("forecast").round(0).cast(pl.Int64).alias("Expected"),
                pl.format("{}–{}", *(pl.col(c).round(0).cast(pl.Int64) for c in ("lo80", "hi80"))).alias("80% range"),
                pl.format("{}–{}", *(pl.col(c).round(0).cast(pl.Int64) for c in ("lo95", "hi95"))).alias("95% range"),
            ),
            "referral_forecast",
            filters={"team": team_id},
            question="demand_forecast",
        )
    backtest = run("demand_backtest", container, team_id=team_id)
    if backtest is not None:
        container.markdown("## Is the forecast worth having?")
        backtest_note(container, backtest)
    container.markdown("## Caseload and staffing")
    projection_section(container, team_id)


if __name__ == "__main__":
    page_main(render)
