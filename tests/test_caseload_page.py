"""The Caseload page for a social worker and for a team manager, on the tiny extract."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from helpers import open_app_page

ROOT = Path(__file__).resolve().parent.parent


def frames(at: AppTest):
    return [d.value for d in at.dataframe]


def test_worker_view_shows_my_cases_and_what_is_due(tiny_dir, monkeypatch):
    at = open_app_page("caseload", tiny_dir, monkeypatch)
    at.selectbox(key="worker_team").set_value("T2").run()
    assert not at.exception
    # W3 (Cara Jones) holds C2 (CP) and C3 (CIN); W4 has left but still holds C6.
    assert at.selectbox(key="worker").value == "W3"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open cases"] == "2" and metrics["Overdue visits"] == "0"
    assert metrics["Due in the next 5 working days"] == "2"
    cases = frames(at)[0]
    assert sorted(cases["Child"]) == ["C2", "C3"]
    assert set(cases["Visit status"]) == {"🟠 Due soon: 3 working days left", "🟠 Due soon: 5 working days left"}
    # The chronology of the first child is on the page.
    assert any("Event" in f.columns and "CP plan started" in list(f["Event"]) for f in frames(at))


def test_worker_with_an_overdue_visit(tiny_dir, monkeypatch):
    at = open_app_page("caseload", tiny_dir, monkeypatch)
    at.selectbox(key="worker_team").set_value("T1").run()
    at.selectbox(key="worker").set_value("W1").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Overdue visits"] == "1"
    assert list(frames(at)[0]["Visit status"]) == ["🔴 Overdue by 7 working days"]


def test_team_view_caseloads_overdue_and_compliance(tiny_dir, monkeypatch):
    at = open_app_page("caseload", tiny_dir, monkeypatch)
    at.radio(key="caseload_view").set_value("My team").run()
    at.selectbox(key="manager_team").set_value("T1").run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open cases"] == "1" and metrics["Overdue visits"] == "1"
    tables = frames(at)
    workers = next(f for f in tables if "Per FTE" in f.columns)
    assert dict(zip(workers["Worker"], workers["Open cases"], strict=True)) == {"Asha Patel": 1, "Ben Okafor": 0}
    overdue = next(f for f in tables if "Working days overdue" in f.columns)
    assert list(overdue["Child"]) == ["C1"] and list(overdue["Worker"]) == ["Asha Patel"]
    compliance = next(f for f in tables if "Measure" in f.columns)
    assert len(compliance) == 6
    visits = compliance[compliance["Measure"] == "Open plans with visits in timescale"].iloc[0]
    assert (visits["Met or counted"], visits["Of"], visits["%"]) == (0, 1, "0.0%")
    icpc = compliance[compliance["Measure"] == "ICPCs within 15 working days of the strategy discussion"].iloc[0]
    assert (icpc["Of"], icpc["%"]) == (0, "–")  # nothing to measure: a dash, not 0%
    # Drill-down from the measure to the child behind it.
    at.selectbox(key="measure").set_value("visits_in_timescale").run()
    behind = next(f for f in frames(at) if "Met the standard" in f.columns)
    assert list(behind["Child"]) == ["C1"] and list(behind["Met the standard"]) == [False]


def test_downloads_offered_for_every_table(tiny_dir, monkeypatch):
    at = open_app_page("caseload", tiny_dir, monkeypatch)
    at.radio(key="caseload_view").set_value("My team").run()
    downloads = at.get("download_button")
    assert len(downloads) >= len(at.dataframe)


def test_compliance_shows_targets_and_rag_and_a_row_opens_its_children(tiny_dir, monkeypatch):
    at = open_app_page("caseload", tiny_dir, monkeypatch)
    at.radio(key="caseload_view").set_value("My team").run()
    at.selectbox(key="manager_team").set_value("T1").run()
    compliance = next(f for f in frames(at) if "RAG" in f.columns)
    visits = compliance[compliance["Measure"] == "Open plans with visits in timescale"].iloc[0]
    # 0 of 1 visits in timescale against the default target of 90%: missed by more than 5 points.
    assert (visits["%"], visits["Target %"], visits["RAG"]) == ("0.0%", 90.0, "🔴 Target missed")
    icpc = compliance[compliance["Measure"] == "ICPCs within 15 working days of the strategy discussion"].iloc[0]
    assert icpc["RAG"] == "–"  # nothing to measure, so no RAG
    assert len([f for f in frames(at) if "Met the standard" in f.columns]) == 1  # the "By measure" tab's only
    row = list(compliance["Measure"]).index("Open plans with visits in timescale")
    at.session_state["table_compliance"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("The children behind: Open plans with visits in timescale" in m.value for m in at.markdown)
    behind = [f for f in frames(at) if "Met the standard" in f.columns]
    assert len(behind) == 2  # under the compliance table now, and in the "By measure" tab
    assert list(behind[0]["Child"]) == ["C1"] and list(behind[0]["Met the standard"]) == [False]


def test_a_workers_row_opens_their_open_cases(tiny_dir, monkeypatch):
    at = open_app_page("caseload", tiny_dir, monkeypatch)
    at.radio(key="caseload_view").set_value("My team").run()
    at.selectbox(key="manager_team").set_value("T2").run()
    workers = next(f for f in frames(at) if "Per FTE" in f.columns)
    before = [f for f in frames(at) if "Visit status" in f.columns]  # the "By worker" tab's first worker
    row = list(workers["Worker"]).index("W4")  # W4 has left, unnamed, and still holds C6
    at.session_state["table_caseload"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Open cases of W4" in m.value for m in at.markdown)
    cases = [f for f in frames(at) if "Visit status" in f.columns]
    assert len(cases) == len(before) + 1 and list(cases[0]["Child"]) == ["C6"]


def test_clicking_a_workers_bar_opens_their_open_cases(tiny_dir, monkeypatch):
    at = open_app_page("caseload", tiny_dir, monkeypatch)
    at.radio(key="caseload_view").set_value("My team").run()
    at.selectbox(key="manager_team").set_value("T2").run()
    # The bars are the case holders by cases per FTE: W4 (1 case) before W3 (2 cases), both 1 FTE.
    at.session_state["caseload_chart"] = {
        "selection": {"points": [{"point_index": 0}], "point_indices": [0], "box": [], "lasso": []}
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Open cases of W4" in m.value for m in at.markdown)
    assert list(next(f for f in frames(at) if "Visit status" in f.columns)["Child"]) == ["C6"]


def test_a_signed_in_social_worker_lands_on_their_own_caseload(tiny_dir, monkeypatch):
    from app import landing, page_files, page_meta, page_roles
    from queries.access import Scope

    stems = [p.stem for p in sorted(page_files(), key=lambda p: page_meta(p).get("order", 99))]
    for_social_worker = [s for s in stems if "social_worker" in page_roles(page_meta(ROOT / f"pages/{s}.py"))]
    assert for_social_worker[landing("social_worker", for_social_worker)] == "caseload"
    assert landing("team_manager", stems) == 0 and landing(None, stems) == 0  # the others open Home
    # On the page: no team or worker to choose, straight to W3's own cases (Cara Jones, team T2).
    at = open_app_page("caseload", tiny_dir, monkeypatch, scope=Scope("social_worker", "cara@x", "W3", "T2"))
    assert not at.exception, [e.value for e in at.exception]
    assert not [s for s in at.selectbox if s.key in ("worker_team", "worker")]
    assert at.header[0].value.startswith("Cara Jones: caseload on")
    assert sorted(frames(at)[0]["Child"]) == ["C2", "C3"]


def test_a_team_manager_starts_on_their_own_team(tiny_dir, monkeypatch):
    from queries.access import Scope

    at = open_app_page("caseload", tiny_dir, monkeypatch, scope=Scope("team_manager", "tm@x", "W2", "T1"))
    assert at.selectbox(key="worker_team").value == "T1"
