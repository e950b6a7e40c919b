"""A supervision pack for one worker: caseload, visits due and overdue, open assessments, and the
compliance items to discuss.

Every figure and row is an answer to a named question asked as the reader, so a social worker gets
their own pack only (the engine forces their worker and team), a team manager the workers of their
team, and a head of service none (these are child-level answers). This module lays the answers out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import polars as pl

from pages._export import About
from reports.document import Figure, Report, count_text

Ask = Callable[..., pl.DataFrame | None]

MEASURES = {
    "visits_in_timescale": "Visits not in timescale",
    "assessment_45wd": "Assessments not authorised within 45 working days",
    "icpc_15wd": "ICPCs not within 15 working days",
    "cp_review_timely": "CP reviews not on time",
    "cpp_2_years": "CP plans open 2 years or more",
    "repeat_cpp": "Repeat CP plans",
}
COUNTS_AGAINST = {"cpp_2_years", "repeat_cpp"}  # for these, `met` says the item counts against the team


class NotInScope(Exception):
    """The reader may not see this worker's pack (or there is no such worker); the message is safe to show."""


def supervision_report(ask: Ask, about: About, worker_id: str, symbol: str) -> Report:
    workers = ask("caseload_by_worker")
    row = (
        None
        if workers is None
        else next((r for r in workers.iter_rows(named=True) if r["worker_id"] == worker_id), None)
    )
    if row is None:
        raise NotInScope(f"there is no worker {worker_id} that you may see on this extract")
    name = row.get("worker_name") or worker_id
    about = dataclasses.replace(about, filters={"worker": worker_id} | about.filters)
    report = Report(f"Supervision pack: {name}", about)
    report.text(
        f"{name} ({(row['role'] or '').replace('_', ' ')}, team {row['team_id']}) on {about.as_of:%-d %B %Y}: "
        "the open cases, what is overdue or due in the next 5 working days, open assessments, and the "
        "compliance items on this caseload to discuss."
    )
    cases = ask("worker_cases", worker_id=worker_id)
    due = ask("due_soon", worker_id=worker_id)
    overdue = ask("overdue_visits", worker_id=worker_id)
    assessments = ask("open_assessments", worker_id=worker_id)
    report.figures(
        [
            Figure("Open cases", count_text(row["open_cases"], symbol), "Children with an open referral allocated"),
            Figure("Overdue visits", count_text(row["overdue_visits"], symbol), "Statutory visits past their due date"),
            Figure("Due in 5 working days", "–" if due is None else f"{due.height:,}", "Visits, assessments, reviews"),
            Figure("Open assessments", "–" if assessments is None else f"{assessments.height:,}", "Not yet authorised"),
        ]
    )
    section(
        report,
        "Overdue visits",
        overdue,
        lambda f: f.select(
            pl.col("child_id").alias("Child"),
            pl.col("plan_type").str.to_uppercase().alias("Plan"),
            pl.col("last_visit_date").alias("Last visit"),
            pl.col("due_date").alias("Was due"),
            pl.col("working_days_overdue").alias("Working days overdue"),
        ),
        "supervision_overdue",
        "overdue_visits",
        "No visit is overdue.",
    )
    section(
        report,
        "Due in the next 5 working days",
        due,
        lambda f: f.select(
            pl.col("due_date").alias("Due"),
            pl.col("detail").alias("What"),
            pl.col("child_id").alias("Child"),
            pl.col("working_days_left").alias("Working days left"),
        ),
        "supervision_due",
        "due_soon",
        "Nothing falls due in the next 5 working days.",
    )
    section(
        report,
        "Open assessments",
        assessments,
        lambda f: f.sort("working_days_left").select(
            pl.col("child_id").alias("Child"),
            pl.col("referral_date").alias("Referred"),
            pl.col("working_days_since_referral").alias("Working days so far"),
            pl.col("deadline").alias("45-day deadline"),
            pl.col("working_days_left").alias("Working days left"),
        ),
        "supervision_assessments",
        "open_assessments",
        "No open assessments.",
    )
    section(
        report,
        "Caseload",
        cases,
        lambda f: f.select(
            pl.col("child_id").alias("Child"),
            pl.col("plans").fill_null("–").alias("Plan"),
            pl.col("referral_date").alias("Referred"),
            pl.col("last_visit_date").alias("Last visit"),
            pl.col("next_visit_due").alias("Next visit due"),
            pl.col("working_days_to_due").alias("Working days to visit"),
        ),
        "supervision_cases",
        "worker_cases",
        "No open cases allocated on the extract date.",
    )
    compliance_items(report, ask, row["team_id"], [] if cases is None else cases["child_id"].to_list())
    report.note(about.suppression)
    return report


def section(report: Report, title: str, answer, shape, file_stem: str, question: str, empty: str) -> None:
    report.heading(title)
    if answer is None:
        report.note("Not available to you, or not in this extract.")
    elif answer.is_empty():
        report.text(empty)
    else:
        report.table(shape(answer), file_stem, question)


def compliance_items(report: Report, ask: Ask, team_id: str, children: list[str]) -> None:
    """Each measure's items on this caseload that missed the standard (or count against the team)."""
    report.heading("Compliance items to discuss")
    found = []
    for measure, label in MEASURES.items():
        items = ask("compliance_cases", team_id=team_id, measure=measure)
        if items is None or items.is_empty():
            continue
        missed = pl.col("met") if measure in COUNTS_AGAINST else ~pl.col("met")
        mine = items.filter(pl.col("child_id").is_in(children) & missed)
        if mine.height:
            found.append(
                mine.select(
                    pl.lit(label).alias("Item to discuss"),
                    pl.col("child_id").alias("Child"),
                    pl.col("item_id").alias("Record"),
                    pl.col("item_date").alias("Date judged"),
                    pl.col("standard_date").alias("Standard"),
                )
            )
    if found:
        report.table(pl.concat(found), "supervision_compliance", "compliance_cases")
    else:
        report.text("No compliance item on this caseload missed its standard.")
