"""Every download's file name says what the reader chose, and every table says which question it answers.

Two rules, both checked here:

1. **File names carry the page's filters and the extract's date.** Each page is driven in AppTest with
   chosen widget values and the file names of its download buttons are read back: each names the
   choices behind its table (team, worker, period, measure, cohort, audit…) and ends with as_of.
2. **Every table says what it is.** Each `show_table` call in pages/*.py passes `question=` (the
   registry question whose answer the table is: the workbook's About sheet takes its title and
   description) or `title=` (a table that is not one question's answer: several questions side by
   side, or a workbench table), never both and never neither. Its file stem is a literal (the choices
   go in `filters`, where they are named), but for the chronology, the one file named after a child,
   whose ID the audit log hashes (pages/_audit.py). A literal `filters` never names a child or a person.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from streamlit.delta_generator import DeltaGenerator

from helpers import open_app_page
from pages._audit import strip_child_from_file_name
from pages._export import PERSONAL_FILTERS, file_name
from pages.patterns import cohort_in_file_name
from queries.registry import all_queries
from schemas.extract import SAMPLE_DATA

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-03-31"  # the tiny extract's
ADMIN = None  # local mode: every page, every child


# ---- rule 2: the source -------------------------------------------------------------------------------------


def show_table_calls() -> list[tuple[str, ast.Call]]:
    calls = []
    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name == "show_table" and path.name != "_frame.py":
                    calls.append((f"{path.name}:{node.lineno}", node))
    return calls


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_every_table_names_its_question_or_says_what_it_is():
    calls = show_table_calls()
    assert len(calls) >= 35, "show_table calls not found: has the page code moved?"
    questions = all_queries()
    for where, call in calls:
        question, title = keyword(call, "question"), keyword(call, "title")
        assert (question is None) != (title is None), f"{where}: pass question= or title=, one of them"
        if isinstance(question, ast.Constant):
            assert question.value in questions, f"{where}: no question named {question.value!r}"
        if title is not None:
            assert isinstance(title, ast.Constant) and len(title.value) > 15, f"{where}: title= says what the table is"
        stem = call.args[2] if len(call.args) > 2 else keyword(call, "file_stem")
        if isinstance(stem, ast.JoinedStr):  # only a file named after a child, which the audit log hashes
            prefix = stem.values[0].value
            assert prefix == "chronology_", f"{where}: the file stem is a literal; choices go in filters="
            assert (
                strip_child_from_file_name("chronology_C9_2026-03-31.csv", b"k" * 32) != "chronology_C9_2026-03-31.csv"
            )
        else:
            assert isinstance(stem, ast.Constant | ast.Name), f"{where}: the file stem is a literal"
        filters = keyword(call, "filters")
        if isinstance(filters, ast.Dict):
            keys = {k.value for k in filters.keys if isinstance(k, ast.Constant)}
            assert not keys & PERSONAL_FILTERS, f"{where}: a file name never names a child or a person"


def test_a_file_name_refuses_a_child_or_a_name():
    with pytest.raises(ValueError, match="never carries"):
        file_name("cases", {"child_id": "C1"}, None, "csv")
    with pytest.raises(ValueError, match="never carries"):
        file_name("cases", {"worker_name": "Asha Patel"}, None, "csv")
    assert file_name("cases", {"worker": "W1", "team": None}, None, "csv") == "cases_worker-W1.csv"
    cohort = cohort_in_file_name({"team_id": "T1", "age_band": "16+", "from_date": dt.date(2025, 4, 1)})
    assert file_name("factor_rules", cohort, None, "csv") == "factor_rules_team-T1_age-16plus_from-2025-04-01.csv"


# ---- rule 1: the pages --------------------------------------------------------------------------------------


@pytest.fixture
def offered(monkeypatch) -> list[str]:
    """The file names of every download button drawn from here on (the buttons' own argument)."""
    names: list[str] = []
    original = DeltaGenerator.download_button

    def download_button(self, label, data, *args, **kwargs):
        names.append(kwargs.get("file_name"))
        return original(self, label, data, *args, **kwargs)

    monkeypatch.setattr(DeltaGenerator, "download_button", download_button)
    return names


def page(name: str, data, monkeypatch, scope=ADMIN):
    at = open_app_page(name, data, monkeypatch, scope=scope)
    assert not at.exception, [e.value for e in at.exception]
    return at


def tables(names: list[str]) -> list[str]:
    """Each table's CSV name (every table offers CSV and Excel under the same name)."""
    csv = [n for n in names if n.endswith(".csv")]
    assert sorted(n[:-4] for n in csv) == sorted(n[:-5] for n in names if n.endswith(".xlsx"))
    return csv


def drive_caseload(at):
    at.radio(key="caseload_view").set_value("My team").run()
    at.selectbox(key="manager_team").set_value("T1").run()
    at.selectbox(key="measure").set_value("visits_in_timescale")


def drive_front_door(at):
    at.selectbox(key="front_door_team").set_value("T1")
    at.radio(key="front_door_period").set_value("Last 6 months")


def drive_demand(at):
    at.selectbox(key="demand_team").set_value("T2")
    at.number_input(key="planned_caseload").set_value(18.5)


def drive_services(at):
    at.radio(key="spend_period").set_value("Last 24 months")


def drive_team_outcomes(at):
    at.radio(key="outcomes_by").set_value("team")


def drive_neet(at):
    at.selectbox(key="neet_team").set_value("T1")


def drive_patterns(at):  # on the sample: the tiny extract's cohorts are too small for any table
    at.selectbox(key="cohort_team").set_value("T06")
    at.selectbox(key="age").set_value("10-15")
    at.selectbox(key="cohort_compare").set_value("T02")


def drive_board(at):
    at.segmented_control(key="board_months").set_value(24)


def drive_supervision(at):
    at.selectbox(key="supervision_worker").set_value("W3")


DRIVERS = {
    "caseload": drive_caseload,
    "front_door": drive_front_door,
    "demand": drive_demand,
    "services": drive_services,
    "team_outcomes": drive_team_outcomes,
    "neet": drive_neet,
    "patterns": drive_patterns,
    "board_summary": drive_board,
    "supervision_pack": drive_supervision,
    "children_in_care": lambda at: None,
}


# What each page's downloads are named once driven as above: file stem and the choices, before "_<as_of>".
EXPECTED = {
    "caseload": [
        "caseload_team-T1",
        "overdue_visits_team-T1",
        "compliance_team-T1",
        "compliance_children_team-T1_measure-visits_in_timescale",
        "open_cases_team-T1_worker-W1",  # "the children behind the figures", by worker
        "chronology_C1",  # the one named after a child: the audit log hashes the ID
    ],
    "front_door": [
        "front_door_flow_team-T1_period-6-months",
        "front_door_contact_outcomes_team-T1_period-6-months",
        "front_door_sources_team-T1",  # always the latest complete month against the 12 before: no period
        "front_door_timeliness_team-T1_period-6-months",
    ],
    "demand": ["referral_forecast_team-T2", "caseload_projection_team-T2_cases_per_fte-18.5"],
    "services": [
        "service_outcomes",
        "service_comparison",
        "service_spend_by_month_period-24-months",
        "placement_costs",
    ],
    "team_outcomes": ["team_outcomes_compare-team"],
    "neet": ["neet_risk_list_team-T1"],  # too few outcomes in the tiny extract for the model's tables
    "patterns": [f"factor_{table}_team-T06_age-10-15_compare-T02" for table in ("prevalence", "replication", "rules")],
    "board_summary": [
        f"board_{table}_period-24-months"
        for table in ("headline_trend", "england", "team_caseload", "compliance", "rag")
    ],
    "supervision_pack": [f"supervision_{table}_worker-W3" for table in ("cases", "due", "assessments")],
    "children_in_care": [
        "cla_legal_status",
        "placement_costs",
        "cla_review_timeliness",
        "cla_review_participation",
        "missing_from_care",
        "care_leaver_outcomes",
    ],
}
PDFS = {"board_summary": "board_summary_period-24-months", "supervision_pack": "supervision_pack_worker-W3"}


@pytest.mark.parametrize("name", list(DRIVERS))
def test_download_names_carry_the_pages_choices_and_the_extract_date(name, tiny_dir, monkeypatch, offered):
    at = page(name, SAMPLE_DATA if name == "patterns" else tiny_dir, monkeypatch)
    DRIVERS[name](at)
    offered.clear()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    csv = tables(offered)
    assert all(n.endswith(f"_{AS_OF}.csv") for n in csv), csv
    shown = {n.removesuffix(f"_{AS_OF}.csv") for n in csv}  # a table drawn in two tabs counts once
    assert sorted(shown) == sorted(EXPECTED[name])
    pdfs = [n for n in offered if n.endswith(".pdf")]
    assert pdfs == ([f"{PDFS[name]}_{AS_OF}.pdf"] if name in PDFS else [])


def test_case_file_audit_downloads_name_the_audit(tiny_dir, tiny_engine, tmp_path, monkeypatch, offered):
    from workbench.audits import create_audit
    from workbench.questions import parse_question
    from workbench.workspace import open_workspace

    monkeypatch.setenv("CHILDSTAT_WORKSPACE", str(tmp_path / "ws.sqlite"))
    ws = open_workspace(tmp_path / "ws.sqlite")
    question = parse_question("pd|Parent has a personality disorder|yes_no")
    for name in ("pd-t1", "pd-all"):
        create_audit(ws, tiny_engine, name, {"team_id": "T1"} if name == "pd-t1" else {}, 3, 1, [question])
    ws.dispose()
    at = page("case_file_audits", tiny_dir, monkeypatch)
    at.selectbox(key="audit_name").set_value("pd-all")
    offered.clear()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert {n.removesuffix(f"_{AS_OF}.csv") for n in tables(offered)} >= {"audit_progress_audit-pd-all"}
