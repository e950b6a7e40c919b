"""Caseload: a social worker's open cases and what is due; a team manager's caseloads and compliance."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from pages._charts import COUNCIL, PALETTE
from pages._charts import show as show_chart
from pages._frame import current_scope, formatted, opened_engine, page_main, run, section, show_table
from queries.settings import setting
from queries.wording import counted

PAGE = {
    "title": "Caseload",
    "icon": ":material/assignment_ind:",
    "roles": ["social_worker", "team_manager", "analyst", "admin"],
    "order": 10,
    "needs": ["referrals"],
    "description": "For a social worker: my open cases, when each child's next visit is due, what falls due "
    "in the next 5 working days and my open assessments. For a team manager: caseload per worker, "
    "overdue visits, and the compliance measures with their 12-month trend, with the children behind them.",
}

AGENCY = PALETTE[4]
RAG_TARGET_WORDS = {"green": "🟢 Target met", "amber": "🟠 Near target", "red": "🔴 Target missed"}
RAG_WORDS = {"red": "🔴 Overdue", "amber": "🟠 Due soon", "green": "🟢 On track"}
MEASURE_CHOICES = {
    "visits_in_timescale": "Visits in timescale",
    "assessment_45wd": "Assessments within 45 working days",
    "icpc_15wd": "ICPCs within 15 working days",
    "cp_review_timely": "CP reviews on time",
    "cpp_2_years": "CP plans open 2 years or more",
    "repeat_cpp": "Repeat CP plans",
}


def visit_status_text(rag: str | None, working_days: int | None) -> str:
    if rag is None:
        return "No statutory visit (not on a plan)"
    if rag == "red":
        return f"{RAG_WORDS['red']} by {-working_days} working day{'s' if working_days != -1 else ''}"
    if working_days == 0:
        return f"{RAG_WORDS['amber']}: today"
    return f"{RAG_WORDS[rag]}: {working_days} working day{'s' if working_days != 1 else ''} left"


def pick_team(container, key: str) -> tuple[str | None, dict[str, str]]:
    teams = run("team_list", container)
    if teams is None or teams.is_empty():
        container.info("This extract has no teams.")
        return None, {}
    names = dict(zip(teams["team_id"], teams["team_name"], strict=True))
    scope = current_scope()
    own = scope.team_id if scope is not None and scope.team_id in names else None
    if own is not None and scope.role == "social_worker":  # a social worker's team is their own: no choice to make
        return own, names
    index = list(names).index(own) if own is not None else 0
    team_id = container.selectbox("Team", list(names), index=index, format_func=names.get, key=key)
    return team_id, names


def with_worker_names(frame: pl.DataFrame | None) -> pl.DataFrame | None:
    """The answer with a worker_name column: the engine leaves names out for roles that may not see them
    (queries/access.py), and such a reader sees each worker's code instead."""
    if frame is None or "worker_name" in frame.columns or "worker_id" not in frame.columns:
        return frame
    return frame.with_columns(pl.lit(None, pl.String).alias("worker_name"))


def worker_label(row: dict) -> str:
    name = row["worker_name"] or row["worker_id"]
    role = (row["role"] or "").replace("_", " ")
    left = "" if row["in_post"] else ", left"
    return f"{name} ({role}{left}) – {row['open_cases']} open cases"


def day_text(column: str) -> pl.Expr:
    """A date as '7 Apr 2026', or a dash when there is none."""
    return pl.col(column).dt.strftime("%-d %b %Y").fill_null("–")


def cases_table(container, cases: pl.DataFrame, filters: dict, key: str) -> None:
    shown = cases.select(
        pl.col("child_id").alias("Child"),
        pl.col("plans").fill_null("–").alias("Plan"),
        pl.col("referral_date").alias("Referred"),
        day_text("last_visit_date").alias("Last visit"),
        day_text("next_visit_due").alias("Next visit due"),
        formatted(
            cases.select(pl.struct("rag", "working_days_to_due")).to_series(),
            lambda r: visit_status_text(r["rag"], r["working_days_to_due"]),
        ).alias("Visit status"),
    )
    show_table(
        container,
        shown,
        "open_cases",
        column_config={"Referred": st.column_config.DateColumn(format="D MMM YYYY")},
        key=key,
        filters=filters,
        question="worker_cases",
    )


def chronology(container, child_ids: list[str], key: str) -> None:
    """Pick one child and show their history on one timeline."""
    if not child_ids:
        return
    child_id = container.selectbox("Child", child_ids, key=key, help="Pseudonymous child ID")
    events = with_worker_names(run("child_chronology", container, child_id=child_id))
    if events is None:
        return
    if events.is_empty():
        container.info("Nothing is recorded for this child up to the extract date.")
        return

    def build() -> go.Figure:
        figure = go.Figure(
            go.Scatter(
                x=events["event_date"].to_list(),
                y=events["event"].to_list(),
                mode="markers",
                marker=dict(size=10, color=COUNCIL),
                hovertemplate="%{x|%d %b %Y}: %{y}<extra></extra>",
            )
        )
        figure.update_layout(
            height=120 + 22 * events["event"].n_unique(),
            margin=dict(l=10, r=10, t=10, b=10),
            xaxis=dict(tickformat="%-d %b %Y"),
            yaxis=dict(categoryorder="array", categoryarray=list(dict.fromkeys(events["event"].to_list()))[::-1]),
        )
        return figure

    show_chart(container, build, key=f"{key}_chart", cache=(events,))
    container.caption(f"{counted(events.height, 'event')}, newest first; the table scrolls to the first.")
    show_table(
        container,
        events.reverse().select(  # the question lists them in time order; the latest matter most to a worker
            pl.col("event_date").alias("Date"),
            pl.col("event").alias("Event"),
            pl.col("detail").alias("Detail"),
            pl.col("worker_name").fill_null(pl.col("worker_id")).fill_null("").alias("Worker"),
        ),
        f"chronology_{child_id}",  # the one file named after a child: the audit log hashes the ID (pages/_audit.py)
        column_config={"Date": st.column_config.DateColumn(format="D MMM YYYY")},
        key=f"{key}_table",
        question="child_chronology",
    )


def render_worker(container, as_of) -> None:
    team_id, team_names = pick_team(container, "worker_team")
    if team_id is None:
        return
    workers = with_worker_names(run("caseload_by_worker", container, team_id=team_id))
    if workers is None:
        return
    workers = workers.filter(pl.col("in_post") | (pl.col("open_cases") > 0))
    if workers.is_empty():
        container.info("No workers in this team on the extract date.")
        return
    rows = {r["worker_id"]: r for r in workers.sort("open_cases", descending=True).iter_rows(named=True)}
    scope = current_scope()
    if scope is not None and scope.role == "social_worker" and scope.worker_id in rows:
        worker_id = scope.worker_id  # signed in: straight to their own caseload, nothing to choose
    else:  # a manager starts on the busiest caseload of the team
        worker_id = container.selectbox("Worker", list(rows), format_func=lambda w: worker_label(rows[w]), key="worker")
    me = rows[worker_id]
    container.header(f"{me['worker_name'] or worker_id}: caseload on {as_of:%d %B %Y}")

    due = run("due_soon", container, worker_id=worker_id)
    assessments = run("open_assessments", container, worker_id=worker_id)
    columns = container.columns(4)
    columns[0].metric("Open cases", me["open_cases"], help="Children with an open referral allocated to you.")
    columns[1].metric("Overdue visits", me["overdue_visits"], help="Statutory visits past their due date.")
    if due is not None:
        columns[2].metric("Due in the next 5 working days", due.height, help="Visits, assessments and reviews.")
    if assessments is not None:
        columns[3].metric("Open assessments", assessments.height, help="Started and not yet authorised.")

    cases = run("worker_cases", container, worker_id=worker_id)
    if cases is not None:
        container.markdown("### My open cases")
        container.caption(
            f"Local visit standards: CP every {setting('cp_visit_working_days')} working days, CIN every "
            f"{setting('cin_visit_working_days')} working days, looked after every {setting('cla_visit_days')} days. "
            "Overdue first."
        )
        if cases.is_empty():
            container.info("No open cases allocated on the extract date.")
        else:
            cases_table(container, cases, {"worker": worker_id}, key="cases")
    if due is not None:
        container.markdown("### Due in the next 5 working days")
        if due.is_empty():
            container.info("Nothing falls due in the next 5 working days.")
        else:
            show_table(
                container,
                due.select(
                    pl.col("due_date").alias("Due"),
                    pl.col("detail").alias("What"),
                    pl.col("child_id").alias("Child"),
                    pl.col("working_days_left").alias("Working days left"),
                ),
                "due_soon",
                filters={"worker": worker_id},
                question="due_soon",
                column_config={"Due": st.column_config.DateColumn(format="ddd D MMM YYYY")},
            )
    if assessments is not None:
        container.markdown("### Open assessments")
        if assessments.is_empty():
            container.info("No open assessments.")
        else:
            assessment_table(container, assessments, {"worker": worker_id}, key="assessments")
    if cases is not None and not cases.is_empty():
        container.markdown("### A child's chronology")
        section(container, "caseload_chronology", chronology, cases["child_id"].to_list(), "worker_child")


def assessment_table(container, assessments: pl.DataFrame, filters: dict, key: str) -> None:
    show_table(
        container,
        assessments.select(
            pl.col("child_id").alias("Child"),
            pl.col("referral_date").alias("Referred"),
            pl.col("working_days_since_referral").alias("Working days so far"),
            pl.col("deadline").alias("45-day deadline"),
            pl.col("working_days_left").alias("Working days left"),
        ),
        "open_assessments",
        key=key,
        column_config={
            "Referred": st.column_config.DateColumn(format="D MMM YYYY"),
            "45-day deadline": st.column_config.DateColumn(format="D MMM YYYY"),
            "Working days so far": st.column_config.ProgressColumn(min_value=0, max_value=45, format="%d"),
        },
        filters=filters,
        question="open_assessments",
    )


def caseload_chart(container, workers: pl.DataFrame) -> str | None:
    """Cases per FTE, a bar a worker; the worker whose bar the reader clicked, if any."""
    holders = workers.filter(pl.col("open_cases") > 0).sort("cases_per_fte")
    if holders.is_empty():
        return None
    national = setting("national_average_per_fte")
    names = [n or w for n, w in zip(holders["worker_name"], holders["worker_id"], strict=True)]

    def build() -> go.Figure:
        figure = go.Figure(
            go.Bar(
                x=holders["cases_per_fte"].to_list(),
                y=names,
                orientation="h",
                marker=dict(
                    color=[AGENCY if a else COUNCIL for a in holders["agency"]],
                    pattern=dict(shape=["/" if a else "" for a in holders["agency"]]),
                ),
                customdata=holders.select("open_cases", "fte").rows(),
                hovertemplate="%{y}: %{x} cases per FTE (%{customdata[0]} cases, %{customdata[1]} FTE)<extra></extra>",
            )
        )
        figure.add_vline(
            x=national, line_dash="dash", annotation_text=f"England average {national}", annotation_position="top"
        )
        figure.update_layout(
            height=120 + 26 * holders.height,
            margin=dict(l=10, r=10, t=40, b=10),
            title="Cases per FTE (hatched orange: agency worker)",
            xaxis_title="Open cases per FTE",
        )
        return figure

    event = show_chart(
        container, build, key="caseload_chart", on_select="rerun", selection_mode="points", cache=(holders, national)
    )
    points = event["selection"]["point_indices"] if event else []
    return holders["worker_id"][points[0]] if points else None


def compliance_section(container, team_id: str) -> None:
    summary = run("compliance_summary", container, team_id=team_id)
    trend = run("compliance_trend", container, team_id=team_id)
    if summary is None:
        return
    container.markdown("### Compliance")
    container.caption(
        "Timeliness over the 12 months to the extract date; visits and plans on the extract date. "
        "For the last two measures, lower is better. Targets and the RAG are the council's (settings "
        "[compliance]). Select a row to see the children behind it."
    )
    picked = show_table(
        container,
        summary.select(
            pl.col("label").alias("Measure"),
            pl.col("numerator").alias("Met or counted"),
            pl.col("denominator").alias("Of"),
            formatted(summary["pct"], lambda v: f"{v:.1f}%", null="–").alias("%"),
            pl.col("target").alias("Target %"),
            pl.col("rag").replace_strict(RAG_TARGET_WORDS, default="–").alias("RAG"),
            pl.when(pl.col("higher_is_better")).then(pl.lit("higher")).otherwise(pl.lit("lower")).alias("Better"),
        ),
        "compliance",
        filters={"team": team_id},
        question="compliance_summary",
        pick=True,
    )
    if picked is not None:
        measure = summary["measure"][picked]
        container.markdown(f"#### The children behind: {summary['label'][picked]}")
        measure_children(container, team_id, measure, "picked_measure_child")
    if trend is not None and not trend.is_empty():

        def build() -> go.Figure:
            figure = go.Figure()
            for label, points in trend.group_by("label", maintain_order=True):
                figure.add_trace(
                    go.Scatter(
                        x=points["month_end"].to_list(),
                        y=points["pct"].to_list(),
                        mode="lines+markers",
                        name=label[0],
                        customdata=points.select("numerator", "denominator").rows(),
                        hovertemplate="%{x|%b %Y}: %{y:.1f}% (%{customdata[0]} of %{customdata[1]})<extra></extra>",
                    )
                )
            figure.update_layout(
                title="12-month trend (month ends)",
                height=380,
                yaxis=dict(title="%", range=[0, 105]),
                margin=dict(l=10, r=10, t=40, b=10),
                legend=dict(orientation="h", y=-0.2),
            )
            return figure

        show_chart(container, build, key="compliance_trend", cache=(trend,))


def render_team(container, as_of) -> None:
    team_id, team_names = pick_team(container, "manager_team")
    if team_id is None:
        return
    container.header(f"{team_names[team_id]} on {as_of:%d %B %Y}")
    team = run("team_caseload", container, team_id=team_id)
    workers = with_worker_names(run("caseload_by_worker", container, team_id=team_id))
    if team is not None and team.height:
        row = team.row(0, named=True)
        national = setting("national_average_per_fte")
        columns = container.columns(4)
        columns[0].metric("Open cases", row["open_cases"])
        per_fte = row["cases_per_fte"]
        columns[1].metric(
            "Cases per case-holding FTE",
            "–" if per_fte is None else f"{per_fte:.1f}",
            delta=None if per_fte is None else f"{per_fte - national:+.1f} vs England {national}",
            delta_color="inverse",
        )
        columns[2].metric("Overdue visits", row["overdue_visits"])
        columns[3].metric("Agency workers", f"{row['agency_workers']} of {row['workers_in_post']}")
    if workers is not None:
        container.markdown("### Caseload per worker")
        clicked = caseload_chart(container, workers)
        container.caption("Click a worker's bar, or select their row, to see their open cases.")
        picked = show_table(
            container,
            workers.select(
                pl.col("worker_name").fill_null(pl.col("worker_id")).alias("Worker"),
                pl.col("role").str.replace_all("_", " ").alias("Role"),
                pl.col("agency").alias("Agency"),
                pl.col("fte").alias("FTE"),
                pl.col("open_cases").alias("Open cases"),
                pl.col("cp_cases").alias("CP"),
                pl.col("cin_cases").alias("CIN"),
                pl.col("cla_cases").alias("Looked after"),
                pl.col("cases_per_fte").alias("Per FTE"),
                pl.col("overdue_visits").alias("Overdue visits"),
                pl.col("in_post").alias("In post"),
            ),
            "caseload",
            filters={"team": team_id},
            question="caseload_by_worker",
            pick=True,
        )
        if picked is not None or clicked is not None:
            worker = (
                workers.row(picked, named=True)
                if picked is not None
                else workers.row(by_predicate=pl.col("worker_id") == clicked, named=True)
            )
            container.markdown(f"#### Open cases of {worker['worker_name'] or worker['worker_id']}")
            cases = run("worker_cases", container, worker_id=worker["worker_id"], team_id=team_id)
            if cases is not None and cases.is_empty():
                container.info("No open cases allocated to this worker in this team.")
            elif cases is not None:
                cases_table(container, cases, {"team": team_id, "worker": worker["worker_id"]}, key="picked_cases")
    overdue = run("overdue_visits", container, team_id=team_id)
    if overdue is not None:
        container.markdown("### Overdue visits, worst first")
        if overdue.is_empty():
            container.success("No visits are overdue in this team.")
        else:
            names = dict(zip(workers["worker_id"], workers["worker_name"], strict=True)) if workers is not None else {}
            show_table(
                container,
                overdue.select(
                    pl.col("child_id").alias("Child"),
                    pl.col("plan_type").str.to_uppercase().alias("Plan"),
                    pl.col("worker_id").replace_strict(names, default=pl.col("worker_id")).alias("Worker"),
                    pl.col("last_visit_date").alias("Last visit"),
                    pl.col("due_date").alias("Was due"),
                    pl.col("working_days_overdue").alias("Working days overdue"),
                ),
                "overdue_visits",
                filters={"team": team_id},
                question="overdue_visits",
                column_config={
                    "Last visit": st.column_config.DateColumn(format="D MMM YYYY"),
                    "Was due": st.column_config.DateColumn(format="D MMM YYYY"),
                },
            )
    section(container, "caseload_compliance", compliance_section, team_id)  # picking a row redraws it alone
    drill_down(container, team_id, workers)


def drill_down(container, team_id: str, workers: pl.DataFrame | None) -> None:
    container.markdown("### The children behind the figures")
    by_worker, by_measure = container.tabs(["By worker", "By measure"])
    if workers is not None and workers.height:  # each tab's choices redraw that tab alone
        section(by_worker, "caseload_drill_worker", drill_worker, team_id, workers)
    section(by_measure, "caseload_drill_measure", drill_measure, team_id)


def drill_worker(container, team_id: str, workers: pl.DataFrame) -> None:
    rows = {r["worker_id"]: r for r in workers.iter_rows(named=True)}
    worker_id = container.selectbox(
        "Worker", list(rows), format_func=lambda w: worker_label(rows[w]), key="drill_worker"
    )
    cases = run("worker_cases", container, worker_id=worker_id, team_id=team_id)
    if cases is not None and not cases.is_empty():
        cases_table(container, cases, {"team": team_id, "worker": worker_id}, key="drill_cases")
        chronology(container, cases["child_id"].to_list(), "drill_worker_child")
    elif cases is not None:
        container.info("No open cases allocated to this worker in this team.")


def drill_measure(container, team_id: str) -> None:
    measure = container.selectbox("Measure", list(MEASURE_CHOICES), format_func=MEASURE_CHOICES.get, key="measure")
    measure_children(container, team_id, measure, "drill_measure_child")


def measure_children(container, team_id: str, measure: str, key: str) -> None:
    """The items behind one compliance measure, with their children, and one child's chronology."""
    items = run("compliance_cases", container, team_id=team_id, measure=measure)
    if items is None:
        return
    if items.is_empty():
        container.info("Nothing was measured for this team.")
        return
    counts_against = measure in ("cpp_2_years", "repeat_cpp")
    show_table(
        container,
        items.select(
            pl.col("child_id").alias("Child"),
            pl.col("item_id").alias("Item"),
            pl.col("item_date").alias("Date judged"),
            pl.col("standard_date").alias("Standard"),
            pl.col("met").alias("Counts against the team" if counts_against else "Met the standard"),
        ),
        "compliance_children",
        filters={"team": team_id, "measure": measure},
        question="compliance_cases",
        key=f"{key}_items",
        column_config={
            "Date judged": st.column_config.DateColumn(format="D MMM YYYY"),
            "Standard": st.column_config.DateColumn(format="D MMM YYYY"),
        },
    )
    chronology(container, list(dict.fromkeys(items["child_id"].to_list())), key)


def render(container) -> None:
    container.title("Caseload")
    engine = opened_engine(container)
    if engine is None:
        return
    container.caption(
        "Operational page with pseudonymous child IDs: for the team's own use, not for sharing outside it."
    )
    view = container.radio("View", ["My caseload", "My team"], horizontal=True, key="caseload_view")
    if view == "My caseload":
        render_worker(container, engine.as_of)
    else:
        render_team(container, engine.as_of)


if __name__ == "__main__":
    page_main(render)
