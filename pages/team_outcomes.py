"""Team outcomes: are data-led teams doing better? Re-referrals, time to close, services and absence."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from pages._charts import COUNCIL, ENGLAND, FLAGGED, MUTED, interval_bars, series_style
from pages._charts import show as show_chart
from pages._frame import brief, opened_engine, page_main, run, show_table
from queries.settings import setting
from queries.wording import counted, p_text
from schemas.codes import labels

PAGE = {
    "title": "Team outcomes",
    "icon": ":material/monitoring:",
    "roles": ["head_of_service", "analyst", "admin"],
    "order": 50,
    "needs": ["referrals"],
    "description": "For a head of service: do data-led teams close cases quicker, with fewer re-referrals, less use "
    "of commissioned services and lower sickness absence? Each figure with its interval_bars, time-to-close curves, a "
    "funnel plot of re-referrals by team, England's figures beside ours, and a like-for-like view by primary need.",
}

MODEL_WORDS = {"data_led": "Data-led", "traditional": "Traditional"}
RETURN_COLUMN = "Own closures back within a year % (95% CI)"


def interval(value, low, high, scale: float = 1.0, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return setting("symbol")
    text = f"{value * scale:.{digits}f}{unit}"
    if low is None or high is None:
        return text
    return f"{text} ({low * scale:.{digits}f}–{high * scale:.{digits}f})"


def outcomes_table(container, outcomes: pl.DataFrame, names: dict, england: dict, by: str) -> None:
    shown = outcomes
    rows = []
    for r in shown.iter_rows(named=True):
        rows.append(
            {
                "Group": names.get(r["group"], r["group"]),
                "Referrals (12 months)": setting("symbol") if r["referrals"] is None else f"{r['referrals']:,}",
                "Re-referral rate % (95% CI)": interval(
                    r["rereferral_rate"], r["rereferral_ci_low"], r["rereferral_ci_high"], 100, 1
                ),
                RETURN_COLUMN: interval(
                    r["closure_return_rate"], r["closure_return_ci_low"], r["closure_return_ci_high"], 100, 1
                ),
                "Median days to close (95% CI)": interval(
                    r["median_days_to_close"], r["median_ci_low"], r["median_ci_high"]
                ),
                "Services per 100 episodes (95% CI)": interval(
                    r["service_episodes_per_100"], r["service_ci_low"], r["service_ci_high"], 1, 1
                ),
                "Sickness absence % (95% CI)": interval(
                    r["absence_rate"], r["absence_ci_low"], r["absence_ci_high"], 100, 1
                ),
            }
        )
    rows.append(
        {
            "Group": "England",
            "Referrals (12 months)": "–",
            "Re-referral rate % (95% CI)": f"{100 * england.get('rereferral_rate', 0.22):.0f}",
            RETURN_COLUMN: "–",
            "Median days to close (95% CI)": "–",
            "Services per 100 episodes (95% CI)": "–",
            "Sickness absence % (95% CI)": f"{100 * england.get('absence_rate', 0.032):.1f}",
        }
    )
    show_table(
        container,
        pl.DataFrame(rows, infer_schema_length=None),
        "team_outcomes",
        filters={"compare": by},
        title="Outcomes over referrals in the last 12 months, with England's figures",  # team_outcomes, england_reference
        column_config={
            "Referrals (12 months)": brief("Referrals", "Referrals in the last 12 months"),
            "Re-referral rate % (95% CI)": brief("Re-referral %", "Re-referral rate, % (95% CI)"),
            RETURN_COLUMN: brief("Back within a year %", "Own closures back within a year, % (95% CI)"),
            "Median days to close (95% CI)": brief("Days to close", "Median days to close (95% CI)"),
            "Services per 100 episodes (95% CI)": brief("Services /100", "Services per 100 episodes (95% CI)"),
            "Sickness absence % (95% CI)": brief("Absence %", "Sickness absence, % (95% CI)"),
        },
    )
    container.caption(
        "The re-referral rate counts a child's return against the team that receives the new referral. "
        "What a team's own practice can change is whether the children whose referrals it closed come back: "
        "the next column takes every referral the group closed (no further action included) in the 12 months "
        "that ended a year ago, so each has had a full year, and gives the share referred again within a year."
    )


def km_chart(container, by: str, names: dict) -> None:
    curves = run("time_to_close", container, by=by)
    test = run("time_to_close_logrank", container, by=by)
    if curves is None or curves.is_empty():
        return

    def build() -> go.Figure:
        figure = go.Figure()
        for index, ((group,), part) in enumerate(curves.group_by("group", maintain_order=True)):
            figure.add_trace(
                go.Scatter(
                    x=[0, *part["time"].to_list()],
                    y=[100, *(100 * part["still_open"]).to_list()],
                    mode="lines",
                    line=dict(
                        shape="hv", color=series_style(index)["color"], dash=series_style(index)["dash"], width=2.5
                    ),
                    name=names.get(group, group),
                    hovertemplate="day %{x}: %{y:.0f}% still open<extra>%{fullData.name}</extra>",
                )
            )
        figure.update_layout(
            title="Episodes still open, by days since referral (Kaplan–Meier)",
            height=380,
            xaxis=dict(title="Days since referral", range=[0, 365]),
            yaxis=dict(title="% still open", range=[0, 101]),
            margin=dict(l=10, r=10, t=50, b=10),
        )
        return figure

    show_chart(container, build, key="km", cache=(curves, names))
    if test is not None and test.height:
        row = test.row(0, named=True)
        verdict = "differ by more than chance" if row["p_value"] < 0.05 else "are not clearly different"
        container.caption(
            f"Log-rank test: χ² = {row['chi_square']:.1f} on {counted(row['df'], 'degree')} of freedom, "
            f"{p_text(row['p_value'])}: the groups' times to close {verdict}. Open episodes count up to the extract date."
        )


def funnel_chart(container, england_rate: float) -> None:
    teams = run("rereferral_funnel", container)
    limits = run("rereferral_funnel_limits", container)
    if teams is None or limits is None or teams.is_empty():
        return
    shown = teams.filter(pl.col("rate").is_not_null())

    def build() -> go.Figure:
        figure = go.Figure()
        for level, dash, words in ((0.95, "dash", "95% limits"), (0.998, "dot", "99.8% limits")):
            band = limits.filter(pl.col("level") == level).sort("n")
            for side in ("lower", "upper"):
                figure.add_trace(
                    go.Scatter(
                        x=band["n"].to_list(),
                        y=(100 * band[side]).to_list(),
                        mode="lines",
                        line=dict(color=MUTED, dash=dash, width=1),
                        name=words,
                        showlegend=side == "upper",
                        hoverinfo="skip",
                    )
                )
        overall = limits["overall_rate"][0]
        figure.add_hline(
            y=100 * overall,
            line_color=MUTED,
            annotation_text=f"Council {100 * overall:.0f}%",
            annotation_position="bottom right" if england_rate > overall else "top right",
        )
        figure.add_hline(
            y=100 * england_rate,
            line_color=ENGLAND,
            line_dash="dash",
            annotation_text=f"England {100 * england_rate:.0f}%",
            annotation_position="top right" if england_rate > overall else "bottom right",  # apart from the council's
        )
        figure.add_trace(
            go.Scatter(
                x=shown["referrals"].to_list(),
                y=(100 * shown["rate"]).to_list(),
                mode="markers+text",
                text=[n if o else "" for n, o in zip(shown["team_name"], shown["outside_998"], strict=True)],
                customdata=shown["team_name"].to_list(),
                textposition="top center",
                marker=dict(
                    size=11,
                    color=[FLAGGED if o else COUNCIL for o in shown["outside_998"]],
                    symbol=["diamond" if o else "circle" for o in shown["outside_998"]],
                ),
                name="Teams",
                hovertemplate="%{customdata}: %{y:.1f}% of %{x} referrals<extra></extra>",
            )
        )
        figure.update_layout(
            title="Re-referral rate by team (funnel plot)",
            height=460,
            xaxis=dict(title="Referrals in the last 12 months"),
            yaxis=dict(title="% re-referred within 12 months"),
            margin=dict(l=10, r=10, t=50, b=10),
        )
        return figure

    show_chart(container, build, key="funnel", cache=(shown, limits, england_rate))
    container.caption(funnel_words(shown) if shown.height else "No team's rate can be shown safely here.")


def funnel_words(teams: pl.DataFrame) -> str:
    """What the funnel says, in plain words: which limits are drawn, why, and who is outside them."""
    outside = teams.filter(pl.col("outside_998").fill_null(False))["team_name"].to_list()
    adjusted = bool(teams["limits_adjusted"][0])
    phi = teams["phi"].drop_nulls()
    p_value = teams["overdispersion_p"].drop_nulls()
    if adjusted and phi.len() and p_value.len():
        before = teams.filter(pl.col("outside_998_unadjusted").fill_null(False))["team_name"].to_list()
        basis = (
            f"Teams' rates vary more than chance alone would make them (overdispersion: φ = {phi[0]:.1f}, "
            f"{p_text(p_value[0])}), because teams differ in the families they work with as well as in practice, "
            "so the limits drawn are widened for it (Spiegelhalter's method). "
            + (
                f"On the narrower limits that ignore this, {', '.join(before)} would have looked unusual. "
                if before
                else ""
            )
        )
    else:
        basis = "Teams' rates vary about as much as chance would make them, so the limits are the exact ones. "
    return (
        basis
        + "A team outside the dotted 99.8% limits differs from the council's rate by more than that: "
        + (", ".join(outside) if outside else "none does")
        + ". Points outside are diamonds, named."
    )


def within_chart(container, frame: pl.DataFrame, column: str, words, title: str, key: str) -> None:
    """Re-referral rate by practice model within each value of `column` (need, service area), 95% intervals."""

    def build() -> go.Figure:
        figure = go.Figure()
        for index, ((group,), part) in enumerate(frame.group_by("group", maintain_order=True)):
            figure.add_trace(
                go.Scatter(
                    x=(100 * part["rereferral_rate"]).to_list(),
                    y=[words(value) for value in part[column]],
                    mode="markers",
                    marker=dict(size=10, color=series_style(index)["color"], symbol=series_style(index)["symbol"]),
                    name=MODEL_WORDS.get(group, group),
                    **interval_bars(
                        (100 * part["rereferral_ci_low"]).to_list(),
                        (100 * part["rereferral_ci_high"]).to_list(),
                        (100 * part["rereferral_rate"]).to_list(),
                        color=series_style(index)["color"],
                    ),
                    customdata=part["referrals"].to_list(),
                    hovertemplate="%{y}: %{x:.1f}% of %{customdata} referrals<extra>%{fullData.name}</extra>",
                )
            )
        figure.update_layout(
            title=title,
            height=140 + 32 * frame[column].n_unique(),
            xaxis=dict(title="% re-referred"),
            margin=dict(l=10, r=10, t=50, b=10),
        )
        return figure

    show_chart(container, build, key=key, cache=(frame, column, title, key))


def by_need_chart(container) -> None:
    by_need = run("team_outcomes_by_need", container)
    if by_need is None or by_need.is_empty():
        return
    need_words = labels("primary_need")
    within_chart(
        container,
        by_need.filter(pl.col("rereferral_rate").is_not_null()),
        "primary_need",
        lambda need: need_words.get(need, need),
        "Re-referral rate within each primary need (95% intervals)",
        "by_need",
    )


def area_words(area) -> str:
    return str(area).replace("_", " ").capitalize()


def by_area_chart(container) -> None:
    by_area = run("team_outcomes_by_area", container)
    if by_area is None or by_area.is_empty():
        return
    alone = by_area.filter(pl.col("models_in_area") < 2)
    compared = by_area.filter(pl.col("models_in_area") >= 2, pl.col("rereferral_rate").is_not_null())
    if not compared.is_empty():
        within_chart(
            container,
            compared,
            "service_area",
            area_words,
            "Re-referral rate within each service area (95% intervals)",
            "by_area",
        )
    if not alone.is_empty():
        areas = ", ".join(
            f"{area_words(a)} ({MODEL_WORDS.get(g, g).lower()})"
            for a, g in alone.select("service_area", "group").rows()
        )
        container.caption(
            f"Some service areas work only one way, so they cannot show a difference between practice models: "
            f"{areas}. The overall comparison at the top mixes these areas in, so part of any gap there comes from "
            "what the areas do, not how they practise."
        )


def render(container) -> None:
    container.title("Team outcomes")
    engine = opened_engine(container)
    if engine is None:
        return
    container.warning(
        "Teams differ in the children and families they work with, so differences here are not proof that one "
        "way of working causes better outcomes. The last charts compare like with like within each primary need and "
        "within each service area.",
        icon=":material/info:",
    )
    by = container.radio(
        "Compare", ["practice_model", "team"], horizontal=True, key="outcomes_by",
        format_func={"practice_model": "Practice models", "team": "Teams"}.get,
    )  # fmt: skip
    teams = run("team_list", container)
    names = dict(MODEL_WORDS)
    if teams is not None:
        names |= dict(zip(teams["team_id"], teams["team_name"], strict=True))
    reference = run("england_reference", container)
    england = dict(zip(reference["measure"], reference["value"], strict=True)) if reference is not None else {}
    outcomes = run("team_outcomes", container, by=by)
    if outcomes is not None and not outcomes.is_empty():
        container.markdown("## Outcomes over referrals in the last 12 months")
        outcomes_table(container, outcomes, names, england, by)
    container.markdown("## How quickly episodes close")
    km_chart(container, by, names)
    container.markdown("## Re-referrals by team")
    funnel_chart(container, england.get("rereferral_rate", 0.22))
    container.markdown("## Like with like: within each primary need")
    by_need_chart(container)
    container.markdown("## Like with like: within each service area")
    by_area_chart(container)


if __name__ == "__main__":
    page_main(render)
