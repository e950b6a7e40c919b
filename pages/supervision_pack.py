"""Supervision pack: one worker's caseload, what is due and overdue, open assessments and the compliance items
to discuss, one click to PDF. A social worker gets their own; a team manager their team's workers."""

from __future__ import annotations

import polars as pl

from pages._frame import current_scope, opened_engine, page_main, run
from pages._reports import page_report, pdf_button, show_report
from reports.supervision import NotInScope

PAGE = {
    "title": "Supervision pack",
    "icon": ":material/supervisor_account:",
    "roles": ["social_worker", "team_manager", "analyst", "admin"],
    "order": 12,
    "needs": ["referrals"],
    "description": "For supervision: one worker's open cases, visits overdue and due in the next 5 working days, "
    "open assessments and the compliance items on their caseload to discuss, as a page and as a PDF. A social "
    "worker gets their own pack; a team manager picks a worker in their team.",
}


def pick_worker(container) -> str | None:
    scope = current_scope()
    if scope is not None and scope.role == "social_worker":
        return scope.worker_id  # the engine forces it anyway: a social worker's pack is their own
    workers = run("caseload_by_worker", container)
    if workers is None:
        return None
    workers = workers.filter(pl.col("open_cases") > 0).sort(["team_id", "open_cases"], descending=[False, True])
    if workers.is_empty():
        container.info("No worker holds an open case on the extract date.")
        return None
    names = workers.get_column("worker_name") if "worker_name" in workers.columns else workers["worker_id"]
    labels = {
        w: f"{n or w} ({t}) – {c} open cases"
        for w, n, t, c in zip(workers["worker_id"], names, workers["team_id"], workers["open_cases"], strict=True)
    }
    return container.selectbox("Worker", list(labels), format_func=labels.get, key="supervision_worker")


def render(container) -> None:
    container.title("Supervision pack")
    engine = opened_engine(container)
    if engine is None:
        return
    worker = pick_worker(container)
    if worker is None:
        return
    try:
        report = page_report(container, engine, "supervision", worker=worker)
    except NotInScope as exc:
        container.warning(f"No supervision pack: {exc}.", icon=":material/block:")
        return
    pdf_button(container, report, "supervision_pack")
    show_report(container, report)


if __name__ == "__main__":
    page_main(render)
