"""Annex A workbooks: the public sample, a messy workbook, and files that are not Annex A."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

openpyxl = pytest.importorskip("openpyxl")

from ingest import run_import  # noqa: E402
from schemas.validate import validate_path  # noqa: E402

SAMPLE = Path(__file__).parent / "fixtures" / "annex_a" / "Annex_A.xlsx"


def read(folder: Path, table: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{table}.parquet")


def test_sample_workbook(tmp_path):
    out = tmp_path / "x"
    report = run_import("annex-a", SAMPLE, out, private=False)
    assert report.ok, report.error
    mapped = {t: c.mapped for t, c in report.tables.items()}
    assert mapped["referrals"] == 11 and mapped["cp_plans"] == 7 and mapped["looked_after"] == 5
    assert mapped["factors"] == 0 and (out / "factors.parquet").exists()  # Annex A has no factors: empty
    # List 3: list letters and non-breaking spaces are cleaned; teams and workers become rows.
    referral = read(out, "referrals").filter(pl.col("child_id") == "6537810").row(0, named=True)
    assert (referral["source"], referral["nfa"], referral["team_id"]) == ("8", False, "multi-agency-safeguarding-hub")
    teams = read(out, "teams")
    assert teams.filter(pl.col("team_id") == "multi-agency-safeguarding-hub")["service_area"].to_list() == [
        "front_door"
    ]
    workers = read(out, "workers")
    assert "Dustin Hazlett" in workers["worker_name"].to_list()
    assert workers["worker_id"].str.starts_with("W-").all()
    # List 7: categories in words; the last statutory visit and the latest review.
    plan = read(out, "cp_plans").filter(pl.col("child_id") == "10721552").row(0, named=True)
    assert (plan["initial_category"], plan["end_date"]) == ("PHY", dt.date(2021, 2, 16))
    visits = read(out, "visits")
    assert set(visits["visit_type"]) == {"cp", "cin", "cla"}
    cp_visit = visits.filter((pl.col("child_id") == "10721552") & (pl.col("visit_type") == "cp")).row(0, named=True)
    assert cp_visit["visit_date"] == dt.date(2021, 1, 22) and cp_visit["seen_alone"] is True
    # List 8: legal status and placement codes behind their descriptions.
    care = read(out, "looked_after").sort("child_id")
    assert set(care["legal_status"]) <= {"E1", "C2", "C1"} and "U6" in care["placement_type"].to_list()
    # List 6: '#N/A' teams and an unknown primary need are reported, with where they were.
    issues = {(p.where, p.column, p.value) for p in report.problems}
    assert ("List 6 row 2", "primary_need", "PSRMEM - Support with memory and cognition") in issues
    assert ("List 6 row 2", "team_id", "#N/A") in issues
    # Assessments whose referral is not in the workbook are dropped, and the reason said.
    assert report.tables["assessments"].dropped == {
        "no referral for the child (List 3 or 6) on or before the assessment start": 5
    }
    assert any("List 11" in n for n in report.notes)


def test_sample_validates_but_for_the_sources_own_errors(tmp_path):
    run_import("annex-a", SAMPLE, tmp_path / "x")
    errors = {(f.table, f.column, f.check) for f in validate_path(tmp_path / "x").errors}
    # Two children in the sample are born after their plan or care began.
    assert errors == {
        ("cp_plans", "start_date", "must not be more than 280 days before the child's birth_date"),
        ("looked_after", "start_date", "must not be more than 280 days before the child's birth_date"),
    }


def messy_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet("List_3")
    ws.append(["Annex A List 3: referrals in the last six months"])  # a title row above the header
    ws.append(["Child\xa0Unique ID ", "Gender", "Ethnicity", "Date of Birth", "Age", "Date of Referral",
               "Referral Source", "Referral NFA?", "Allocated Team", "Allocated Worker"])  # fmt: skip
    ws.append([1001, "a) Male", "a) WBRI", "03/04/2015", 9.5, "16/09/2023", "q) 6: Police", "b) No",
               "Locality 1 Duty Team", "Ann\xa0Smith"])  # fmt: skip
    ws.append([None, None, None, None, None, None, None, None, None, None])  # a blank row
    ws.append(["1002", "Female", "ZZZZ", dt.datetime(2012, 1, 5), 11.2, "=F3+1", "Police", "No", None, None])
    ws.append([1003.0, "b) Female", "k) APKN", dt.datetime(2016, 2, 2), 7, dt.datetime(2023, 10, 1), "e) 2A: Schools",
               "Yes", "Locality 1 Duty Team", "Ann Smith"])  # fmt: skip
    ws = wb.create_sheet("list 4 assessments")
    ws.append(["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age", "Does the Child have a Disability",
               "Continuous Assessment Start Date", "Child Seen During Continuous Assessment",
               "Continuous Assessment Date of Authorisation",
               "Was the child assessed as requiring LA children's social care support?", "Allocated Team",
               "Allocated Worker"])  # fmt: skip
    ws.append([1001, "a) Male", "a) WBRI", "03/04/2015", 9.5, "a) Yes", "17/09/2023", "Yes", "20/10/2023", "a) Yes",
               "Assessment Team 2", "Bo Jones"])  # fmt: skip
    ws = wb.create_sheet("Sheet3")  # no list name: recognised by its headers (List 7)
    ws.append(["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age", "Child Protection Plan Start Date",
               "Initial Category of Abuse", "Latest Category of Abuse", "Date of the Last Statutory Visit",
               "Was the Child Seen Alone?", "Date of latest review conference", "Child Protection Plan End Date",
               "Allocated Team", "Allocated Worker"])  # fmt: skip
    ws.append([1001, "a) Male", "a) WBRI", "03/04/2015", 9, "01/11/2023", "b) Neglect", "Multiple", "01/12/2023",
               "b) No", None, None, "Child Protection Team", "Bo Jones"])  # fmt: skip
    wb.save(path)
    return path


def test_messy_workbook(tmp_path):
    out = tmp_path / "x"
    report = run_import("annex-a", messy_workbook(tmp_path / "messy.xlsx"), out, private=False)
    assert report.ok, report.error
    referrals = read(out, "referrals").sort("child_id")
    assert referrals["child_id"].to_list() == ["1001", "1003"]  # 1002's referral date is a formula with no value
    assert referrals["source"].to_list() == ["6", "2A"] and referrals["nfa"].to_list() == [False, True]
    assert referrals["referral_date"][0] == dt.date(2023, 9, 16)
    assert report.tables["referrals"].dropped == {"referral_date could not be read": 1}
    issues = {(p.where, p.column, p.value): p.issue for p in report.problems}
    assert "formula with no saved value" in issues[("List_3 row 5", "referral_date", "=F3+1")]
    assert ("List_3 row 5", "ethnicity", "ZZZZ") in issues
    children = read(out, "children").sort("child_id")
    assert children["child_id"].to_list() == ["1001", "1002", "1003"]
    assert children["birth_date"][0] == dt.date(2015, 4, 3)
    assert children["disability"][0] is True
    assessment = read(out, "assessments").row(0, named=True)
    assert assessment["referral_id"] == referrals["referral_id"][0] and assessment["in_need"] is True
    plan = read(out, "cp_plans").row(0, named=True)
    assert (plan["initial_category"], plan["latest_category"]) == ("NEG", "MUL")
    assert plan["referral_id"] == referrals["referral_id"][0]
    workers = read(out, "workers")
    assert sorted(workers["worker_name"]) == ["Ann Smith", "Bo Jones"]  # the nbsp name is the same worker
    bo = workers.filter(pl.col("worker_name") == "Bo Jones").row(0, named=True)
    assert bo["team_id"] == "child-protection-team" and bo["start_date"] == dt.date(2023, 9, 17)
    assert any("recognised as an Annex A list by its headers" in n for n in report.notes)
    assert validate_path(out).is_valid, validate_path(out).to_text()


def test_privacy_removes_worker_names(tmp_path):
    out = tmp_path / "x"
    run_import("annex-a", messy_workbook(tmp_path / "messy.xlsx"), out)
    assert read(out, "workers")["worker_name"].null_count() == 2
    assert read(out, "children")["birth_date"][0] == dt.date(2015, 4, 1)


def test_workbook_without_the_lists_is_a_clear_error(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Summary"
    wb.active.append(["Nothing to see"])
    wb.save(tmp_path / "other.xlsx")
    report = run_import("annex-a", tmp_path / "other.xlsx", tmp_path / "x")
    assert not report.ok
    assert "holds none of the Annex A lists 3-8" in report.error and "'Summary'" in report.error


def test_not_a_workbook_is_a_clear_error(tmp_path):
    (tmp_path / "fake.xlsx").write_text("child,date\n1,2\n")
    report = run_import("annex-a", tmp_path / "fake.xlsx", tmp_path / "x")
    assert not report.ok and "not an Excel workbook" in report.error
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    report = run_import("annex-a", tmp_path / "old.xls", tmp_path / "x")
    assert not report.ok and "save it as .xlsx" in report.error
