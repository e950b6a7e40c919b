"""Hypotheses: the register of hypotheses with their latest results and history, each as a printable note."""

from __future__ import annotations

import re

import streamlit as st

from pages._frame import audit, current_scope, opened_engine, page_main, show_table
from pages.case_file_audits import workspace
from workbench.hypotheses import (
    HypothesisError,
    hypothesis_details,
    latest_results,
    list_hypotheses,
    result_history,
    run_hypotheses,
)
from workbench.hypothesis_note import describe_row, hypothesis_note
from workbench.workspace import WorkspaceError

PAGE = {
    "title": "Hypotheses",
    "icon": ":material/science:",
    "roles": ["analyst", "admin"],
    "order": 26,
    "needs": ["referrals"],
    "description": "The analyst's register of hypotheses: each written down with two cohorts, an outcome and its "
    "discovery and confirmation periods before any result, run again on every extract with every result kept; the "
    "latest results and their history, and a short printable note for a team meeting. Written with python -m "
    "workbench hypothesis (docs/workbench.md).",
}


def render(container) -> None:
    scope = current_scope()
    container.title("Hypotheses")
    container.caption(
        "Write a hypothesis down with `python -m workbench hypothesis create` before looking at the figures; its "
        "periods are then fixed. Difference in proportions, cohort minus comparison, with Newcombe's 95% interval "
        "and Fisher's exact p. Counts are exact (analysts only). How it works: docs/workbench.md."
    )
    engine = opened_engine(container)
    if engine is None or scope is None:
        return
    try:
        ws = workspace()
    except WorkspaceError as exc:
        container.error(f"No workspace: {exc}", icon=":material/database_off:")
        return
    register = list_hypotheses(ws)
    if register.is_empty():
        container.info("No hypothesis yet. Write one with `python -m workbench hypothesis create` (docs/workbench.md).")
        return
    if container.button("Run the open hypotheses on this extract", key="run_hypotheses"):
        run_on_this_extract(container, ws, engine)
        register = list_hypotheses(ws)
    show_table(container, register, "hypotheses", key="hypotheses_register")
    name = container.selectbox("Hypothesis", register["name"].to_list(), key="hypothesis_name")
    details = hypothesis_details(ws, name)
    history = result_history(ws, name)
    latest = latest_results(history)
    container.markdown(f"> {details['statement']}")
    container.caption(
        f"Outcome: {details['outcome']}. Discovery {details['discovery'].replace('..', ' to ')}, confirmation "
        f"{details['confirmation'].replace('..', ' to ')} (fixed when written by {details['created_by']}). "
        f"Status: {details['status'].replace('_', ' ')}" + (f". {details['note']}" if details["note"] else ".")
    )
    for row in latest.iter_rows(named=True):
        container.markdown(f"**{row['period'].capitalize()}** (as at {row['as_of']:%d %B %Y}): {describe_row(row)}.")
    if latest.is_empty():
        container.info("Not run yet.")
    with container.expander(f"History ({history.height} result{'s' if history.height != 1 else ''})"):
        show_table(st, history, f"hypothesis_history_{name}", key="hypothesis_history")
    file_name = f"hypothesis-{re.sub(r'[^A-Za-z0-9_-]+', '-', name).strip('-')}.md"
    container.download_button(
        "Download the note (Markdown, printable)",
        hypothesis_note(details, latest, history),
        file_name=file_name,
        mime="text/markdown",
        key="hypothesis_note",
        icon=":material/download:",
        on_click=audit,
        args=("download",),
        kwargs={"file": file_name, "rows": history.height},
    )


def run_on_this_extract(place, ws, engine) -> None:
    try:
        done = run_hypotheses(ws, engine)
    except HypothesisError as exc:
        place.warning(str(exc), icon=":material/block:")
        return
    added = sum(r["not_run"] is None for r in done)
    audit("hypothesis_run", results=added)
    place.success(f"Added {added} result{'s' if added != 1 else ''}; earlier results are kept.")
    for result in done:
        if result["not_run"]:
            place.caption(f"{result['name']}, {result['period']}: not run: {result['not_run']}")


if __name__ == "__main__":
    page_main(render)
