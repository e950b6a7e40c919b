"""Annex A workbooks: the public sample, a workbook in words, a messy workbook, and files that are not Annex A."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl
import pytest

openpyxl = pytest.importorskip("openpyxl")

from ingest import run_import  # noqa: E402
from schemas.validate import validate_path  # noqa: E402

SAMPLE = Path(__file__).parent / "fixtures" / "annex_a" / "Annex_A.xlsx"
WORDS = Path(__file__).parent / "fixtures" / "annex_a" / "Annex_A_words.xlsx"  # made by make_words_workbook.py


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
    assert not any("List 1)" in n or "List 2)" in n or "List 9)" in n for n in report.notes)


def test_sample_lists_1_2_and_9(tmp_path):
    out = tmp_path / "x"
    report = run_import("annex-a", SAMPLE, out, private=False)
    # List 1: five contacts on 16/09/2020, sources "q) 6: Police" x3, "b) 1B: Individual", "t) 9: Anonymous".
    contacts = read(out, "contacts")
    assert dict(contacts.select("child_id", "source").iter_rows()) == {
        "9212044": "6", "11973218": "6", "6217392": "1B", "16248829": "6", "13981739": "9"
    }  # fmt: skip
    assert contacts.filter(pl.col("child_id") == "6217392")["contact_id"].to_list() == ["6217392/K/2020-09-16"]
    assert set(contacts["contact_date"]) == {dt.date(2020, 9, 16)}
    assert contacts["outcome"].null_count() == 5 and contacts["team_id"].null_count() == 5
    # List 2: five early help assessments; start, completion and the organisation (an extra column).
    early = read(out, "early_help").sort("start_date", "child_id")
    assert early.height == 5 and early["end_date"].to_list()[0] == dt.date(2020, 9, 30)
    assert early.row(0, named=True) | {"imported_from": None} == {
        "episode_id": "612306/EH/2020-09-16", "child_id": "612306", "start_date": dt.date(2020, 9, 16),
        "end_date": dt.date(2020, 9, 30), "reason": None, "outcome": None, "organisation": "Top Town Academy",
        "imported_from": None,
    }  # fmt: skip
    # List 9: six care leavers, all in touch; no date of contact, so recorded on as_of (2021-03-15).
    leavers = read(out, "care_leavers").sort("child_id")
    assert leavers["child_id"].to_list() == ["10414520", "13782635", "2295089", "4939073", "6102196", "7961370"]
    assert leavers["in_touch"].to_list() == ["YES"] * 6
    assert leavers["activity"].to_list() == ["F2", "G5", "F5", None, "F5", "F1"]  # F3 twice: read as F5
    assert leavers["accommodation"].to_list() == ["U", "Y", "U", None, "U", "Y"]
    assert leavers["accommodation_suitable"].to_list() == [True, True, True, None, True, True]
    assert set(leavers["recorded_date"]) == {dt.date(2021, 3, 15)} and report.as_of == "2021-03-15"
    assert "care_leavers: 2 activity F3 (a code retired in 2017: training or employment) read as F5" in report.assumed
    # Children met only in Lists 1, 2 or 9 still get a row; the "Care Leavers Team" is a team.
    children = read(out, "children")["child_id"].to_list()
    assert {"9212044", "612306", "4939073"} <= set(children)
    assert read(out, "teams").filter(pl.col("team_id") == "care-leavers-team")["service_area"].to_list() == [
        "care_leavers"
    ]
    assert report.tables["contacts"].mapped == 5 and report.tables["care_leavers"].mapped == 6


def test_sample_validates_but_for_the_sources_own_errors(tmp_path):
    run_import("annex-a", SAMPLE, tmp_path / "x")
    errors = {(f.table, f.column, f.check) for f in validate_path(tmp_path / "x").errors}
    # Two children in the sample are born after their plan or care began; one child, met only in
    # List 1, has no date of birth.
    assert errors == {
        ("cp_plans", "start_date", "must not be more than 280 days before the child's birth_date"),
        ("looked_after", "start_date", "must not be more than 280 days before the child's birth_date"),
        ("children", "birth_date", "must not be missing"),
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
    assert "holds none of the Annex A lists 1-9" in report.error and "'Summary'" in report.error


def test_not_a_workbook_is_a_clear_error(tmp_path):
    (tmp_path / "fake.xlsx").write_text("child,date\n1,2\n")
    report = run_import("annex-a", tmp_path / "fake.xlsx", tmp_path / "x")
    assert not report.ok and "not an Excel workbook" in report.error
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    report = run_import("annex-a", tmp_path / "old.xls", tmp_path / "x")
    assert not report.ok and "save it as .xlsx" in report.error


# --- a workbook that writes its codes as words (tests/fixtures/annex_a/make_words_workbook.py) ---


@pytest.fixture(scope="module")
def words_import(tmp_path_factory):
    out = tmp_path_factory.mktemp("words") / "x"
    report = run_import("annex-a", WORDS, out, private=False)
    assert report.ok, report.error
    return out, report


def test_committed_words_workbook_is_what_its_script_makes(tmp_path):
    sys.path.insert(0, str(WORDS.parent))
    try:
        import make_words_workbook
    finally:
        sys.path.remove(str(WORDS.parent))
    fresh = openpyxl.load_workbook(make_words_workbook.build(tmp_path / "fresh.xlsx"), read_only=True)
    committed = openpyxl.load_workbook(WORDS, read_only=True)
    assert fresh.sheetnames == committed.sheetnames
    for name in fresh.sheetnames:
        assert list(fresh[name].values) == list(committed[name].values), name


def test_words_become_codes(words_import):
    out, _report = words_import
    contacts = read(out, "contacts").sort("contact_id")
    assert dict(contacts.select("contact_id", "source").iter_rows()) == {
        "W01/K/2024-01-10": "2A",  # School
        "W01/K/2024-01-10/2": "6",  # Police: the child's second contact that day
        "W02/K/2024-01-15": "3A",  # Health services - GP
        "W03/K/2024-02-01": "5D",  # LA services: early help
        "W04/K/2024-02-03": "1C",  # Individual – self
        "W05/K/2024-02-05": "3F",  # Health: the group's "other" code
        "W06/K/2024-02-06": "5B",  # LA services: the group's "other internal services" code
        "W07/K/2024-02-07": "Polce",  # near miss: kept as written, validation names it
        "W08/K/2024-02-08": "10",  # no source: 10 (Unknown), filled by rule
        "W09/K/2024-02-09": "9",  # ANONYMOUS
        "W10/K/2024-02-10": "10",  # Unknown
    }
    assert contacts["outcome"].to_list()[:4] == ["no_further_action", "referral", "advice", "early_help"]
    assert contacts["outcome"].null_count() == 7  # "Referal" (near miss) and six blanks
    referrals = read(out, "referrals").sort("child_id")
    assert dict(referrals.select("child_id", "source").iter_rows()) == {
        "W01": "2A", "W02": "3B", "W03": "10", "W05": "3E", "W06": "5C", "W07": "Police (Merseyside)"
    }  # fmt: skip
    assert dict(referrals.select("child_id", "primary_need").iter_rows()) == {
        "W01": "N1", "W02": "N2", "W03": "N3", "W05": "N4", "W06": None, "W07": None
    }  # fmt: skip
    assert referrals.filter(pl.col("child_id") == "W03")["closure_reason"].to_list() == ["RC9"]
    plans = read(out, "cp_plans").sort("child_id")
    assert plans["initial_category"].to_list() == ["NEG", "PHY", "SAB"]
    assert plans["latest_category"].to_list() == ["MUL", "EMO", "SAB"]  # none given: the initial one
    care = read(out, "looked_after").sort("child_id")
    assert care["legal_status"].to_list() == ["C2", "V2", "C1", "Care order (interim)"]
    assert care["placement_type"].to_list() == ["U1", "K2", "U6", "K2"]


def test_words_early_help_and_care_leavers(words_import):
    out, _report = words_import
    early = read(out, "early_help").sort("child_id")
    assert early.select("episode_id", "end_date", "reason", "outcome", "organisation").rows() == [
        ("W02/EH/2024-01-20", dt.date(2024, 3, 1), "Parenting", "Needs met", "Early Help Locality 1"),
        ("W03/EH/2024-02-02", None, "School attendance", None, "Family Hub"),
    ]
    leavers = read(out, "care_leavers").sort("child_id")
    assert leavers.drop("child_id", "imported_from").rows() == [
        (dt.date(2024, 3, 1), "YES", "F1", "U", True),  # Independent living, Suitable
        (dt.date(2024, 3, 12), "REFU", "G5", "D", False),  # no date of contact: the workbook's as_of
        (dt.date(2024, 2, 20), "NO", "F5", "W", False),  # Bed & breakfast; training or employment
        (dt.date(2024, 2, 25), "YES", "F4", "Z", True),  # Apprenticeship, full time: F4 (DfE)
        (dt.date(2024, 2, 26), "YES", "F5", None, True),  # "With a friend": not understood; F3 -> F5
    ]
    children = read(out, "children")
    assert children.height == 15 and children["birth_date"].null_count() == 0  # W11-W15 only in List 9


def test_words_report_only_what_is_still_not_understood(words_import):
    out, report = words_import
    assert {(p.where, p.table, p.column, p.value, p.issue) for p in report.problems} == {
        ("List 1 row 9", "contacts", "source", "Polce", "unknown code: kept as written"),
        ("List 1 row 9", "contacts", "outcome", "Referal", "unknown code: left empty"),
        ("List 2 row 4", "early_help", "(row)", "", "row dropped: no start_date"),
        ("List 3 row 6", "referrals", "source", "Police (Merseyside)", "unknown code: kept as written"),
        ("List 6 row 6", "referrals", "primary_need", "Disability", "unknown code: left empty"),
        ("List 8 row 5", "looked_after", "legal_status", "Care order (interim)", "unknown code: kept as written"),
        ("Care leavers row 6", "care_leavers", "accommodation", "With a friend", "unknown code: left empty"),
    }
    assert {
        "contacts: 1 contacts with no source have source 10 (Unknown)",
        "care_leavers: 1 rows with no date of contact are recorded on the workbook's as_of (2024-03-12)",
        "care_leavers: 1 activity F3 (a code retired in 2017: training or employment) read as F5",
    } <= set(report.assumed)
    assert "sheet 'Care leavers' was recognised as an Annex A list by its headers" in report.notes
    errors = {(f.table, f.column, f.count) for f in validate_path(out).errors}
    assert errors == {("contacts", "source", 1), ("referrals", "source", 1), ("looked_after", "legal_status", 1)}


def test_lists_1_2_and_9_with_other_headings(tmp_path):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet("List 1 contacts")
    ws.append(["Child ID", "Date of birth", "Contact reference", "Contact date", "Source of contact", "Outcome"])
    ws.append(["C1", "2015-01-01", "K-77", "02/01/2024", "f) 2B: Education services", "c) CIN referral"])
    ws.append(["C1", "2015-01-01", "K-78", "02/01/2024", "Police", None])
    ws = wb.create_sheet("Early help")  # no list name: recognised by "Early help"
    ws.append(["Child ID", "Date of birth", "Early help assessment start date", "End date", "Closure reason"])
    ws.append(["C2", "2016-02-02", "03/01/2024", "31/01/2024", "Stepped up to social care"])
    ws = wb.create_sheet("List_9")
    ws.append(["Child ID", "Date of birth", "In touch?", "Date of last contact", "Accommodation type",
               "Accommodation suitable?", "Main activity"])  # fmt: skip
    ws.append(["C3", "2004-03-03", "DIED", None, "0", None, "0"])
    ws.append(["C4", "2004-04-04", "RHOM", "05/01/2024", "K2", None, "P3"])  # 903 codes: lodgings, not suitable
    ws.append(["C5", "2004-05-05", "Yes", "06/01/2024", "E1", "Not suitable", "G4"])  # the column wins
    wb.save(tmp_path / "other.xlsx")
    out = tmp_path / "x"
    report = run_import("annex-a", tmp_path / "other.xlsx", out, private=False)
    assert report.ok, report.error
    contacts = read(out, "contacts").sort("contact_id")
    assert contacts.select("contact_id", "source", "outcome").rows() == [
        ("K-77", "2B", "referral"),
        ("K-78", "6", None),
    ]
    early = read(out, "early_help").row(0, named=True)
    assert (early["episode_id"], early["end_date"], early["outcome"]) == (
        "C2/EH/2024-01-03",
        dt.date(2024, 1, 31),
        "Stepped up to social care",
    )
    leavers = read(out, "care_leavers").sort("child_id")
    assert leavers.drop("child_id", "imported_from").rows() == [
        (dt.date(2024, 1, 31), "DIED", None, None, None),  # no contact date: as_of (the early help end)
        (dt.date(2024, 1, 5), "RHOM", "P5", "K", False),
        (dt.date(2024, 1, 6), "YES", "G4", "E", False),
    ]
    assert "care_leavers: 1 activity P3 (a code retired in 2017: training or employment) read as P5" in report.assumed
    assert "care_leavers: 1 accommodation '0' (the 903's 'nothing to record') left empty" in report.assumed
    # Lists 3-8 are not in this workbook: their tables are written (empty); a list's own table only with it.
    assert (out / "referrals.parquet").exists() and read(out, "referrals").height == 0
    assert not report.problems


def test_tables_of_lists_not_in_the_workbook_are_not_written(tmp_path):
    out = tmp_path / "x"
    run_import("annex-a", messy_workbook(tmp_path / "messy.xlsx"), out)
    assert not any((out / f"{t}.parquet").exists() for t in ("contacts", "early_help", "care_leavers"))
