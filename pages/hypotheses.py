"""Hypotheses: the register of hypotheses with their latest results and history, each as a printable note."""

from __future__ import annotations

import datetime as dt
import re

import streamlit as st

from pages._frame import audit, current_scope, opened_engine, page_main, run, show_table
from pages._workspace import opened_workspace
from pages.patterns import AGE_BANDS, SEX_WORDS, any_or
from schemas.codes import labels
from workbench.hypotheses import (
    HypothesisError,
    create_hypothesis,
    hypothesis_details,
    latest_results,
    list_hypotheses,
    result_history,
    run_hypotheses,
)
from workbench.hypothesis_note import describe_row, hypothesis_note

PAGE = {
    "title": "Hypotheses",
    "icon": ":material/science:",
    "roles": ["analyst", "admin"],
    "order": 26,
    "needs": ["referrals"],
    "description": "The analyst's register of hypotheses: each written down with two cohorts, an outcome and its "
    "discovery and confirmation periods before any result, run again on every extract with every result kept; the "
    "latest results and their history, and a short printable note for a team meeting. Written on this page or "
    "with python -m workbench hypothesis (docs/workbench.md).",
}


def render(container) -> None:
    scope = current_scope()
    container.title("Hypotheses")
    container.caption(
        "Write a hypothesis down (below, or with `python -m workbench hypothesis create`) before looking at the "
        "figures; its periods are then fixed. Difference in proportions, cohort minus comparison, with Newcombe's 95% interval "
        "and Fisher's exact p. Counts are exact (analysts only). How it works: docs/workbench.md."
    )
    engine = opened_engine(container)
    if engine is None or scope is None:
        return
    ws = opened_workspace(container)
    if ws is None:
        return
    register = list_hypotheses(ws)
    with container.expander("Write a new hypothesis", icon=":material/edit_note:", expanded=register.is_empty()):
        new_hypothesis(st, ws, engine, scope)
    register = list_hypotheses(ws)
    if register.is_empty():
        container.info("No hypothesis yet: write one above, or with `python -m workbench hypothesis create`.")
        return
    if container.button("Run the open hypotheses on this extract", key="run_hypotheses"):
        run_on_this_extract(container, ws, engine)
        register = list_hypotheses(ws)
    show_table(container, register, "hypotheses", key="hypotheses_register", title="The register of hypotheses")
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
        show_table(
            st,
            history,
            "hypothesis_results",
            key="hypothesis_history",
            filters={"hypothesis": name},
            title="Every result of this hypothesis, run by run",
        )
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


OUTCOME_LABELS = {
    "rereferral": "Re-referral within 12 months", "factor": "A factor recorded", "closed": "Case closed within N days",
    "service": "A commissioned service's success", "neet": "NEET or not known at 16-17",
    "audit": "An answer in a case-file audit",
}  # fmt: skip
SIDES = {"cohort": "The cohort", "comparison": "Compared with"}


def cohort_choices(place, side: str, teams: dict) -> dict:
    """One side's cohort filters from a few drop-downs (only those chosen)."""
    place.markdown(f"**{SIDES[side]}**")
    chosen = {
        "team_id": place.selectbox("Team", [None, *teams], format_func=lambda t: teams.get(t, "Any"), key=f"{side}_t"),
        "primary_need": place.selectbox(
            "Primary need", [None, *labels("primary_need")], format_func=any_or(labels("primary_need")), key=f"{side}_n"
        ),
        "age_band": place.selectbox("Age at referral", [None, *AGE_BANDS], format_func=any_or({}), key=f"{side}_a"),
        "sex": place.selectbox("Sex", [None, *SEX_WORDS], format_func=any_or(SEX_WORDS), key=f"{side}_s"),
    }
    return {k: v for k, v in chosen.items() if v is not None}


def new_hypothesis(place, ws, engine, scope) -> None:
    """The form that writes a hypothesis down; its periods are fixed from then on."""
    teams = run("team_list", place)
    if teams is None:
        return
    team_names = dict(zip(teams["team_id"], teams["team_name"], strict=True))
    year = dt.timedelta(days=365)
    with place.form("new_hypothesis", border=False):
        values = {"name": st.text_input("Name", max_chars=100), "statement": st.text_area("The hypothesis in words")}
        left, right = st.columns(2)
        values["cohort"] = cohort_choices(left, "cohort", team_names)
        values["comparison"] = cohort_choices(right, "comparison", team_names)
        values["outcome"] = st.selectbox("Outcome", list(OUTCOME_LABELS), format_func=OUTCOME_LABELS.get)
        st.caption("Only the details of the outcome chosen are used.")
        columns = st.columns(3)
        values["factor_code"] = columns[0].text_input("Factor code (a factor recorded)", placeholder="e.g. 3B")
        values["days"] = columns[1].number_input("Closed within days", 1, 3650, 182)
        values["service_id"] = columns[2].text_input("Service ID (blank: any service)")
        columns = st.columns(3)
        values["audit"] = columns[0].text_input("Case-file audit")
        values["question"] = columns[1].text_input("Its question's code", placeholder="e.g. pd")
        values["answer"] = columns[2].text_input("The answer counted", placeholder="e.g. yes")
        st.caption("The periods are fixed once written, before any result is shown.")
        columns = st.columns(4)
        as_of = engine.as_of
        values["discovery"] = (
            columns[0].date_input("Discovery from", as_of - 3 * year),
            columns[1].date_input("Discovery to", as_of - 2 * year),
        )
        values["confirmation"] = (
            columns[2].date_input("Confirmation from", as_of - 2 * year + dt.timedelta(days=1)),
            columns[3].date_input("Confirmation to", as_of - year),
        )
        if st.form_submit_button("Write it down", icon=":material/edit_note:"):
            try:
                write_hypothesis(ws, values, scope.user)
            except HypothesisError as exc:
                place.warning(str(exc), icon=":material/block:")
            else:
                audit("hypothesis_create", outcome=values["outcome"])
                place.success(f"Hypothesis {values['name'].strip()!r} written down, open; its periods are fixed.")


OUTCOME_OPTIONS = {"closed": ("days",), "service": ("service_id",), "audit": ("audit", "question", "answer")}


def write_hypothesis(ws, values: dict, by: str) -> None:
    """Write the form's hypothesis down (workbench/hypotheses.py checks it); HypothesisError says what is wrong."""
    outcome = values["outcome"]
    if not values["cohort"] or not values["comparison"]:
        raise HypothesisError("choose at least one filter for the cohort and one for the comparison")
    create_hypothesis(
        ws, values["name"], values["statement"], values["cohort"], values["comparison"], outcome,
        values["discovery"], values["confirmation"],
        factor_code=values["factor_code"] if outcome == "factor" else None, created_by=by,
        outcome_options={k: values[k] for k in OUTCOME_OPTIONS.get(outcome, ())},
    )  # fmt: skip


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
