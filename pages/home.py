"""Home: what ChildStat is, and the headline figures on the extract date."""

from __future__ import annotations

import plotly.graph_objects as go

from pages._charts import COUNCIL
from pages._charts import show as show_chart
from pages._frame import absent_tables, count_text, current_scope, loaded, page_main, run, share_text

PAGE = {
    "title": "Home",
    "icon": ":material/home:",
    "roles": ["social_worker", "team_manager", "analyst", "head_of_service", "admin"],
    "order": 0,
    "description": "What ChildStat is, and the council's headline figures (open cases, child "
    "protection plans, looked-after children, referrals and re-referrals) on the extract date.",
}

HEADLINES = [
    # (query, column, label, help)
    ("open_cases", "open_cases", "Open cases", "Children with an open referral (not NFA, not closed)."),
    ("children_on_cp_plans", "children_on_cp_plans", "On CP plans", "Children on a child protection plan."),
    ("looked_after_children", "looked_after_children", "Looked after", "Children in a period of care."),
    ("referrals_last_12_months", "referrals", "Referrals, 12 months", "Referrals received in the last 12 months."),
]


def team_choice(container) -> str | None:
    if absent_tables("team_list"):
        return None  # an extract with no teams (children only): whole-council figures
    teams = run("team_list", container)
    if teams is None or teams.is_empty():
        return None
    names = dict(zip(teams["team_id"], teams["team_name"], strict=True))
    scope = current_scope()
    whole_council = scope is not None and scope.role not in ("social_worker", "team_manager")
    choice = container.selectbox(
        "Show figures for",
        [None, *names] if whole_council else list(names),
        format_func=lambda t: "The whole council" if t is None else names[t],
        key="home_team",
    )
    return choice


def headline_metrics(container, team_id: str | None) -> None:
    """The headlines this extract can answer; one line for those its sources never hold (a 903-only
    extract has no referrals, a CIN-census-only one no looked-after episodes)."""
    shown = [h for h in HEADLINES if not absent_tables(h[0])]
    rereferrals = not absent_tables("rereferral_rate")
    left_out = [h[2] for h in HEADLINES if h not in shown] + ([] if rereferrals else ["Re-referral rate"])
    if len(shown) + rereferrals:
        columns = container.columns(len(shown) + rereferrals)
        for column, (query, field, label, help_text) in zip(columns, shown, strict=False):
            result = run(query, column, team_id=team_id)
            if result is not None:
                column.metric(label, count_text(result[field][0]), help=help_text)
    if left_out:
        absent = sorted({t for q in [*HEADLINES, ("rereferral_rate",)] for t in absent_tables(q[0])})
        container.caption(
            f"Not shown, because this extract has no {', '.join(absent)} table{'s' if len(absent) > 1 else ''}: "
            f"{', '.join(left_out)}."
        )
    rates = run("rereferral_rate", columns[-1], team_id=team_id) if rereferrals else None
    if rates is not None:
        row = rates.row(0, named=True)
        columns[-1].metric(
            "Re-referral rate",
            share_text(row["rereferrals"], row["referrals"], row["rereferral_rate"]),
            help="Referrals in the last 12 months of a child referred in the 365 days before. England: 22% (2024).",
        )


def referral_chart(container, team_id: str | None) -> None:
    if absent_tables("referrals_by_month"):
        return  # said once, under the headlines
    monthly = run("referrals_by_month", container, months=24, team_id=team_id, total=True)
    if monthly is None:
        return
    if monthly["referrals"].null_count() == monthly.height:
        container.caption("Referrals by month are not shown: every month has 5 or fewer, too few to show safely.")
        return

    def build() -> go.Figure:
        figure = go.Figure(
            go.Bar(
                x=monthly["month"].to_list(),
                y=monthly["referrals"].to_list(),
                marker_color=COUNCIL,
                hovertemplate="%{x|%B %Y}: %{y} referrals<extra></extra>",
            )
        )
        figure.update_layout(
            title="Referrals received each month (last 24 months)",
            height=320,
            margin=dict(l=10, r=10, t=50, b=10),
            yaxis=dict(title="Referrals", rangemode="nonnegative"),
            xaxis=dict(title=None, tickformat="%b %Y"),
        )
        return figure

    show_chart(container, build, cache=(monthly,))
    if monthly["referrals"].null_count():
        container.caption("Months with too few referrals to show safely are not shown, to protect children's privacy.")


def render(container) -> None:
    container.title("ChildStat")
    container.markdown(
        "Your team's casework, in numbers you can act on: caseloads and what is due, the patterns "
        "common across cases, what predicts a young person becoming NEET, what commissioned "
        "services achieve and cost, and the demand that is coming."
    )
    state = loaded()
    if state.engine is None:
        container.error(
            f"ChildStat cannot open the extract: {state.problem}. Set CHILDSTAT_DATA to an extract "
            "folder (see the README), or unset it to use the shipped sample data."
        )
        return
    extract = state.engine.extract
    team_id = team_choice(container)
    container.header(f"On {extract.as_of:%d %B %Y}")
    headline_metrics(container, team_id)
    referral_chart(container, team_id)
    container.caption(
        "Counts from 1 to 5 are shown as 'c' so that no child can be identified when figures are shared. "
        "Analysts can get every figure here from the command line (`python -m queries list`)."
    )


if __name__ == "__main__":
    page_main(render)
