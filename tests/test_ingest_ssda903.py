"""SSDA903 CSVs: the public sample folder, files recognised by columns, and wrong files.

The sample's reviews run to 2030, so its as_of (the latest event that is not in the future)
depends on the day the tests run; `pinned_today` fixes "today" at 2026-12-01, which makes it
2026-11-11, the sample's last review before then.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

from ingest import run_import, ssda903
from schemas.validate import validate_path

FIXTURES = Path(__file__).parent / "fixtures" / "ssda903"
TODAY = dt.date(2026, 12, 1)
SAMPLE_AS_OF = dt.date(2026, 11, 11)  # the last review in reviews.csv on or before TODAY


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setattr(ssda903, "today", lambda: TODAY)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample folder imported once, with privacy off: (extract folder, report)."""
    out = tmp_path_factory.mktemp("sample") / "x"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ssda903, "today", lambda: TODAY)
        report = run_import("ssda903", FIXTURES, out, private=False)
    assert report.ok, report.error
    return out, report


def test_sample_folder(sample):
    out, report = sample
    assert report.tables["children"].mapped == 2675 and report.tables["looked_after"].mapped == 5050
    assert report.as_of == SAMPLE_AS_OF.isoformat()
    assert {(p.where, p.column, p.value) for p in report.problems if p.table == "care_leavers"} == {
        ("oc3.csv line 2", "accommodation", "01"),  # no such code: "0" is "nothing to record"
        ("oc3.csv line 47", "accommodation", "02"),
    }
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
    assert "contacts" in report.left_out and "cla_reviews" not in report.left_out
    assert sorted(n for n in report.notes if "read but not used" in n) == [
        f"903 {t} table read but not used: the contract has no table for it"
        for t in ("ad1", "oc2", "placed_for_adoption", "previous_permanence")
    ]


def test_sample_reviews_missing_uasc_and_care_leavers(sample):
    out, report = sample
    # reviews.csv: 12,582 rows, 14 of them a second row for the same child and date.
    assert (report.tables["cla_reviews"].read, report.tables["cla_reviews"].mapped) == (12582, 12568)
    assert report.tables["cla_reviews"].dropped == {"the same row (same key) twice in the source": 14}
    reviews = pl.read_parquet(out / "cla_reviews.parquet")
    first = reviews.filter(pl.col("child_id") == "566910").sort("review_date")
    assert first.select("review_date", "participation").rows() == [
        (dt.date(2017, 8, 30), "PN6"), (dt.date(2018, 7, 29), "PN6"), (dt.date(2018, 10, 8), "PN4")
    ]  # fmt: skip
    assert dict(reviews["participation"].value_counts().iter_rows())["PN4"] == 1645
    # missing.csv: 43 episodes, 24 away (A) and 19 missing (M); the 903 has no return interview.
    missing = pl.read_parquet(out / "missing_episodes.parquet")
    assert missing.height == 43 and dict(missing["missing_type"].value_counts().iter_rows()) == {"A": 24, "M": 19}
    row = missing.filter(pl.col("child_id") == "510000").row(0, named=True)
    assert (row["start_date"], row["end_date"]) == (dt.date(2017, 11, 13), dt.date(2017, 11, 25))
    assert missing["return_interview_offered"].null_count() == 43
    # uasc.csv: 132 children; 52 DUCs after as_of (the 18th birthday, recorded ahead) are left empty.
    uasc = pl.read_parquet(out / "uasc.parquet")
    assert uasc.height == 132 and uasc["ceased_date"].null_count() == 52
    ceased = dict(uasc.select("child_id", "ceased_date").iter_rows())
    assert ceased["102639"] is None and ceased["116056"] == dt.date(2021, 11, 11)
    assert any(a.startswith("uasc: 52 dates UASC ceased (DUC) after as_of") for a in report.assumed)
    # oc3.csv: 53 care leavers; ACCOM "T2" is T, not suitable; F3/P3 read as F5/P5; "0" left empty.
    leavers = pl.read_parquet(out / "care_leavers.parquet")
    assert leavers.height == 53 and set(leavers["recorded_date"]) == {SAMPLE_AS_OF}
    assert dict(leavers["in_touch"].value_counts().iter_rows()) == {
        "DIED": 13, "YES": 13, "RHOM": 8, "NREQ": 8, "REFU": 8, "NO": 3
    }  # fmt: skip
    by_child = {r["child_id"]: r for r in leavers.iter_rows(named=True)}
    assert [by_child["864948"][c] for c in ("activity", "accommodation", "accommodation_suitable")] == [
        "P5",
        "T",
        False,
    ]
    assert [by_child["880820"][c] for c in ("activity", "accommodation", "accommodation_suitable")] == ["F1", "K", True]
    assert [by_child["197474"][c] for c in ("activity", "accommodation", "accommodation_suitable")] == [
        "F1",
        None,
        None,
    ]
    activity = dict(leavers["activity"].value_counts().iter_rows())
    assert (activity["F5"], activity["P5"], activity[None]) == (7, 5, 4)
    assert {
        "care_leavers: 7 activity F3 (a code retired in 2017: training or employment) read as F5",
        "care_leavers: 5 activity P3 (a code retired in 2017: training or employment) read as P5",
        "care_leavers: 4 activity '0' (the 903's 'nothing to record') left empty",
        "care_leavers: OC3 rows are recorded on the return's as_of (its latest event date), 2026-11-11",
    } <= set(report.assumed)


def test_sample_validates_but_for_what_903_cannot_hold(sample):
    errors = {(f.table, f.column, f.check, f.count) for f in validate_path(sample[0]).errors}
    # Only `children` is core (format 1.1): a 903-only extract lacks no required table. The only
    # error is the sample's own: 68 reviews dated after its last event on or before today (up to 2030).
    assert errors == {("cla_reviews", "review_date", "must not be after the extract's as_of date", 68)}


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


def test_new_903_tables_with_messy_values(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "header.csv").write_text("CHILD,SEX,DOB,ETHNIC\n1,1,01/01/2005,WBRI\n2,2,02/02/2006,WBRI\n")
    (src / "reviews.csv").write_text("CHILD,DOB,REVIEW,REVIEW_CODE\n1,,01/03/2023,PN1\n1,,02/03/2023,PN9\n2,,,PN2\n")
    (src / "missing.csv").write_text(
        "CHILD,DOB,MISSING,MIS_START,MIS_END\n1,,M,01/02/2023,\n1,,Away,05/02/2023,06/02/2023\n2,,X,03/02/2023,\n"
    )
    (src / "uasc.csv").write_text("CHILD,SEX,DOB,DUC\n1,1,01/01/2005,\n2,2,02/02/2006,31/02/2023\n")
    (src / "oc3.csv").write_text("CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\n1,,yes,F5,Z1\n2,,MAYBE,F9,Q1\n")
    out = tmp_path / "x"
    report = run_import("ssda903", src, out, private=False)
    assert report.ok, report.error
    reviews = pl.read_parquet(out / "cla_reviews.parquet").sort("review_date")
    assert reviews.select("review_date", "participation").rows() == [
        (dt.date(2023, 3, 1), "PN1"), (dt.date(2023, 3, 2), None)
    ]  # fmt: skip
    assert report.tables["cla_reviews"].dropped == {"no review_date": 1}
    missing = pl.read_parquet(out / "missing_episodes.parquet").sort("start_date")
    assert missing["missing_type"].to_list() == ["M", "X", "A"]  # "Away" is A; X kept for validation to name
    assert pl.read_parquet(out / "uasc.parquet")["ceased_date"].to_list() == [None, None]
    leavers = pl.read_parquet(out / "care_leavers.parquet").sort("child_id")
    assert leavers.drop("imported_from").rows() == [
        ("1", dt.date(2023, 3, 2), "YES", "F5", "Z", True),
        ("2", dt.date(2023, 3, 2), "MAYBE", None, None, None),
    ]
    assert {(p.where, p.column, p.value, p.issue) for p in report.problems} == {
        ("reviews.csv line 3", "participation", "PN9", "unknown code: left empty"),
        ("reviews.csv line 4", "(row)", "", "row dropped: no review_date"),
        ("missing.csv line 4", "missing_type", "X", "unknown code: kept as written"),
        ("uasc.csv line 3", "ceased_date", "31/02/2023", "not a real calendar date: left empty"),
        ("oc3.csv line 3", "in_touch", "MAYBE", "unknown code: kept as written"),
        ("oc3.csv line 3", "activity", "F9", "unknown code: left empty"),
        ("oc3.csv line 3", "accommodation", "Q1", "unknown code: left empty"),
    }


def test_collection_year_from_the_file_names(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "SSDA903_2022-23_header.csv").write_text("CHILD,SEX,DOB,ETHNIC\n1,1,01/01/2005,WBRI\n")
    (src / "SSDA903_2022-23_episodes.csv").write_text("CHILD,DECOM,LS,PLACE,DEC\n1,01/06/2022,C2,U4,\n")
    (src / "SSDA903_2022-23_OC3.csv").write_text("CHILD,DOB,IN_TOUCH,ACTIV,ACCOM\n1,,YES,G5,U1\n")
    out = tmp_path / "x"
    report = run_import("ssda903", src, out, private=False)
    assert report.as_of == "2023-03-31"  # the year's end, not the last episode (2022-06-01)
    assert pl.read_parquet(out / "care_leavers.parquet")["recorded_date"].to_list() == [dt.date(2023, 3, 31)]
    assert "care_leavers: OC3 rows are recorded on the end of the collection year, 2023-03-31" in report.assumed


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["header_2024.csv", "episodes_2024.csv"], dt.date(2024, 3, 31)),
        (["SSDA903_2023_24_Header.csv"], dt.date(2024, 3, 31)),
        (["903 202324 header.csv"], dt.date(2024, 3, 31)),
        (["header.csv", "SSDA903_episodes.csv"], None),
        (["header_2023.csv", "episodes_2024.csv"], None),  # two years: not guessed
        (["header_20240331.csv"], None),  # a date, not a year
        (["header_2027.csv"], None),  # a year that has not ended
        (["SSDA903_header.csv"], None),  # "903" is not a year
    ],
)
def test_collection_year_end(names, expected):
    from ingest.report import RunReport

    assert ssda903.collection_year_end([Path(n) for n in names], RunReport("ssda903", "x")) == expected
