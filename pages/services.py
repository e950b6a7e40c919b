"""Services: what commissioned services cost, how often there was no new referral, and what they added against similar children."""

from __future__ import annotations

import datetime as dt
import math

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from pages._charts import COUNCIL, MUTED, PALETTE, interval_bars, series_style
from pages._charts import show as show_chart
from pages._frame import brief, formatted, opened_engine, page_main, run, section, show_table
from queries.settings import setting

PAGE = {
    "title": "Services",
    "icon": ":material/volunteer_activism:",
    "roles": ["head_of_service", "analyst", "admin"],
    "order": 40,
    "description": "For a head of service: per commissioned service, what was spent, for how many children, how "
    "often there was no new referral within a year of the case closing, and what each additional child with no "
    "new referral cost against similar children who did not get it; spend by month and commissioning type; "
    "placement costs.",
}

COMMISSIONING_WORDS = {
    "block": "Block contract",
    "spot": "Spot purchase",
    "framework": "Framework",
    "in_house": "In house",
}
COMMISSIONING_STYLES = {kind: series_style(i) for i, kind in enumerate(("block", "spot", "framework", "in_house"))}
OTHER_STYLE = series_style(4)
COMMISSIONING_PATTERNS = {"block": "", "spot": "/", "framework": ".", "in_house": "x"}  # stacked bars: not colour alone
LABEL_PLACES = ["top center", "bottom center", "middle right", "middle left"]
VERDICT_MARKS = {
    "better": (PALETTE[2], "triangle-up"),
    "worse": (PALETTE[1], "triangle-down"),
    "unclear": (MUTED, "circle"),
}
UNIT_WORDS = {"family": "a family", "week": "a week", "session": "a session"}
COST_TICKS = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000]
PERIODS = {"Last 12 months": 12, "Last 24 months": 24, "Everything recorded": None}


def symbol() -> str:
    return setting("symbol")


def money(frame: pl.DataFrame, column: str) -> pl.Series:
    """£ to the pound, or the suppression symbol."""
    return formatted(frame[column], lambda v: f"£{v:,.0f}", null=symbol())


def average_cost(frame: pl.DataFrame) -> pl.Series:
    """The mean weekly cost; "none recorded" (not the hidden symbol) where no placement has a cost."""
    shown = money(frame, "mean_weekly_cost").to_list()
    return pl.Series(
        [
            "none recorded" if with_cost == 0 else text
            for text, with_cost in zip(shown, frame["with_cost"].to_list(), strict=True)
        ],
        dtype=pl.String,
    )


def whole(frame: pl.DataFrame, column: str) -> pl.Series:
    return formatted(frame[column], lambda v: f"{v:,}", null=symbol())


def percent(frame: pl.DataFrame, column: str) -> pl.Series:
    return formatted(frame[column], lambda v: f"{v:.0%}", null=symbol())


def span(frame: pl.DataFrame, low: str, high: str, show) -> pl.Series:
    """'a to b' from two columns formatted by `show`, or the symbol when either is hidden or missing."""
    lows, highs = show(frame, low).to_list(), show(frame, high).to_list()
    present = (frame[low].is_not_null() & frame[high].is_not_null()).to_list()
    texts = [f"{a} to {b}" if both else symbol() for both, a, b in zip(present, lows, highs, strict=True)]
    return pl.Series(texts, dtype=pl.String)


def with_interval(frame: pl.DataFrame, value: str, low: str, high: str, show) -> pl.Series:
    """'a (b to c)': an estimate with its interval in one column, or the symbol when the estimate is hidden."""
    values, spans = show(frame, value).to_list(), span(frame, low, high, show).to_list()
    present = frame[value].is_not_null().to_list()
    return pl.Series(
        [f"{v} ({s})" if ok and s != symbol() else v for ok, v, s in zip(present, values, spans, strict=True)],
        dtype=pl.String,
    )


def outcomes_table(container, shown: pl.DataFrame) -> None:
    table = shown.select(
        pl.col("service_name").alias("Service"),
        pl.col("commissioning").replace_strict(COMMISSIONING_WORDS, default=pl.col("commissioning")).alias("Bought"),
        formatted(
            shown.select(pl.struct("unit_cost", "cost_unit")).to_series(),
            lambda r: f"£{r['unit_cost']:,.0f} {UNIT_WORDS.get(r['cost_unit'], r['cost_unit'])}",
        ).alias("Unit cost"),
        whole(shown, "children").alias("Children"),
        money(shown, "total_cost").alias("Total cost"),
        money(shown, "cost_per_child").alias("Cost per child"),
        whole(shown, "assessable").alias("Episodes judged"),
        whole(shown, "successes").alias("No new referral within a year"),
        with_interval(shown, "success_rate", "ci_low", "ci_high", percent).alias("Success rate (95% interval)"),
        with_interval(shown, "cost_per_success", "cost_per_success_low", "cost_per_success_high", money).alias(
            "Cost per success (95% interval; incl. those who would have done well anyway)"
        ),
        whole(shown, "not_yet_assessable").alias("Too recent to judge"),
        whole(shown, "cannot_be_judged").alias("Cannot be judged (turned 18, moved, died)"),
        whole(shown, "ongoing").alias("Still running"),
    )
    show_table(
        container,
        table,
        "service_outcomes",
        question="service_outcomes",
        column_config={
            "Bought": None,  # how it is commissioned: in the CSV (the page's width is for the outcomes)
            "Unit cost": brief("Unit cost", "What the service costs, per family, week or session"),
            "Total cost": None,  # children × cost per child: in the CSV, not repeated on screen
            "Cost per child": brief("Per child", "Cost per child"),
            "Episodes judged": brief("Judged", "Episodes judged: ended at least a year before the extract date"),
            "No new referral within a year": None,  # judged × success rate: in the CSV, not repeated on screen
            "Success rate (95% interval)": brief("Success %", "Success rate, with its 95% interval"),
            "Cost per success (95% interval; incl. those who would have done well anyway)": brief(
                "Cost per success",
                "Cost per success with its 95% interval, including those who would have done well anyway",
            ),
            "Too recent to judge": brief("Too recent", "Too recent to judge"),
            "Cannot be judged (turned 18, moved, died)": brief(
                "Unjudgeable", "Cannot be judged (turned 18, moved, died)"
            ),
            "Still running": None,  # episodes not ended: in the CSV
        },
    )


def cost_success_chart(container, shown: pl.DataFrame) -> None:
    """One point per service: cost per child against success rate, with the Wilson interval."""
    plotted = shown.drop_nulls(["cost_per_child", "success_rate", "ci_low", "ci_high"])
    if plotted.is_empty():
        container.info("No service has enough judged episodes to chart safely.")
        return
    low, high = plotted["cost_per_child"].min(), plotted["cost_per_child"].max()
    ticks = [t for t in COST_TICKS if low / 2 <= t <= high * 3]
    # Labels alternate round their points in order of cost, so neighbours' names do not overlap.
    plotted = plotted.sort("cost_per_child").with_columns(
        pl.Series("label_at", [LABEL_PLACES[i % len(LABEL_PLACES)] for i in range(plotted.height)])
    )

    def build() -> go.Figure:
        figure = go.Figure()
        for commissioning, part in plotted.group_by("commissioning", maintain_order=True):
            kind = commissioning[0]
            style = COMMISSIONING_STYLES.get(kind, OTHER_STYLE)
            figure.add_trace(
                go.Scatter(
                    x=part["cost_per_child"].to_list(),
                    y=(100 * part["success_rate"]).to_list(),
                    mode="markers+text",
                    text=part["service_name"].to_list(),
                    textposition=part["label_at"].to_list(),
                    textfont=dict(size=11),
                    marker=dict(size=12, color=style["color"], symbol=style["symbol"]),
                    name=COMMISSIONING_WORDS.get(kind, kind),
                    **interval_bars(
                        (100 * part["ci_low"]).to_list(),
                        (100 * part["ci_high"]).to_list(),
                        (100 * part["success_rate"]).to_list(),
                        color=style["color"],
                        horizontal=False,
                    ),
                    customdata=part.select(pl.col("ci_low") * 100, pl.col("ci_high") * 100).rows(),
                    hovertemplate="%{text}: £%{x:,.0f} per child; %{y:.0f}% succeeded "
                    "(95% interval %{customdata[0]:.0f}% to %{customdata[1]:.0f}%)<extra></extra>",
                )
            )
        figure.update_layout(
            height=480,
            margin=dict(l=10, r=10, t=30, b=10),
            xaxis=dict(
                title="Cost per child (log scale)",
                type="log",
                range=[math.log10(low) - 0.15, math.log10(high) + 0.45],
                tickvals=ticks,
                ticktext=[f"£{t:,}" for t in ticks],
            ),
            yaxis=dict(title="Success rate, % (95% interval)", ticksuffix="%"),
            legend=dict(orientation="h", y=1.06, x=0),
        )
        return figure

    show_chart(container, build, key="cost_success", cache=(plotted, ticks))
    container.caption(
        "Up and to the left is better: more children with no new referral within a year of their case closing, "
        "for less money per child. Bars are 95% intervals."
    )


def headline_sentences(shown: pl.DataFrame) -> list[str]:
    """Plain words on the best and the dearest per success, from what may be shown."""
    judged = shown.drop_nulls(["success_rate", "cost_per_success"])
    if judged.height < 2:
        return []
    best = judged.sort("success_rate", descending=True).row(0, named=True)
    worst = judged.sort("success_rate").row(0, named=True)
    cheapest = judged.sort("cost_per_success").row(0, named=True)
    dearest = judged.sort("cost_per_success", descending=True).row(0, named=True)
    return [
        f"Highest success rate: **{best['service_name']}**, {best['success_rate']:.0%} "
        f"(95% interval {best['ci_low']:.0%} to {best['ci_high']:.0%}); lowest: **{worst['service_name']}**, "
        f"{worst['success_rate']:.0%} ({worst['ci_low']:.0%} to {worst['ci_high']:.0%}).",
        f"Cost per child with no new referral within a year: about **£{cheapest['cost_per_success']:,.0f}** with "
        f"{cheapest['service_name']} and **£{dearest['cost_per_success']:,.0f}** with {dearest['service_name']}. "
        "This counts children who would have had no new referral anyway; what a service *added* is in the "
        "comparison below.",
    ]


def comparison_section(container) -> None:
    comparison = run("service_comparison", container)
    if comparison is None:
        return
    shown = comparison

    def points(frame: pl.DataFrame, column: str) -> pl.Series:
        return formatted(frame[column], lambda v: f"{100 * v:+.0f}", null=symbol())

    table = shown.select(
        pl.col("service_name").alias("Service"),
        whole(shown, "matched").alias("Episodes matched"),
        whole(shown, "unmatched").alias("Not matched"),
        percent(shown, "service_success_rate").alias("Success with the service"),
        whole(shown, "comparison_referrals").alias("Similar cases without it"),
        percent(shown, "comparison_success_rate").alias("Success without it"),
        with_interval(shown, "difference", "difference_low", "difference_high", points).alias(
            "Difference, points (95% interval)"
        ),
        with_interval(
            shown,
            "cost_per_additional_success",
            "cost_per_additional_success_low",
            "cost_per_additional_success_high",
            money,
        ).alias("Cost per additional child with no new referral (95% interval)"),  # fmt: skip
        pl.col("verdict").alias("What the data say"),
    )
    show_table(
        container,
        table,
        "service_comparison",
        question="service_comparison",
        column_config={
            "Episodes matched": brief("Matched", "Episodes matched to similar cases without the service"),
            "Not matched": None,  # episodes left out of the comparison: in the CSV
            "Success with the service": brief("With it", "Success rate with the service"),
            "Similar cases without it": brief("Similar", "Similar cases without the service"),
            "Success without it": brief("Without", "Success rate of the similar cases without it"),
            "Difference, points (95% interval)": brief("Difference", "Difference in percentage points, 95% interval"),
            "Cost per additional child with no new referral (95% interval)": brief(
                "Cost per extra success", "Cost per additional child with no new referral, with its 95% interval"
            ),
            "What the data say": {"width": 290},
        },
    )
    plotted = shown.drop_nulls(["difference", "difference_low", "difference_high"])
    if not plotted.is_empty():
        plotted = plotted.sort("difference")

        # Better, worse or unclear: by mark (triangle up, triangle down, circle) as well as colour.
        def build() -> go.Figure:
            verdicts = [
                "better" if low > 0 else "worse" if high < 0 else "unclear"
                for low, high in zip(plotted["difference_low"], plotted["difference_high"], strict=True)
            ]
            colours = [VERDICT_MARKS[v][0] for v in verdicts]
            figure = go.Figure(
                go.Scatter(
                    x=(100 * plotted["difference"]).to_list(),
                    y=plotted["service_name"].to_list(),
                    mode="markers",
                    marker=dict(size=12, color=colours, symbol=[VERDICT_MARKS[v][1] for v in verdicts]),
                    **interval_bars(
                        (100 * plotted["difference_low"]).to_list(),
                        (100 * plotted["difference_high"]).to_list(),
                        (100 * plotted["difference"]).to_list(),
                    ),
                    customdata=verdicts,
                    hovertemplate="%{y}: %{x:+.0f} points (%{customdata})<extra></extra>",
                )
            )
            figure.add_vline(x=0, line_dash="dash", line_color=MUTED)
            figure.update_layout(
                height=120 + 34 * plotted.height,
                margin=dict(l=10, r=10, t=20, b=10),
                xaxis=dict(title="Difference in children with no new referral within a year, points (interval)"),
            )
            return figure

        show_chart(container, build, key="comparison_forest", cache=(plotted,))
    level = shown["interval_level"].drop_nulls()
    compared = shown["services_compared"].drop_nulls()
    intervals = (
        f"Intervals are {level[0]:.1%} ones, not 95%: {compared[0]} services are compared at once, so each is "
        "widened (Bonferroni) until all of them together hold 95% of the time — otherwise about one service in "
        "twenty would look better or worse by chance alone. "
        if level.len() and compared.len() and compared[0] > 1
        else ""
    )
    container.caption(
        "Success: no new referral within a year of the case closing (children who turned 18, moved to another "
        "council or died within that year are left out: a new referral could not be recorded). Similar cases: "
        "closed child in need, child protection or care cases where this service was not used, with the same "
        "primary need, age band at referral, number of factors recorded by the referral's assessment (0–1, 2–3, "
        "4 or more: what was known when the work started) and kind of team. Their rate is weighted to this "
        "service's mix of such cases. Cost per additional child: the service's cost per matched episode ÷ the "
        "difference, shown only when the difference is clearly above zero. Intervals resample families, because "
        "brothers and sisters share an outcome. "
        + intervals
        + "Not a trial: children were not given services at random, and the things that were not matched (how "
        "serious the case was, what else the family got) can still explain a difference. Green: better; red: "
        "worse; grey: cannot tell."
    )


def spend_section(container, as_of: dt.date) -> None:
    choice = container.radio("Period", list(PERIODS), index=1, horizontal=True, key="spend_period")
    months = PERIODS[choice]
    first = None
    if months:
        year, month = divmod(as_of.year * 12 + as_of.month - 1 - (months - 1), 12)
        first = dt.date(year, month + 1, 1)
    spend = run("service_spend_by_month", container, from_date=first)
    if spend is None:
        return
    if spend.is_empty():
        container.info("No spend on commissioned services in this period.")
        return

    def build() -> go.Figure:
        figure = go.Figure()
        for commissioning, part in spend.group_by("commissioning", maintain_order=True):
            kind = commissioning[0]
            figure.add_trace(
                go.Bar(
                    x=part["month"].to_list(),
                    y=part["spend"].to_list(),
                    name=COMMISSIONING_WORDS.get(kind, kind),
                    marker=dict(
                        color=COMMISSIONING_STYLES.get(kind, OTHER_STYLE)["color"],
                        pattern=dict(shape=COMMISSIONING_PATTERNS.get(kind, "")),
                    ),
                    customdata=part["service_name"].to_list(),
                    hovertemplate="%{x|%B %Y}: £%{y:,.0f} on %{customdata}<extra>%{fullData.name}</extra>",
                )
            )
        figure.update_layout(
            barmode="stack",
            height=380,
            margin=dict(l=10, r=10, t=30, b=10),
            yaxis=dict(title="Spend", tickprefix="£", tickformat=",.0f"),
            xaxis=dict(title=None, tickformat="%b %Y"),
            legend=dict(orientation="h", y=1.08, x=0),
        )
        return figure

    show_chart(container, build, key="spend_by_month", cache=(spend,))
    container.caption(
        "A service paid by the week is counted in the months it ran (to the extract date when still running); "
        "one paid per family or per session is counted in the month it started."
    )
    table = spend.select(
        pl.col("month").dt.strftime("%b %Y").alias("Month"),
        pl.col("commissioning").replace_strict(COMMISSIONING_WORDS, default=pl.col("commissioning")).alias("Bought"),
        pl.col("service_name").alias("Service"),
        pl.col("spend").round(2).alias("Spend (£)"),
        whole(spend, "episodes").alias("Episodes"),
    )
    show_table(
        container.expander("Spend by month, as a table", icon=":material/table:"),
        table,
        "service_spend_by_month",
        filters={"period": f"{months} months" if months else "everything"},
        question="service_spend_by_month",
        column_config={"Spend (£)": st.column_config.NumberColumn(format="%,.0f")},  # "16,720", a number still
    )


def exits_chart(container, shown: pl.DataFrame) -> None:
    plotted = shown.drop_nulls(["completed", "disengaged", "other_exit"]).filter(
        (pl.col("completed") + pl.col("disengaged") + pl.col("other_exit")) > 0
    )
    if plotted.is_empty():
        container.info("Too few ended episodes to show how they ended safely.")
        return

    def build() -> go.Figure:
        figure = go.Figure()
        for column, label, colour in (
            ("completed", "Completed", dict(color=PALETTE[2])),
            ("disengaged", "Disengaged", dict(color=PALETTE[1], pattern=dict(shape="/", fgcolor="white"))),
            ("other_exit", "Ended for another reason", dict(color="#bdbdbd", pattern=dict(shape=".", fgcolor=MUTED))),
        ):
            figure.add_trace(
                go.Bar(
                    y=plotted["service_name"].to_list(),
                    x=plotted[column].to_list(),
                    orientation="h",
                    name=label,
                    marker=colour,
                    hovertemplate="%{y}: %{x} episodes " + label.lower() + "<extra></extra>",
                )
            )
        figure.update_layout(
            barmode="stack",
            barnorm="percent",
            height=120 + 34 * plotted.height,
            margin=dict(l=10, r=10, t=30, b=10),
            xaxis=dict(title="% of ended episodes", ticksuffix="%"),
            legend=dict(orientation="h", y=1.12, x=0),
        )
        return figure

    show_chart(container, build, key="exits", cache=(plotted,))
    left_out = shown.height - plotted.height
    if left_out:
        container.caption(f"{left_out} services with too few episodes in a group to show safely are left out.")


def placements_section(container, as_of: dt.date) -> None:
    costs = run("placement_costs", container)
    if costs is None:
        return
    if costs.filter(pl.col("placement_type") != "all").is_empty():
        container.info(f"No child was in care on {as_of:%-d %B %Y}.")
        return
    shown = costs
    plotted = shown.filter((pl.col("placement_type") != "all") & pl.col("annual_spend").is_not_null()).sort(
        "annual_spend"
    )
    if not plotted.is_empty():

        def build() -> go.Figure:
            figure = go.Figure(
                go.Bar(
                    y=[label if len(label) <= 48 else label[:47] + "…" for label in plotted["placement"]],
                    x=plotted["annual_spend"].to_list(),
                    orientation="h",
                    marker_color=COUNCIL,
                    hovertemplate="%{y}: £%{x:,.0f} a year<extra></extra>",
                )
            )
            figure.update_layout(
                height=120 + 34 * plotted.height,
                margin=dict(l=10, r=10, t=20, b=10),
                xaxis=dict(title="Annual spend at today's placements", tickprefix="£", tickformat=",.0f"),
            )
            return figure

        show_chart(container, build, key="placements", cache=(plotted,))
    table = shown.select(
        pl.col("placement").alias("Placement"),
        pl.col("placement_type").replace("all", "").alias("Code"),
        whole(shown, "children").alias("Children"),
        money(shown, "weekly_spend").alias("Weekly spend"),
        money(shown, "annual_spend").alias("Annual spend"),
        average_cost(shown).alias("Average weekly cost"),
        whole(shown, "cost_unknown").alias("Cost not recorded"),
    )
    show_table(container, table, "placement_costs", question="placement_costs")
    container.caption(
        f"Children in care on {as_of:%-d %B %Y}, at their current placement's weekly cost; a year is 365 ÷ 7 = "
        "52.14 weeks. Placements with no recorded cost are counted but add nothing."
    )


def render(container) -> None:
    container.title("Services")
    engine = opened_engine(container)
    if engine is None:
        return
    as_of = engine.as_of
    container.markdown(
        f"What the council spent on commissioned services, for how many children, and how often there was no new "
        f"referral within a year of the case closing, as at **{as_of:%-d %B %Y}**. An episode can only be judged "
        f"once the case has been closed for a year, and not when the child turned 18, moved away or died in that "
        f"year. What a service added is judged against similar children who did not get it."
    )
    outcomes = run("service_outcomes", container)
    if outcomes is not None:
        if outcomes.is_empty() or (outcomes["episodes"].fill_null(1) == 0).all():  # null: a few, hidden
            container.info("No episodes of commissioned services are recorded.")
        else:
            shown = outcomes
            sentences = headline_sentences(shown)
            if sentences:
                container.success("  \n".join(sentences), icon=":material/lightbulb:")
            container.markdown("## Cost and success by service")
            outcomes_table(container, shown)
            container.caption(
                f"'{symbol()}': too few to show safely, hidden with everything worked out from it. Cost of an episode: the recorded "
                "cost, else the unit cost (per family: once for siblings at the same time; per week: for the "
                "weeks it ran, to the extract date when still running; per session: once). Cost per success: "
                "the cost of the judged episodes ÷ their successes; its interval resamples families, because "
                "brothers and sisters share an outcome. Cost per success counts every child with no new referral, "
                "including those who would have had none without the service (about three in four similar "
                "children); the comparison below gives the cost of each additional one. Too recent to judge: the "
                "case is still open, closed less than a year ago, or not recorded."
            )
            container.markdown("## Cost per child against success")
            cost_success_chart(container, shown)
            container.markdown("## How episodes ended")
            exits_chart(container, shown)
    container.markdown("## Against similar children who did not get the service")
    comparison_section(container)
    container.markdown("## Spend by month and how it was bought")
    section(container, "services_spend", spend_section, as_of)  # its period choice redraws it alone
    container.markdown("## Placement costs of looked-after children")
    placements_section(container, as_of)


if __name__ == "__main__":
    page_main(render)
