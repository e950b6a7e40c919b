"""SSDA903 CSVs: the public sample folder, files recognised by columns, and wrong files."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl

from ingest import run_import
from schemas.validate import validate_path

FIXTURES = Path(__file__).parent / "fixtures" / "ssda903"


def test_sample_folder(tmp_path):
    out = tmp_path / "x"
    report = run_import("ssda903", FIXTURES, out, private=False)
    assert report.ok, report.error
    assert report.tables["children"].mapped == 2675 and report.tables["looked_after"].mapped == 5050
    assert not report.problems
    children = pl.read_parquet(out / "children.parquet")
    assert children["child_id"].dtype == pl.String and "566910" in children["child_id"].to_list()
    first = children.filter(pl.col("child_id") == "566910").row(0, named=True)
    assert (first["sex"], first["birth_date"], first["ethnicity"]) == ("F", dt.date(2008, 3, 27), "WROM")
    episodes = pl.read_parquet(out / "looked_after.parquet").filter(pl.col("child_id") == "566910").sort("start_date")
    assert episodes["start_date"][0] == dt.date(2016, 2, 15) and episodes["end_date"][0] == dt.date(2017, 8, 14)
    assert episodes["legal_status"][0] == "C2" and episodes["placement_type"][0] == "T2"
    assert episodes["placement_postcode"][1] == "WV27 9FW"  # privacy off: kept whole
    assert pl.read_parquet(out / "workers.parquet")["worker_id"].to_list() == ["SW999"]
    assert "referrals" in report.left_out and "assessments" in report.left_out
    assert any("reviews table read but not used" in n for n in report.notes)


def test_sample_validates_but_for_what_903_cannot_hold(tmp_path):
    run_import("ssda903", FIXTURES, tmp_path / "x")
    errors = {(f.table, f.check) for f in validate_path(tmp_path / "x").errors}
    # Only `children` is core (format 1.1): a 903-only extract lacks no required table.
    # sw_episodes.csv is from another fixture set: its worker starts after the episodes end.
    assert errors == {("workers", "must not be after the extract's as_of date")}


def test_privacy_degrades_birth_dates_and_postcodes(tmp_path):
    out = tmp_path / "x"
    run_import("ssda903", FIXTURES, out)
    children = pl.read_parquet(out / "children.parquet")
    assert children["birth_date"].dt.day().unique().to_list() == [1]
    postcodes = pl.read_parquet(out / "looked_after.parquet")["placement_postcode"].drop_nulls()
    assert postcodes.len() > 0 and not postcodes.str.contains(" ").any()  # "WV27 9FW" -> "WV27"


def test_files_are_recognised_by_columns_with_messy_values(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "SSDA903_Header_2024.csv").write_text(
        "\ufeffchild,SEX,DOB,ETHNIC,UPN\n12345,1,05/06/2010,WBRI,\n\n ,,,,\n1234.0,2,2011-01-02,ZZZZ,\n777,3,31/02/2012,,\n",
        encoding="utf-8",
    )
    (src / "Episodes 2024.csv").write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,DEC\n12345,01/04/2023,S,C2,N1,U4,\n12345,,S,C2,N1,U4,\n1234,02/04/2023,S,Q9,N1,Q1,\n"
    )
    (src / "notes.csv").write_text("a,b\n1,2\n")
    out = tmp_path / "x"
    report = run_import("ssda903", src, out, private=False)
    assert report.ok, report.error
    children = pl.read_parquet(out / "children.parquet").sort("child_id")
    assert children["child_id"].to_list() == ["1234", "12345", "777"]
    assert children["sex"].to_list() == ["F", "M", "U"]
    problems = {(p.where, p.column, p.value) for p in report.problems}
    assert ("SSDA903_Header_2024.csv line 5", "ethnicity", "ZZZZ") in problems
    assert ("SSDA903_Header_2024.csv line 6", "sex", "3") in problems
    assert ("SSDA903_Header_2024.csv line 6", "birth_date", "31/02/2012") in problems
    assert report.tables["looked_after"].dropped == {"no start_date": 1}
    episodes = pl.read_parquet(out / "looked_after.parquet").sort("child_id")
    assert episodes["legal_status"].to_list() == ["Q9", "C2"]  # unknown code kept; validation names it
    assert any("notes.csv" in n for n in report.notes)


def test_csv_with_the_wrong_columns_is_a_clear_error(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "episodes.csv").write_text("CHILD,START,END\n1,01/01/2020,\n")
    report = run_import("ssda903", src, tmp_path / "x")
    assert not report.ok
    assert "episodes.csv looks like the SSDA903 episodes table but lacks the columns DECOM, LS, PLACE" in report.error


def test_folder_without_903_tables_is_a_clear_error(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(FIXTURES / "oc3.csv", src / "oc3.csv")
    report = run_import("ssda903", src, tmp_path / "x")
    assert not report.ok and "no SSDA903 header or episodes table" in report.error
