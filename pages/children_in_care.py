"""Children in care: who is in care now, what placements cost, reviews on time, missing from care and care
leavers, each with England's figure beside it where DfE publishes one. Works from an SSDA903 return alone."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from pages._charts import COUNCIL, ENGLAND, MUTED, interval_bars
from pages._charts import show as show_chart
from pages._frame import (
    brief,
    count_text,
    current_scope,
    formatted,
    opened_engine,
    page_main,
    run,
    show_table,
)
from pages.services import placements_section
from queries.access import may_run
from queries.settings import setting

PAGE = {
    "title": "Children in care",
    "icon": ":material/family_restroom:",
    "roles": ["team_manager", "head_of_service", "analyst", "admin"],
    "order": 35,
    "needs": ["looked_after"],
    "description": "For team managers and heads of service: children in care now (legal status, placements, "
    "unaccompanied asylum-seeking children), placement costs, looked-after children's reviews held on time and "
    "overdue, children missing from care, and care leavers in touch, in education, employment or training and "
    "suitably housed, with England's figures beside ours. Works from an SSDA903 return alone.",
}

COLOURS = {"council": COUNCIL, "england": ENGLAND, "grey": MUTED}
DFE = "DfE, Children looked after in England including adoptions, year ending 31 March 2025"


def symbol() -> str:
    return setting("symbol")


def percent(value, low=None, high=None, total=None) -> str:
    """'67% (21–94%)', '67%' without an interval, '–' when there is nothing to count, the symbol when hidden."""
    if value is None:
        return "–" if total == 0 else symbol()
    if low is None or high is None:
        return f"{value:.0%}"
    return f"{value:.0%} ({low:.0%}–{high:.0%})"


def share_column(frame: pl.DataFrame, name: str, total: str) -> pl.Series:
    """A share of `total` and its Wilson interval (`name`, `name`_ci_low, `name`_ci_high), as text."""
    rows = frame.select(name, f"{name}_ci_low", f"{name}_ci_high", total).rows()
    return pl.Series([percent(*row) for row in rows], dtype=pl.String)


def whole(frame: pl.DataFrame, column: str) -> pl.Series:
    return formatted(frame[column], lambda v: f"{v:,}", null=symbol())


def england_words(england: dict, measure: str, words: str) -> str:
    value = england.get(measure)
    return f"England: {words.format(value)} ({DFE})." if value is not None else ""


def share_chart(container, labels, values, lows, highs, title: str, axis: str, key: str, england=None) -> None:
    """Shares as horizontal bars with their 95% intervals; `england` {label: share} as red diamonds beside them."""
    shown = [(n, v, lo, hi) for n, v, lo, hi in zip(labels, values, lows, highs, strict=True) if v is not None]
    if not shown:
        container.caption("Nothing to chart: too few to show safely, or nothing to count.")
        return
    names, shares, low, high = (list(column) for column in zip(*shown, strict=True))

    def build() -> go.Figure:
        figure = go.Figure(
            go.Bar(
                y=names,
                x=[100 * s for s in shares],
                orientation="h",
                marker_color=COLOURS["council"],
                **interval_bars(
                    [None if lo is None else 100 * lo for lo in low],
                    [None if h is None else 100 * h for h in high],
                    [None if s is None else 100 * s for s in shares],
                ),
                hovertemplate="%{y}: %{x:.0f}%<extra></extra>",
                name="This council",
            )
        )
        marked = {name: value for name, value in (england or {}).items() if value is not None and name in names}
        if marked:
            figure.add_trace(
                go.Scatter(
                    x=[100 * v for v in marked.values()],
                    y=list(marked),
                    mode="markers",
                    marker=dict(symbol="diamond", size=13, color=COLOURS["england"], line=dict(width=1, color="white")),
                    hovertemplate="England 2025: %{x:.0f}%<extra></extra>",
                    name="England 2025",
                )
            )
        figure.update_layout(
            title=title,
            height=140 + 40 * len(names),
            margin=dict(l=10, r=10, t=50, b=10),
            xaxis=dict(title=axis, range=[0, 101], ticksuffix="%"),
            yaxis=dict(title=None, autorange="reversed"),
            showlegend=bool(marked),
            legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
        )
        return figure

    show_chart(container, build, key=key, cache=(shown, title, axis, key, england))


def counts_chart(container, labels, values, title: str, axis: str, key: str) -> None:
    """Children by category as horizontal bars (categories hidden for safety left out, and said so)."""
    shown = [(n, v) for n, v in zip(labels, values, strict=True) if v is not None]
    if not shown:
        return

    def build() -> go.Figure:
        figure = go.Figure(
            go.Bar(
                y=[n if len(n) <= 56 else n[:55] + "…" for n, _ in shown],
                x=[v for _, v in shown],
                orientation="h",
                marker_color=COLOURS["council"],
                hovertemplate="%{y}: %{x} children<extra></extra>",
            )
        )
        figure.update_layout(
            title=title,
            height=140 + 34 * len(shown),
            margin=dict(l=10, r=10, t=50, b=10),
            xaxis=dict(title=axis, rangemode="nonnegative"),
            yaxis=dict(title=None, autorange="reversed"),
        )
        return figure

    show_chart(container, build, key=key, cache=(shown, title, axis, key))
    if len(shown) < len(labels):
        container.caption(f"{len(labels) - len(shown)} with too few children to show safely are left out.")


# ---- children in care now -------------------------------------------------------------------------------------


def now_section(container, as_of: dt.date, england: dict) -> None:
    columns = container.columns(2)
    in_care = run("looked_after_children", columns[0])
    if in_care is not None:
        columns[0].metric(
            f"In care on {as_of:%-d %B %Y}",
            count_text(in_care["looked_after_children"][0]),
            help="Children in a period of care on the extract date. "
            + england_words(england, "cla_per_10000", "{:.0f} children in care per 10,000 children under 18"),
        )
    uasc = run("cla_uasc", columns[1])
    if uasc is not None:
        row = uasc.row(0, named=True)
        columns[1].metric(
            "Unaccompanied asylum-seeking children",
            f"{count_text(row['uasc_children'])} ({percent(row['uasc_share'], total=row['looked_after_children'])})",
            help="Of the children in care on the extract date, with the share in brackets. "
            + england_words(england, "uasc_share", "{:.0%}"),
        )
        if row["uasc_share"] is not None:
            container.caption(
                f"UASC: {percent(row['uasc_share'], row['uasc_share_ci_low'], row['uasc_share_ci_high'])} of "
                f"children in care (95% interval). " + england_words(england, "uasc_share", "{:.0%}")
            )
    legal = run("cla_legal_status", container)
    if legal is not None:
        statuses = legal.filter(~pl.col("is_total"))
        if statuses.is_empty():
            container.info(f"No child was in care on {as_of:%-d %B %Y}.")
        else:
            counts_chart(
                container,
                statuses["legal_status"].to_list(),
                statuses["children"].to_list(),
                "Children in care by legal status",
                "Children",
                "cla_legal_status",
            )
            table = legal.select(
                pl.col("legal_status").alias("Legal status"),
                whole(legal, "children").alias("Children"),
                formatted(legal["share"], lambda v: f"{v:.0%}", null=symbol()).alias("Share"),
            )
            show_table(container, table, "cla_legal_status", question="cla_legal_status")
    placements = run("placement_costs", container)
    if placements is not None:
        types = placements.filter(pl.col("placement_type") != "all")
        if not types.is_empty():
            counts_chart(
                container,
                types["placement"].to_list(),
                types["children"].to_list(),
                "Children in care by placement",
                "Children",
                "cla_placements",
            )


# ---- reviews ------------------------------------------------------------------------------------------------------


def reviews_section(container, as_of: dt.date) -> None:
    timeliness = run("cla_review_timeliness", container)
    if timeliness is not None:
        total = timeliness.filter(pl.col("review") == "all").row(0, named=True)
        columns = container.columns(2)
        columns[0].metric(
            "Reviews held on time, last 12 months",
            percent(total["on_time_share"], total=total["reviews_due"]),
            help="Of the reviews due in the 12 months to the extract date (reg. 33 timetable).",
        )
        columns[1].metric(
            f"Children with an overdue review on {as_of:%-d %B %Y}",
            count_text(total["overdue_now"]),
            help="Children in care whose next review was due before the extract date and has not been held.",
        )
        share_chart(
            container,
            timeliness["review_label"].to_list(),
            timeliness["on_time_share"].to_list(),
            timeliness["on_time_share_ci_low"].to_list(),
            timeliness["on_time_share_ci_high"].to_list(),
            "Reviews held on time, by review (95% intervals)",
            "% of reviews due that were held on time",
            "cla_reviews_on_time",
        )
        table = timeliness.select(
            pl.col("review_label").alias("Review"),
            whole(timeliness, "reviews_due").alias("Due in the 12 months"),
            whole(timeliness, "on_time").alias("On time"),
            whole(timeliness, "held_late").alias("Held late"),
            whole(timeliness, "not_held").alias("Not held"),
            share_column(timeliness, "on_time_share", "reviews_due").alias("On time % (95% CI)"),
            whole(timeliness, "overdue_now").alias(f"Overdue on {as_of:%-d %b %Y}"),
        )
        show_table(container, table, "cla_review_timeliness", question="cla_review_timeliness")
        container.caption(
            "Care Planning, Placement and Case Review (England) Regulations 2010, regulation 33: the first review "
            "within 20 working days of coming into care, the second within 3 months of the first, then every 6 "
            "months. A review never held counts as not held once its due date has passed while the child was in care. "
            "Short breaks (V3, V4) have their own timetable and are left out. DfE publishes no national figure "
            "for review timeliness, so there is no England figure to set beside it."
        )
    overdue_list(container)
    participation = run("cla_review_participation", container)
    if participation is not None:
        shown = participation.filter(pl.col("reviews").ne_missing(0))  # hidden counts (null) stay
        table = shown.select(
            pl.col("participation_label").alias("How the child took part"),
            whole(shown, "reviews").alias("Reviews"),
            share_column(shown, "share", "all_reviews").alias("Share of reviews % (95% CI)"),
        )
        container.markdown("How children took part in the reviews held in the last 12 months")
        show_table(container, table, "cla_review_participation", question="cla_review_participation")


def overdue_list(container) -> None:
    """The children behind the overdue count, for the roles that may see children (not heads of service)."""
    engine, scope = opened_engine(container), current_scope()
    if engine is None or scope is None or not may_run(engine.query("cla_overdue_reviews"), scope):
        container.caption("The list of children with an overdue review is for team managers and analysts.")
        return
    overdue = run("cla_overdue_reviews", container)
    if overdue is None or overdue.is_empty():
        return
    table = overdue.select(
        pl.col("child_id").alias("Child"),
        pl.col("in_care_since").dt.strftime("%-d %b %Y").alias("In care since"),
        pl.col("last_review").dt.strftime("%-d %b %Y").fill_null("none yet").alias("Last review"),
        pl.col("review_number").alias("Review due (1 = first)"),
        pl.col("due_date").dt.strftime("%-d %b %Y").alias("Was due"),
        pl.col("days_overdue").alias("Days overdue"),
        pl.col("team_id").alias("Team"),
        pl.col("worker_id").alias("Worker"),
    )
    expander = container.expander(f"Children with an overdue review ({overdue.height})", icon=":material/event_busy:")
    show_table(expander, table, "cla_overdue_reviews", question="cla_overdue_reviews")
    expander.caption("Child-level operational data (not small-number suppressed): do not share outside the service.")


# ---- missing from care --------------------------------------------------------------------------------------------


def missing_section(container, as_of: dt.date, england: dict) -> None:
    missing = run("missing_from_care", container)
    if missing is None:
        return
    row = missing.row(0, named=True)
    columns = container.columns(3)
    columns[0].metric(
        "Went missing, last 12 months",
        f"{count_text(row['children_missing'])} ({percent(row['missing_share'], total=row['looked_after_in_year'])})",
        help="Children with a missing incident, and their share of the children looked after in the 12 months. "
        + england_words(england, "missing_share", "{:.0%}"),
    )
    columns[1].metric(
        "Away without authorisation",
        f"{count_text(row['children_away'])} ({percent(row['away_share'], total=row['looked_after_in_year'])})",
        help="Children away from placement without authorisation (whereabouts known).",
    )
    columns[2].metric(
        f"Not back on {as_of:%-d %B %Y}",
        count_text(row["not_back_on_as_of"]),
        help="Missing or away incidents with no end date by the extract date.",
    )
    share_chart(
        container,
        ["Went missing", "Away without authorisation", "Missing or away"],
        [row["missing_share"], row["away_share"], row["missing_or_away_share"]],
        [row["missing_share_ci_low"], row["away_share_ci_low"], row["missing_or_away_share_ci_low"]],
        [row["missing_share_ci_high"], row["away_share_ci_high"], row["missing_or_away_share_ci_high"]],
        "Children looked after in the last 12 months who went missing or were away (95% intervals)",
        "% of children looked after in the 12 months",
        "cla_missing",
        england={"Went missing": england.get("missing_share")},
    )

    def number(value, digits: int = 1) -> str:
        return symbol() if value is None else f"{value:,.{digits}f}"

    def reference(measure: str, text: str) -> str:
        return text.format(england[measure]) if measure in england else "–"

    table = pl.DataFrame(
        {
            "Measure": [
                "Children looked after in the 12 months",
                "Went missing (95% CI)",
                "Away without authorisation (95% CI)",
                "Missing incidents per child who went missing",
                "Away incidents per child who was away",
                "Median length of an incident that ended, days",
                "Return interview offered, of missing incidents with one recorded (95% CI)",
                "Incidents left out: not during a period of care",
            ],
            "This council": [
                count_text(row["looked_after_in_year"]),
                percent(
                    row["missing_share"],
                    row["missing_share_ci_low"],
                    row["missing_share_ci_high"],
                    row["looked_after_in_year"],
                ),
                percent(
                    row["away_share"], row["away_share_ci_low"], row["away_share_ci_high"], row["looked_after_in_year"]
                ),
                number(row["missing_episodes_per_child"]),
                number(row["away_episodes_per_child"]),
                number(row["median_episode_days"]),
                percent(
                    row["interview_share"],
                    row["interview_share_ci_low"],
                    row["interview_share_ci_high"],
                    row["interviews_recorded"],
                )
                + f" of {count_text(row['interviews_recorded'])}",
                count_text(row["episodes_outside_care"]),
            ],
            "England 2025": [
                "–",
                reference("missing_share", "{:.0%}"),
                "–",
                reference("missing_episodes_per_child", "{:.1f}"),
                reference("away_episodes_per_child", "{:.1f}"),
                "–",
                "–",
                "–",
            ],
        }
    )
    show_table(
        container,
        table,
        "missing_from_care",
        title="Children missing from care, with England's figures",  # missing_from_care and cla_england_reference
    )
    container.caption(
        f"Over the 12 months to {as_of:%-d %B %Y}. Missing: whereabouts not known; away: whereabouts known but not "
        "where the child should be. A length is the end date minus the start date, so back the same day is 0 days. "
        f"England: {DFE}; its share is of the children looked after during the year, as here."
    )


# ---- care leavers -------------------------------------------------------------------------------------------------


def care_leavers_section(container) -> None:
    leavers = run("care_leaver_outcomes", container)
    if leavers is None:
        return
    shown = leavers.filter((pl.col("age_band") != "other ages") | pl.col("care_leavers").ne_missing(0))
    if (shown["care_leavers"].fill_null(1) == 0).all():
        container.info("No care leavers are recorded.")
        return
    main_ages = shown.filter(pl.col("age_band") != "other ages")
    labels = [
        f"{age}: {words}"
        for age in main_ages["age_band_label"]
        for words in ("in touch", "in education, employment or training", "suitably housed")
    ]
    values, lows, highs = [], [], []
    for row in main_ages.iter_rows(named=True):
        for name in ("in_touch_share", "eet_share", "suitable_share"):
            values.append(row[name])
            lows.append(row[f"{name}_ci_low"])
            highs.append(row[f"{name}_ci_high"])
    share_chart(
        container,
        labels,
        values,
        lows,
        highs,
        "Care leavers by age (95% intervals)",
        "% of care leavers of that age",
        "cla_care_leavers",
    )
    table = shown.select(
        pl.col("age_band_label").alias("Age"),
        whole(shown, "care_leavers").alias("Care leavers"),
        share_column(shown, "in_touch_share", "care_leavers").alias("In touch % (95% CI)"),
        share_column(shown, "eet_share", "care_leavers").alias("In education, employment or training % (95% CI)"),
        whole(shown, "neet").alias("Not in education, employment or training"),
        whole(shown, "activity_unknown").alias("Activity not known"),
        share_column(shown, "suitable_share", "care_leavers").alias("Suitable accommodation % (95% CI)"),
        whole(shown, "unsuitable").alias("Unsuitable"),
        whole(shown, "accommodation_unknown").alias("Accommodation not known"),
    )
    show_table(
        container,
        table,
        "care_leaver_outcomes",
        question="care_leaver_outcomes",
        column_config={
            "Care leavers": brief("Leavers", "Care leavers of that age"),
            "In touch % (95% CI)": brief("In touch %", "In touch with the council, % (95% CI)"),
            "In education, employment or training % (95% CI)": brief(
                "EET %", "In education, employment or training, % (95% CI)"
            ),
            "Not in education, employment or training": brief("NEET", "Not in education, employment or training"),
            "Activity not known": brief("Activity ?", "Activity not known"),
            "Suitable accommodation % (95% CI)": brief("Suitably housed %", "Suitable accommodation, % (95% CI)"),
            "Accommodation not known": brief("Housing ?", "Accommodation not known"),
        },
    )
    container.caption(
        "Age on the extract date; each young person's latest record. Shares are of all care leavers of the age (as "
        "DfE gives them); those who died or went home to their parents for 6 months or more are left out. England's "
        "care leaver figures for 2025 are not in ChildStat's reference file yet "
        "(queries/reference/england_children_in_care.toml), so none is shown rather than one not checked."
    )


def render(container) -> None:
    container.title("Children in care")
    engine = opened_engine(container)
    if engine is None:
        return
    as_of = engine.as_of
    container.markdown(
        f"Children in care on **{as_of:%-d %B %Y}**, what their placements cost, whether their reviews were held on "
        "time, how many went missing in the last 12 months, and how care leavers are doing, with England's figures "
        "from DfE (year ending 31 March 2025) beside ours where DfE publishes one."
    )
    scope = current_scope()
    if not engine.usable("referrals"):
        if scope is not None and scope.role in ("team_manager", "social_worker"):
            container.warning(
                "This extract has no referrals table (an SSDA903 return alone has no teams), so no child is linked "
                "to your team and your team's figures below are empty. An analyst can see the council's.",
                icon=":material/groups:",
            )
        else:
            container.info(
                "This extract has no referrals table (an SSDA903 return alone): the figures are the whole "
                "council's. Where a section says the referrals table is not included, only a team filter is lost.",
                icon=":material/info:",
            )
    reference = run("cla_england_reference", container)
    england = dict(zip(reference["measure"], reference["value"], strict=True)) if reference is not None else {}
    container.markdown("## Children in care now")
    now_section(container, as_of, england)
    container.markdown("## Placement costs")
    placements_section(container, as_of)
    container.markdown("## Reviews on time")
    reviews_section(container, as_of)
    container.markdown("## Missing from care")
    missing_section(container, as_of, england)
    container.markdown("## Care leavers")
    care_leavers_section(container)


if __name__ == "__main__":
    page_main(render)
