"""The board summary: a head of service's headline figures with their trends, beside England's.

Every figure is an answer to a named question (headline_trend, england_reference, team_caseload,
compliance_summary, statistical_neighbours) asked as the reader, so it is protected as on any page;
this module only lays the answers out. Statistical neighbours' figures are the council's to enter
(queries/models/neighbours.py): a measure without one says "not published here", and a file that
breaks a rule leaves out only the neighbour column, with the rule it broke.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from pages._export import About
from queries.models.neighbours import neighbour_file, neighbour_file_problem
from reports.document import Figure, Report, count_text, share_text

Ask = Callable[..., pl.DataFrame | None]  # ask(question, **params): the answer as the reader sees it, or None

PERIODS = {6: "6 months", 12: "12 months", 24: "24 months", 36: "36 months"}
TRENDS = [
    # (column, label, is a share, England measure in queries/reference/england.toml)
    ("open_cases", "Open cases", False, None),
    ("children_on_cp_plans", "On a CP plan", False, None),
    ("looked_after_children", "Looked after", False, None),
    ("referrals_in_month", "Referrals in the month", False, None),
    ("rereferral_rate", "Re-referrals, 12 months", True, "rereferral_rate"),
]
# Short column names for the team tables, so seven columns fit a page and an A4 sheet
SHORT = {
    "assessment_45wd": "Assessments in 45 days",  # working days, as the note under the table says
    "icpc_15wd": "ICPCs in 15 days",
    "cp_review_timely": "CP reviews on time",
    "visits_in_timescale": "Visits on time",
    "cpp_2_years": "CP plans 2+ years",
    "repeat_cpp": "Repeat CP plans",
}
RAG_WORDS = {"green": "met", "amber": "near", "red": "missed"}
NOT_PUBLISHED = "not published here"


def value_text(value, is_share: bool, symbol: str) -> str:
    return share_text(value, symbol) if is_share else count_text(value, symbol)


def england_text(row: dict | None) -> str:
    if row is None:
        return "not published"
    value = row["value"]
    return f"{value:.0%} ({row['year']})" if value < 1 else f"{value:g} ({row['year']})"


def board_report(ask: Ask, about: About, months: int, symbol: str) -> Report:
    """The board summary for the `months` months to as_of."""
    about = dataclasses.replace(about, filters={"period": PERIODS.get(months, f"{months} months")} | about.filters)
    report = Report(f"Board summary: {about.council}", about)
    trend = ask("headline_trend", months=months)
    england = ask("england_reference")
    england_rows = {} if england is None else {r["measure"]: r for r in england.iter_rows(named=True)}
    report.text(
        f"Headline figures on {about.as_of:%-d %B %Y} with the trend over the {months} months before, "
        "England's published figures where DfE publishes one, and each team's caseload and compliance."
    )
    if trend is not None and trend.height:
        headline_section(report, trend, england_rows, symbol)
    else:
        report.note("The headline figures could not be worked out for this extract.")
    neighbours = ask("statistical_neighbours")
    comparison_section(report, trend, england_rows, neighbours, symbol)
    teams_section(report, ask, england_rows, symbol)
    report.note(about.suppression)
    return report


def headline_section(report: Report, trend: pl.DataFrame, england: dict, symbol: str) -> None:
    first, last = trend.row(0, named=True), trend.row(-1, named=True)
    report.heading("Headline figures")
    report.figures(
        [
            Figure(
                label,
                value_text(last[column], share, symbol),
                f"{first['day']:%-d %b %Y}: {value_text(first[column], share, symbol)}"
                + (f"; England {england_text(england.get(measure))}" if measure else ""),
            )
            for column, label, share, measure in TRENDS
        ]
    )
    chart = make_subplots(rows=3, cols=2, subplot_titles=[label for _, label, _, _ in TRENDS], vertical_spacing=0.12)
    sentences = []
    for index, (column, label, share, _) in enumerate(TRENDS):
        values = trend[column].to_list()
        chart.add_trace(
            go.Scatter(
                x=trend["day"].to_list(),
                y=[None if v is None else (100 * v if share else v) for v in values],
                mode="lines+markers",
                line=dict(color="#1f4e79"),
                name=label,
                hovertemplate="%{x|%b %Y}: %{y:,.0f}" + ("%" if share else "") + "<extra></extra>",
            ),
            row=index // 2 + 1,
            col=index % 2 + 1,
        )
        sentences.append(
            f"{label}: {value_text(values[0], share, symbol)} on {first['day']:%-d %b %Y}, "
            f"{value_text(values[-1], share, symbol)} on {last['day']:%-d %b %Y}"
        )
    chart.update_layout(height=500, showlegend=False, margin=dict(l=40, r=20, t=40, b=30))
    chart.update_yaxes(rangemode="tozero")
    chart.update_yaxes(ticksuffix="%", row=3, col=1)
    report.chart(chart, "Trends. " + "; ".join(sentences) + ".")
    report.table(
        trend.select(
            pl.col("day").alias("Date"),
            *[
                pl.Series(label, [value_text(v, share, symbol) for v in trend[column].to_list()])
                for column, label, share, _ in TRENDS
            ],
        ),
        "board_headline_trend",
        question="headline_trend",
    )


def comparison_section(
    report: Report, trend: pl.DataFrame | None, england: dict, neighbours: pl.DataFrame | None, symbol: str
) -> None:
    """England's figure and, where the council has entered it, its statistical neighbours' average; a neighbour
    file that cannot be used (`neighbours` None) leaves that column out and the note says why."""
    report.heading("Against England and statistical neighbours")
    ours = {"rereferral_rate": None if trend is None or not trend.height else trend["rereferral_rate"][-1]}
    shown = {measure: row for measure, row in england.items() if measure != "absence_rate"}
    entered = {} if neighbours is None else {r["measure"]: r for r in neighbours.iter_rows(named=True)}
    rows = [
        {
            "Measure": row["label"],
            "This council": share_text(ours[measure], symbol) if measure in ours else "by team, below",
            "England": england_text(row),
        }
        | ({} if neighbours is None else {"Statistical neighbours": neighbour_text(entered.get(measure))})
        for measure, row in shown.items()
    ]
    if rows:
        report.table(pl.DataFrame(rows), "board_england", question="england_reference")
        report.note("England: " + "; ".join(f"{row['source']}" for row in shown.values()) + ".")
    report.note(neighbour_note(neighbours, entered))


def neighbour_text(row: dict | None) -> str:
    return NOT_PUBLISHED if row is None else england_text(row)


def neighbour_note(neighbours: pl.DataFrame | None, entered: dict) -> str:
    """Where the neighbour figures come from, or why there are none."""
    if neighbours is None:
        problem = neighbour_file_problem()
        return "Statistical neighbours not shown: " + (
            f"{problem}." if problem else "their figures could not be read (the page or the command says why)."
        )
    if not entered:
        return (
            f"Statistical neighbours: {NOT_PUBLISHED}. The council enters its neighbours' published averages (DfE's "
            f"children's services statistical neighbour benchmarking tool, or LAIT) in {neighbour_file()}."
        )
    sources = "; ".join(dict.fromkeys(row["source"] for row in entered.values()))
    return (
        f"Statistical neighbours: the average of {next(iter(entered.values()))['neighbours']}, as entered by the "
        f"council from {sources}. {NOT_PUBLISHED.capitalize()}: no figure entered for that measure."
    )


def teams_section(report: Report, ask: Ask, england: dict, symbol: str) -> None:
    teams = ask("team_caseload")
    if teams is not None and teams.height:
        report.heading("Teams: caseload")
        per_fte = england.get("cases_per_fte")
        report.table(
            teams.select(
                pl.col("team_name").alias("Team"),
                pl.Series("Open cases", [count_text(v, symbol) for v in teams["open_cases"].to_list()]),
                pl.col("cases_per_fte").alias("Cases per FTE"),
                pl.col("agency_workers").alias("Agency workers"),
                pl.Series("Overdue visits", [count_text(v, symbol) for v in teams["overdue_visits"].to_list()]),
            ),
            "board_team_caseload",
            question="team_caseload",
        )
        if per_fte:
            report.note(f"England's average caseload per case-holding FTE: {england_text(per_fte)}.")
    compliance = ask("compliance_summary")
    if compliance is not None and compliance.height:
        report.heading("Teams: compliance (% met, 12 months to the date)")
        names = {} if teams is None else dict(zip(teams["team_id"], teams["team_name"], strict=True))
        shown = compliance.with_columns(
            pl.Series("Team", [names.get(t, t) for t in compliance["team_id"].to_list()]),
            pl.Series(
                "value",
                [
                    "–" if d == 0 else (symbol if p is None else f"{p:.0f}%")
                    for p, d in zip(compliance["pct"].to_list(), compliance["denominator"].to_list(), strict=True)
                ],
            ),
        )
        compliance = compliance.with_columns(
            pl.col("measure").replace_strict(SHORT, default=pl.col("label")).alias("label")
        )
        shown = shown.with_columns(compliance["label"])
        labels = list(dict.fromkeys(compliance["label"].to_list()))
        targets = compliance.unique("label", keep="first", maintain_order=True)
        target_row = pl.DataFrame(
            {"Team": ["Council target"]}
            | {label: [f"{t:.0f}%"] for label, t in zip(targets["label"], targets["target"], strict=True)}
        )
        table = shown.pivot("label", index="Team", values="value").select("Team", *labels)
        report.table(pl.concat([target_row, table]), "board_compliance", question="compliance_summary")
        rag = shown.with_columns(pl.col("rag").replace_strict(RAG_WORDS, default="–").alias("value"))
        report.heading("Teams: against the council's targets")
        report.table(
            rag.pivot("label", index="Team", values="value").select("Team", *labels), "board_rag", "compliance_summary"
        )
        report.note(
            "Days are working days. Targets are the council's (settings [compliance]); near: missed by no more than "
            "its margin "
            "(rag_amber_points). England: assessments within 45 working days "
            f"{england_text(england.get('assessment_45wd_rate'))}; ICPCs within 15 working days "
            f"{england_text(england.get('icpc_15wd_rate'))}. A dash: nothing to measure. "
            "The last two measures count against the team (lower is better)."
        )
