"""Front door: contacts to child protection plans, which partners' contacts become referrals, and timeliness."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from pages._charts import COUNCIL, ENGLAND, FLAGGED, interval_bars
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
from queries.settings import setting
from queries.wording import counted, plural

PAGE = {
    "title": "Front door",
    "icon": ":material/door_front:",
    "roles": ["head_of_service", "team_manager", "analyst", "admin"],
    "order": 35,
    "needs": ["referrals"],
    "description": "For heads of service and team managers: how contacts flow to referrals, assessments, section 47 "
    "enquiries, conferences and child protection plans, each step's conversion with its interval; which referral "
    "sources' contacts became referrals unusually often or rarely this month against their own last year; and "
    "front-door timeliness with England's figures beside ours.",
}

PERIODS = {"Last 12 months": 12, "Last 6 months": 6, "Last 3 months": 3}
# (flow column, step words, conversion name in front_door_flow)
STEPS = (
    ("contacts", "Contacts", None),
    ("referrals", "Referrals", "contact_to_referral"),
    ("assessed", "Assessed", "referral_to_assessment"),
    ("section47", "Section 47 enquiry", "assessment_to_section47"),
    ("icpc", "Initial conference (ICPC)", "section47_to_icpc"),
    ("cp_plans", "Child protection plan", "icpc_to_cp_plan"),
)
NOT_REFERRED = (
    ("contacts_nfa", "No further action"),
    ("contacts_advice", "Information and advice"),
    ("contacts_early_help", "Referred to early help"),
    ("contacts_other_outcome", "Other outcome"),
    ("contacts_referral_not_found", "Recorded as a referral, none found"),
    ("contacts_no_outcome", "No outcome recorded"),
)
FLAG_WORDS = {"above": "Above its usual range", "below": "Below its usual range", "within": "Within its usual range"}
COLOURS = {"month": COUNCIL, "flagged": FLAGGED, "range": "rgba(89,89,89,0.25)", "england": ENGLAND}


def symbol() -> str:
    return setting("symbol")


def percent_span(rate, low, high) -> str:
    """'37% (36–38%)', or the symbol when the rate is hidden or cannot be worked out."""
    if rate is None:
        return symbol()
    if low is None or high is None:
        return f"{rate:.0%}"
    return f"{rate:.0%} ({low:.0%}–{high:.0%})"


def first_day_of_period(as_of: dt.date, months: int) -> dt.date | None:
    """The 1st of the month months - 1 before as_of's month; None for 12 months (the questions' default)."""
    if months == 12:
        return None
    year, month = divmod(as_of.year * 12 + as_of.month - 1 - (months - 1), 12)
    return dt.date(year, month + 1, 1)


def team_choice(container) -> str | None:
    """The whole council or one team; a team manager sees only their own team's figures (the engine forces it)."""
    teams = run("team_list", container)
    if teams is None or teams.is_empty():
        return None
    names = dict(zip(teams["team_id"], teams["team_name"], strict=True))
    scope = current_scope()
    whole_council = scope is not None and scope.role not in ("social_worker", "team_manager")
    return container.selectbox(
        "Show figures for",
        [None, *names] if whole_council else list(names),
        format_func=lambda t: "The whole council" if t is None else names[t],
        key="front_door_team",
    )


# ---- the flow --------------------------------------------------------------------------------------


def step_rows(row: dict, with_contacts: bool) -> list[dict]:
    """The flow's steps as rows: count, and the conversion from the step before with its interval."""
    rows = []
    for column, words, conversion in STEPS:
        if column == "contacts" and not with_contacts:
            continue
        if conversion is None or (conversion == "contact_to_referral" and not with_contacts):
            rate, low, high = None, None, None
        else:
            rate, low, high = (row[f"{conversion}_{p}"] for p in ("rate", "ci_low", "ci_high"))
        before = rows[-1]["count"] if rows else None
        rows.append(
            {"step": words, "count": row[column], "rate": rate, "low": low, "high": high, "first": not rows,
             "none_before": before == 0}
        )  # fmt: skip
    return rows


def conversion_words(step: dict) -> str:
    """The conversion from the step before: a dash for the first step or after a step with none."""
    if step["first"] or step["none_before"]:
        return "–"
    return percent_span(step["rate"], step["low"], step["high"])


def flow_chart(container, steps: list[dict]) -> None:
    shown = [s for s in steps if s["count"] is not None]

    def build() -> go.Figure:
        figure = go.Figure(
            go.Funnel(
                y=[s["step"] for s in shown],
                x=[s["count"] for s in shown],
                text=[
                    f"{s['count']:,}"
                    + ("" if s["first"] or s["rate"] is None else f" · {s['rate']:.0%} of the step before")
                    for s in shown
                ],
                textinfo="text",
                textposition="outside",
                marker=dict(color=COLOURS["month"]),
                connector=dict(line=dict(color="#bbbbbb")),
                hovertemplate="%{y}: %{x:,}<extra></extra>",
            )
        )
        figure.update_layout(
            height=120 + 52 * len(shown),
            margin=dict(l=10, r=10, t=20, b=10),
            # A funnel is drawn about its middle, so its axis numbers would run negative: the bars carry the numbers.
            xaxis=dict(
                title="Number at each step (contacts, then referrals)",
                visible=True,
                showticklabels=False,
                zeroline=False,
            ),
            yaxis=dict(title=None),
        )
        return figure

    show_chart(container, build, key="front_door_flow", cache=(shown,))
    hidden = [s["step"] for s in steps if s["count"] is None]
    if hidden:
        container.caption(f"Not drawn, too few to show safely: {', '.join(hidden).lower()}.")


def flow_section(container, engine, team_id, from_date, chosen: dict) -> None:
    flow = run("front_door_flow", container, team_id=team_id, from_date=from_date)
    if flow is None or flow.is_empty():
        return
    row = flow.row(0, named=True)
    with_contacts = engine.usable("contacts")
    days = row["contact_referral_days"]
    if not with_contacts:
        container.info("This extract has no contacts table, so the flow starts at referrals.", icon=":material/info:")
    steps = step_rows(row, with_contacts)
    if all(s["count"] is None for s in steps):
        container.info("Too few contacts and referrals in this period to show safely.", icon=":material/shield:")
        return
    if all(s["count"] in (0, None) for s in steps):
        # A team that takes no contacts (a Child in Need or Looked After team) is all zeros here: say why.
        container.info(
            "No contacts or referrals in this period"
            + (
                " are recorded against this team. Contacts and referrals are recorded against the team that "
                "received them, usually the front door (MASH or assessment) team: choose that team or the "
                "whole council to see the flow."
                if team_id
                else "."
            ),
            icon=":material/info:",
        )
        return
    flow_chart(container, steps)
    table = pl.DataFrame(
        {
            "Step": [s["step"] for s in steps],
            "Number": [count_text(s["count"]) for s in steps],
            "Conversion from the step before (95% interval)": [conversion_words(s) for s in steps],
        }
    )
    show_table(container, table, "front_door_flow", filters=chosen, question="front_door_flow")
    period = f"{row['from_date']:%-d %B %Y} to {row['to_date']:%-d %B %Y}"
    notes = [f"{period}."]
    if with_contacts:
        notes.append(
            f"A contact became a referral when the child was referred on the contact date or up to {days} days "
            "after it, whatever outcome the contact records; so the first conversion is the share of contacts that "
            "became a referral."
        )
    notes.append(
        "From referrals on, each referral dated in the period is followed by its own assessment, enquiries, "
        "conference and plan, and counted at a step only if it reached every step before it."
    )
    if with_contacts and row["contacts_short_follow_up"]:
        notes.append(
            f"{counted(row['contacts_short_follow_up'], 'contact')} {plural('was', row['contacts_short_follow_up'])} made in the last {days} days before the "
            "extract date and have had less time to become a referral, so the first conversion is a little low."
        )
    if row["skipped_steps"]:
        notes.append(
            f"{counted(row['skipped_steps'], 'referral')} {plural('was', row['skipped_steps'])} recorded at a later step without an earlier one (for "
            "example a plan with no conference) and are not carried on: worth checking the records."
        )
    container.caption(" ".join(notes))
    if with_contacts:
        not_referred_section(container, row, chosen)


def not_referred_section(container, row: dict, chosen: dict) -> None:
    table = pl.DataFrame(
        {
            "What happened": ["Became a referral", *(words for _, words in NOT_REFERRED)],
            "Contacts": [count_text(row["contacts_converted"]), *(count_text(row[c]) for c, _ in NOT_REFERRED)],
        }
    )
    container.markdown("### Contacts that did not become a referral")
    nfa = percent_span(row["nfa_rate"], row["nfa_ci_low"], row["nfa_ci_high"])
    container.markdown(
        f"Of **{count_text(row['contacts'])}** contacts, **{count_text(row['contacts_nfa'])}** ended in no further "
        f"action: **{nfa}** of all contacts (95% interval)."
    )
    show_table(container, table, "front_door_contact_outcomes", filters=chosen, question="front_door_flow")


# ---- contacts by referral source -------------------------------------------------------------------


def source_chart(container, frame: pl.DataFrame) -> None:
    plotted = frame.filter(pl.col("rate").is_not_null()).reverse()  # most contacts at the top
    if plotted.is_empty():
        container.info("No source's share can be shown safely this month.")
        return
    labels = plotted["source_label"].to_list()

    def build() -> go.Figure:
        figure = go.Figure()
        ranged = plotted.filter(pl.col("lower_limit").is_not_null())
        figure.add_trace(
            go.Bar(
                y=ranged["source_label"].to_list(),
                x=(100 * (ranged["upper_limit"] - ranged["lower_limit"])).to_list(),
                base=(100 * ranged["lower_limit"]).to_list(),
                orientation="h",
                marker_color=COLOURS["range"],
                name="Usual range for a month this size",
                customdata=ranged.select(pl.col("lower_limit") * 100, pl.col("upper_limit") * 100).rows(),
                hovertemplate="%{y}: usually %{customdata[0]:.0f}% to %{customdata[1]:.0f}%<extra></extra>",
            )
        )
        baseline = plotted.filter(pl.col("baseline_rate").is_not_null())
        figure.add_trace(
            go.Scatter(
                y=baseline["source_label"].to_list(),
                x=(100 * baseline["baseline_rate"]).to_list(),
                mode="markers",
                marker=dict(symbol="line-ns-open", size=16, color="#555555", line=dict(width=2)),
                name="Its 12 months before",
                hovertemplate="%{y}: %{x:.0f}% over the 12 months before<extra></extra>",
            )
        )
        flagged = [f in ("above", "below") for f in plotted["flag"].to_list()]
        figure.add_trace(
            go.Scatter(
                y=labels,
                x=(100 * plotted["rate"]).to_list(),
                mode="markers",
                marker=dict(
                    size=10,
                    color=[COLOURS["flagged"] if f else COLOURS["month"] for f in flagged],
                    symbol=["diamond" if f else "circle" for f in flagged],  # unusual: by mark as well as colour
                ),
                **interval_bars(
                    (100 * plotted["ci_low"]).to_list(),
                    (100 * plotted["ci_high"]).to_list(),
                    (100 * plotted["rate"]).to_list(),
                ),
                customdata=plotted["contacts"].to_list(),
                name="This month (95% interval)",
                hovertemplate="%{y}: %{x:.0f}% of %{customdata} contacts this month<extra></extra>",
            )
        )
        figure.update_layout(
            barmode="overlay",
            height=140 + 30 * plotted.height,
            margin=dict(l=10, r=10, t=30, b=10),
            xaxis=dict(title="% of contacts that became a referral", range=[0, 102], ticksuffix="%"),
            yaxis=dict(title=None, categoryorder="array", categoryarray=labels),
            legend=dict(orientation="h", y=1.04, x=0, yanchor="bottom"),
        )
        return figure

    show_chart(container, build, key="front_door_sources", cache=(plotted,))


def share_words(r: dict) -> str:
    """This month's share: a dash with no contacts, the symbol when hidden."""
    if r["contacts"] == 0:
        return "–"
    return percent_span(r["rate"], r["ci_low"], r["ci_high"])


def range_words(r: dict) -> str:
    """The usual range at this month's contacts, or why there is none."""
    if r["judged"] is False:
        return "too few to judge"
    if r["contacts"] == 0:
        return "–"
    if r["lower_limit"] is None or r["upper_limit"] is None:
        return symbol()
    return f"{r['lower_limit']:.0%}–{r['upper_limit']:.0%}"


def verdict_words(r: dict) -> str:
    if r["judged"] is False:
        return "Not judged: too few contacts"
    if r["contacts"] == 0:
        return "No contacts this month"
    return FLAG_WORDS.get(r["flag"], symbol())


def source_table(container, frame: pl.DataFrame, team_id) -> None:
    rows = frame.to_dicts()
    table = pl.DataFrame(
        {
            "Referral source": frame["source_label"],
            "Contacts this month": [count_text(r["contacts"]) for r in rows],
            "Became referrals": [count_text(r["converted"]) for r in rows],
            "Share (95% interval)": [share_words(r) for r in rows],
            "Contacts, 12 months before": [count_text(r["baseline_contacts"]) for r in rows],
            "Share, 12 months before": formatted(frame["baseline_rate"], lambda v: f"{v:.0%}", null=symbol()),
            "Usual range this month": [range_words(r) for r in rows],
            "This month": [verdict_words(r) for r in rows],
        }
    )
    show_table(
        container,
        table,
        "front_door_sources",
        filters={"team": team_id},
        question="contact_conversion_by_source",
        column_config={
            "Referral source": brief("Source", "Referral source"),
            "Contacts this month": brief("Contacts", "Contacts this month"),
            "Became referrals": brief("Referrals", "Contacts this month that became referrals"),
            "Share (95% interval)": brief("Share", "Share that became referrals (95% interval)"),
            "Contacts, 12 months before": brief("Before", "Contacts in the 12 months before"),
            "Share, 12 months before": brief("Share before", "Share that became referrals, 12 months before"),
            "Usual range this month": brief("Usual range", "Usual range of the share this month"),
        },
    )


def source_section(container, team_id) -> None:
    by_source = run("contact_conversion_by_source", container, team_id=team_id)
    if by_source is None:
        return
    if by_source.is_empty():
        container.info("No contacts in this month or the 12 months before it.")
        return
    month = by_source["month"][0]
    days = int(setting("contact_referral_days"))
    container.markdown(
        f"**{month:%B %Y}**, the latest month whose contacts have all had {days} days to become a referral, against "
        "each source's own 12 months before it."
    )
    source_chart(container, by_source)
    source_table(container, by_source, team_id)
    outside = by_source.filter(pl.col("flag").is_in(["above", "below"]))["source_label"].to_list()
    container.caption(
        "Grey band: the range a month of this many contacts usually falls in, from how much the source's monthly "
        "shares varied over the 12 months before (two standard deviations, and never narrower than chance alone). "
        + (f"Outside it this month: {', '.join(outside)}. " if outside else "No source is outside it this month. ")
        + "With this many sources, about one month in twenty falls outside by chance alone, so a source outside "
        "its range is a prompt to look and to talk to that partner, not a finding. A source whose contacts rarely "
        "become referrals every month (far left, but within its own range) is the pattern to discuss thresholds on."
    )


# ---- timeliness --------------------------------------------------------------------------------------


def timeliness_chart(container, frame: pl.DataFrame) -> None:
    plotted = frame.filter(pl.col("rate").is_not_null())
    if plotted.is_empty():
        return
    labels = plotted["label"].to_list()

    def build() -> go.Figure:
        figure = go.Figure()
        figure.add_trace(
            go.Scatter(
                y=labels,
                x=(100 * plotted["rate"]).to_list(),
                mode="markers",
                marker=dict(size=11, color=COLOURS["month"]),
                **interval_bars(
                    (100 * plotted["ci_low"]).to_list(),
                    (100 * plotted["ci_high"]).to_list(),
                    (100 * plotted["rate"]).to_list(),
                ),
                name="Ours (95% interval)",
                hovertemplate="%{y}: %{x:.0f}%<extra></extra>",
            )
        )
        england = plotted.filter(pl.col("england_rate").is_not_null())
        figure.add_trace(
            go.Scatter(
                y=england["label"].to_list(),
                x=(100 * england["england_rate"]).to_list(),
                mode="markers",
                marker=dict(symbol="diamond", size=11, color=COLOURS["england"]),
                customdata=england["england_year"].to_list(),
                name="England",
                hovertemplate="%{y}: England %{x:.1f}% (%{customdata})<extra></extra>",
            )
        )
        figure.update_layout(
            height=140 + 40 * plotted.height,
            margin=dict(l=10, r=10, t=30, b=10),
            xaxis=dict(title="% meeting the standard (re-referrals: % of referrals)", range=[0, 102], ticksuffix="%"),
            yaxis=dict(title=None, categoryorder="array", categoryarray=labels[::-1]),
            legend=dict(orientation="h", y=1.04, x=0, yanchor="bottom"),
        )
        return figure

    show_chart(container, build, key="front_door_timeliness", cache=(plotted,))


def days_words(r: dict) -> str:
    if r["median_working_days"] is None:
        return symbol() if r["total"] is None else "–"
    if r["q1_working_days"] is None or r["q3_working_days"] is None:
        return f"{r['median_working_days']:.0f}"
    return f"{r['median_working_days']:.0f} ({r['q1_working_days']:.0f}–{r['q3_working_days']:.0f})"


def england_words(r: dict) -> str:
    if r["england_rate"] is not None:
        return f"{r['england_rate']:.1%} ({r['england_year']})"
    return "not published" if r["england_source"] else "–"


def timeliness_section(container, team_id, from_date, chosen: dict) -> None:
    timely = run("front_door_timeliness", container, team_id=team_id, from_date=from_date)
    if timely is None:
        return
    timely = timely.sort("order")
    timeliness_chart(container, timely)
    rows = timely.to_dicts()
    table = pl.DataFrame(
        {
            "Measure": timely["label"],
            "Standard": timely["standard"],
            "Number": [count_text(r["total"]) for r in rows],
            "Meeting it": [count_text(r["within"]) if r["measure"] != "referral_to_assessment" else "–" for r in rows],
            "Share (95% interval)": [
                "–"
                if r["measure"] == "referral_to_assessment" or r["total"] == 0
                else percent_span(r["rate"], r["ci_low"], r["ci_high"])
                for r in rows
            ],
            "Median working days (middle half)": [days_words(r) for r in rows],
            "England": [england_words(r) for r in rows],
        }
    )
    show_table(
        container,
        table,
        "front_door_timeliness",
        filters=chosen,
        question="front_door_timeliness",
        column_config={
            "Share (95% interval)": brief("Share", "Share meeting the standard (95% interval)"),
            "Median working days (middle half)": brief("Median days", "Median working days (middle half)"),
        },
    )
    sources = [r["england_source"] for r in rows if r["england_rate"] is not None]
    container.caption(
        "Working days leave out weekends and England and Wales bank holidays. Contact to referral: the referral "
        "dated at most 1 working day after the contact (a Friday contact referred on Monday counts). Contacts are not "
        "published nationally (DfE collects referrals, not contacts), so there is no England figure beside them; "
        "referral to assessment has no national standard. England: " + "; ".join(dict.fromkeys(sources)) + "."
    )


def render(container) -> None:
    container.title("Front door")
    engine = opened_engine(container)
    if engine is None:
        return
    as_of = engine.as_of
    container.markdown(
        f"How contacts about children became referrals and what followed, which partners' contacts became referrals "
        f"unusually often or rarely, and how quickly the front door works, as at **{as_of:%-d %B %Y}**."
    )
    columns = container.columns(2)
    team_id = team_choice(columns[0])
    choice = columns[1].radio("Period", list(PERIODS), horizontal=True, key="front_door_period")
    from_date = first_day_of_period(as_of, PERIODS[choice])
    chosen = {"team": team_id, "period": f"{PERIODS[choice]} months"}  # names the downloads
    container.markdown("## From contact to child protection plan")
    flow_section(container, engine, team_id, from_date, chosen)
    container.markdown("## Which sources' contacts became referrals")
    source_section(container, team_id)
    container.markdown("## Timeliness, with England's figures")
    timeliness_section(container, team_id, from_date, chosen)


if __name__ == "__main__":
    page_main(render)
