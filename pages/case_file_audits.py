"""Case-file audits: draw a cohort's sample, read the files and record answers, see the estimates (workbench/)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from pages._frame import audit, current_scope, opened_engine, page_main, plain_table, run, show_table
from pages._workspace import opened_workspace
from pages.patterns import cohort_builder
from queries.engine import QueryError
from queries.wording import count, counted
from workbench.audit_estimates import estimate_table, mean_table, protected_estimates, protected_means
from workbench.audit_factors import AuditFactorError, list_factors, make_factor
from workbench.audits import (
    STRATIFY_BY,
    AuditError,
    audit_questions,
    audit_sample,
    create_audit,
    current_answers,
    list_audits,
    progress,
    record_answers,
)
from workbench.questions import NOT_RECORDED, QuestionError, parse_question

PAGE = {
    "title": "Case-file audits",
    "icon": ":material/fact_check:",
    "roles": ["analyst", "team_manager", "social_worker", "admin"],
    "order": 25,
    "needs": ["referrals"],
    "description": "Deep dives into case files: an analyst draws a reproducible random sample of a cohort's "
    "children and writes the questions their files are read for; reviewers record answers child by child (a "
    "social worker or team manager only for the children the engine lets them see); progress, and estimates for "
    "the whole cohort with 95% intervals. Kept in the workspace database, never in the extract.",
}

CREATORS = ("analyst", "admin")


def may_record(engine, scope):
    """Who may record for which child: analysts any sampled child; others the children the engine lets them see."""
    if scope.sees_everything:
        return None
    return engine.children_in_scope(scope).__contains__  # queries/access.py's rule, as for every question


def render(container) -> None:
    scope = current_scope()
    container.title("Case-file audits")
    container.caption(
        "Read a random sample of a cohort's case files for what no field records, and estimate for the whole "
        "cohort. How the sample and the intervals work: docs/workbench.md."
    )
    engine = opened_engine(container)
    if engine is None or scope is None:
        return
    ws = opened_workspace(container)
    if ws is None:
        return
    audits = list_audits(ws)
    tabs = ["Read and record", "Estimates"] + (["New audit"] if scope.role in CREATORS else [])
    places = dict(zip(tabs, container.tabs(tabs), strict=True))
    if "New audit" in places:
        new_audit(places["New audit"], ws, engine, scope)
    if audits.is_empty():
        for tab in ("Read and record", "Estimates"):
            places[tab].info("No audit yet." + (" Start one under New audit." if scope.role in CREATORS else ""))
        return
    name = container.selectbox("Audit", audits["name"].to_list(), key="audit_name")
    row = audits.filter(pl.col("name") == name).row(0, named=True)
    container.caption(
        f"Cohort {row['cohort']}" + (f", compared with {row['comparison']}" if row["comparison"] else "")
        + f"; drawn from {row['extract_name']} as at {row['as_of']:%d %B %Y}, seed {row['seed']}, by {row['created_by']}."
    )  # fmt: skip
    read_and_record(places["Read and record"], ws, engine, scope, name)
    estimates(places["Estimates"], ws, scope, name)


def read_and_record(place, ws, engine, scope, name: str) -> None:
    show_table(
        place,
        progress(ws, name),
        "audit_progress",
        key="audit_progress",
        filters={"audit": name},
        title="Case-file audit: files read so far",
    )
    rule = may_record(engine, scope)
    sample = audit_sample(ws, name)
    if rule is not None:
        sample = sample.filter(pl.col("child_id").is_in(sorted(engine.children_in_scope(scope))))
        place.caption("You see, and may record for, only the sampled children of your own cases.")
    if sample.is_empty():
        place.info("None of this audit's sampled children is yours to read.")
        return
    answered = set(current_answers(ws, name)["child_id"].to_list())
    labels = {
        child: f"{order}. {child} ({group}, {stratum})" + (" ✓" if child in answered else "")
        for child, stratum, order, group in sample.rows()
    }
    child = place.selectbox("Child (read in this order)", list(labels), format_func=labels.get, key="audit_child")
    questions = audit_questions(ws, name)
    if not questions:
        place.info("This audit has no questions yet.")
        return
    with place.container(border=True):
        given = {question.code: answer_widget(question, child) for _, question in questions}
    submitted = place.button("Record these answers", type="primary", key="record_answers")
    if submitted:
        record_from_page(place, ws, name, child, given, scope, rule)
    with place.expander("This child's chronology"):
        events = run("child_chronology", st, child_id=child)
        if events is not None:
            plain_table(st, events)


def record_from_page(place, ws, name: str, child: str, given: dict, scope, rule) -> None:
    """The reviewer's answers as entered (unanswered questions left out), recorded and put in the audit log."""
    given = {code: value for code, value in given.items() if value not in (None, "")}
    try:
        record_answers(ws, name, child, given, by=scope.user, may_record=rule)
    except AuditError as exc:
        place.warning(str(exc), icon=":material/block:")
        return
    audit("audit_answer", audit=name, child_id=child, questions=sorted(given))
    place.success(f"Recorded {len(given)} answer{'s' if len(given) != 1 else ''}.")


def answer_widget(question, child: str):
    """One question's input (fresh for each child); None when left unanswered."""
    key = f"answer_{question.code}_{child}"
    if question.kind in ("yes_no", "category"):
        options = list(question.answers)
        return st.radio(question.label, options, index=None, horizontal=True, key=key)
    if question.kind == "number":
        text = st.text_input(f"{question.label} (a number, or 'not recorded')", key=key)
        return text.strip() or None
    return st.text_area(question.label, key=key).strip() or None


def estimates(place, ws, scope, name: str) -> None:
    table = protected_estimates(estimate_table(ws, name), scope)
    if table.is_empty():
        place.info("No question is counted yet (notes are read, not counted).")
        return
    place.caption(
        "Estimated percentage of the whole cohort with a 95% interval (stratum weights and the finite-population "
        f"correction; Wilson). '{NOT_RECORDED}' is an answer of its own. No estimate until every stratum has an "
        "answered child. Counts of 1 to 5 are hidden for anyone who does not see every child."
    )
    show_table(
        place,
        table,
        "audit_estimates",
        key="audit_estimates",
        filters={"audit": name},
        title="Case-file audit: estimates for the whole cohort",
    )
    means = protected_means(mean_table(ws, name), scope)
    if not means.is_empty():
        place.markdown("**Number questions: the cohort's mean**")
        place.caption(
            "Mean of the recorded answers ('not recorded' left out), estimated for the cohort with stratum weights "
            "and the finite-population correction; 95% interval on Satterthwaite's degrees of freedom."
        )
        show_table(
            place,
            means,
            "audit_means",
            key="audit_means",
            filters={"audit": name},
            title="Case-file audit: the cohort's mean of each number question",
        )
    if scope.role in CREATORS:
        with place.expander("Use an answer as a factor in Patterns", icon=":material/hub:"):
            factor_form(st, ws, name, scope)


def factor_form(place, ws, name: str, scope) -> None:
    """Make an answer to one of the audit's questions a local factor (source case_file_audit) for Patterns."""
    made = list_factors(ws).filter(pl.col("audit") == name)
    if not made.is_empty():
        place.caption(
            "Factors from this audit: " + "; ".join(f"{c} ({w})" for c, w in made.select("factor_code", "label").rows())
        )
    counted = [q for _, q in audit_questions(ws, name) if q.kind in ("yes_no", "category")]
    if not counted:
        place.info("Only a yes/no or category answer can be a factor; this audit has none.")
        return
    columns = place.columns(2)
    question = columns[0].selectbox(
        "Question", counted, format_func=lambda q: f"{q.code}: {q.label}", key="factor_question"
    )
    answer = columns[1].selectbox("Answer", [a for a in question.answers if a != NOT_RECORDED], key="factor_answer")
    columns = place.columns([1, 3])
    code = columns[0].text_input("Factor code", max_chars=40, placeholder="e.g. PD", key="factor_code")
    label = columns[1].text_input("The factor in words", value=question.label, key="factor_label")
    if place.button("Make it a factor", key="make_factor"):
        factor_from_page(place, ws, name, question.code, answer, code, label, scope)


def factor_from_page(place, ws, name: str, question: str, answer: str, code: str, label: str, scope) -> None:
    try:
        make_factor(ws, name, question, answer, code, label, scope.user)
    except AuditFactorError as exc:
        place.warning(str(exc), icon=":material/block:")
        return
    audit("audit_factor", audit=name, factor=code.strip())
    place.success(f"Factor {code.strip()} made: Patterns shows it, from this audit's sample, beside recorded factors.")


def new_audit(place, ws, engine, scope) -> None:
    teams = run("team_list", place)
    if teams is None:
        return
    cohort = cohort_builder(place, teams, engine.as_of)
    cohort.pop("compare_team_id", None)
    cohort = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in cohort.items()}
    with place.container(border=True):
        name = st.text_input("Audit name", key="new_audit_name")
        columns = st.columns(3)
        size = columns[0].number_input("Children to sample", min_value=1, value=40, step=1, key="new_audit_size")
        seed = columns[1].number_input("Seed", min_value=0, value=1, step=1, key="new_audit_seed")
        strata = columns[2].selectbox("Strata", [None, *STRATIFY_BY], format_func=lambda s: s or "none", key="strata")
        specs = st.text_area(
            "Questions, one a line: code|label|kind (yes_no, number, note) or code|label|category|choice, choice",
            key="new_audit_questions",
        )
        submitted = st.button("Draw the sample", type="primary", key="new_audit_draw")
    if not submitted:
        return
    if not cohort:
        place.warning("Choose at least one cohort filter.", icon=":material/block:")
        return
    try:
        questions = [parse_question(line) for line in specs.splitlines() if line.strip()]
        drawn = create_audit(
            ws, engine, name, cohort, int(size), int(seed), questions, stratify_by=strata, created_by=scope.user
        )
    except (AuditError, QuestionError, QueryError) as exc:
        place.warning(str(exc), icon=":material/block:")
        return
    audit("audit_create", audit=name, filters=cohort, size=int(size), seed=int(seed))
    summary = drawn["cohort"]
    place.success(f"Drew {count(summary['sample_size'])} of the cohort's {counted(summary['cohort_size'], 'child')}.")


if __name__ == "__main__":
    page_main(render)
