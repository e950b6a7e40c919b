"""SSD export (tests/fixtures/ssd/export, made by make_export.py): hand-counted figures, one test per rule.

The figures are counted by hand from the story in tests/fixtures/ssd/make_export.py. Edge cases
are variants of that export made in each test (a file edited, removed, or written as Parquet).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from test_pages import PAGES, open_page

from ingest import run_import, ssd_json
from ingest.__main__ import main
from ingest.report import RunReport
from ingest.ssd_files import Record
from ingest.ssd_tables import LOCAL_COLUMNS, NOT_USED, USED
from ingest.values import NotUnderstood
from tiny_extract import write_extract

SSD = Path(__file__).parent / "fixtures" / "ssd"
EXPORT = SSD / "export"
DEFINITIONS = SSD / "definitions" / "objects"
AS_OF = dt.date(2026, 3, 10)  # the latest event in the export: a CP visit to 1011


def table(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{name}.parquet")


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("ssd") / "x"
    report = run_import("ssd", EXPORT, out, private=False)
    assert report.ok, report.error
    return out, report


def copy_export(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(EXPORT, src)
    return src


def edit(folder: Path, name: str, change) -> None:
    """Rewrite folder/name.csv with `change(rows)` applied to its rows (dicts by column)."""
    path = folder / f"{name}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    change(rows)
    columns += [c for row in rows for c in row if c not in columns]  # a column the change added
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def problems(report: RunReport) -> set[tuple[str, str, str]]:
    return {(p.where, p.column, p.issue) for p in report.problems}


# --- the export, counted by hand --------------------------------------------------------------------


def test_export_imports_with_hand_counted_figures(imported):
    out, report = imported
    mapped = {name: c.mapped for name, c in report.tables.items()}
    assert mapped == {
        "children": 12, "teams": 6, "workers": 5, "referrals": 8, "contacts": 9, "assessments": 4, "factors": 5,
        "cin_plans": 2, "section47": 3, "cp_plans": 2, "cp_reviews": 2, "visits": 10, "early_help": 2,
        "looked_after": 4, "cla_reviews": 3, "missing_episodes": 3, "care_leavers": 1, "uasc": 1,
    }  # fmt: skip
    assert report.as_of == AS_OF.isoformat()
    assert json.loads((out / "manifest.json").read_text())["imported"] == [f"ssd {AS_OF.isoformat()}"]
    assert set(report.left_out) == {"factor_codes", "services", "service_episodes", "education", "neet_status",
                                    "worker_absence"}  # fmt: skip


def test_contact_outcomes_follow_the_flags(imported):
    contacts = table(imported[0], "contacts")
    assert Counter(contacts["outcome"].to_list()) == {
        "referral": 3, "no_further_action": 1, "advice": 2, "early_help": 1, "other": 1, None: 1,
    }  # fmt: skip
    # 1008 on 2025-09-01 had both NFA and ADVICE set: advice is the more telling.
    assert contacts.filter(pl.col("contact_id") == "1008/K/2025-09-01")["outcome"].item() == "advice"
    assert contacts["source"].to_list().count("6") == 2 and contacts["team_id"].null_count() == 9


def test_visits_by_type_and_seen_alone(imported):
    visits = table(imported[0], "visits")
    assert Counter(visits["visit_type"].to_list()) == {"cin": 3, "cp": 4, "cla": 3}
    assert visits["seen_alone"].sum() == 5 and visits["seen_alone"].null_count() == 0  # not seen: not seen alone
    assert dict(visits.group_by("worker_id").len().iter_rows()) == {"W101": 3, "W102": 4, "W103": 3}


def test_factors_from_json_list_and_object(imported):
    factors = table(imported[0], "factors").sort("child_id", "factor_code")
    assert factors.select("child_id", "factor_code").rows() == [
        ("1001", "3A"), ("1001", "4B"), ("1002", "16A"), ("1002", "3B"), ("1010", "1B"),
    ]  # fmt: skip
    assert factors.filter(pl.col("child_id") == "1010")["recorded_date"].item() == dt.date(2025, 10, 20)
    assert set(factors["source"]) == {"assessment"}


def test_referrals_are_held_by_the_latest_involvement(imported):
    referrals = table(imported[0], "referrals")
    assert dict(referrals.group_by("team_id").len().iter_rows()) == {"D20": 3, "D30": 2, "D40": 2, "D10": 1}
    moved = referrals.filter(pl.col("child_id") == "1002").row(0, named=True)
    assert (moved["team_id"], moved["worker_id"]) == ("D30", "W102")  # from W101/D20 to W102/D30 on 2025-05-25
    nfa = referrals.filter(pl.col("child_id") == "1009").row(0, named=True)
    assert (nfa["team_id"], nfa["worker_id"], nfa["nfa"], nfa["closure_reason"]) == ("D10", None, True, "RC8")
    assert referrals["nfa"].sum() == 1 and referrals["primary_need"].null_count() == 1


def test_assessments_in_need_from_the_outcome(imported):
    assessments = table(imported[0], "assessments").sort("child_id")
    assert assessments["in_need"].to_list() == [True, True, True, None]  # 1010's from the JSON; 1012 open
    assert set(assessments["worker_id"]) == {"W101"}


def test_section47_conferences_and_icpc_not_required(imported):
    s47 = table(imported[0], "section47").sort("child_id")
    assert s47.select("child_id", "icpc_date", "icpc_not_required").rows() == [
        ("1002", dt.date(2025, 5, 25), False),
        ("1010", None, True),  # ended NFA without a conference
        ("1011", dt.date(2026, 2, 8), False),
    ]
    assert imported[1].tables["section47"].merged == 2  # the two conferences


def test_cp_plans_categories_and_reviews(imported):
    out = imported[0]
    plans = table(out, "cp_plans").sort("child_id")
    assert plans.select("initial_category", "latest_category").rows() == [("NEG", "NEG"), ("MUL", "MUL")]
    assert table(out, "cp_reviews")["plan_id"].to_list() == ["1002/CPP/2025-05-25"] * 2
    assert table(out, "cin_plans")["end_date"].to_list() == [None, dt.date(2026, 3, 1)]


def test_looked_after_takes_legal_status_and_placement_from_their_tables(imported):
    care = table(imported[0], "looked_after").sort("start_date")
    assert care.select("child_id", "legal_status", "placement_type", "end_date").rows() == [
        ("1006", "C2", "U6", dt.date(2024, 3, 2)),
        ("1004", "C1", "U4", dt.date(2025, 3, 1)),
        ("1005", "V2", "H5", None),
        ("1004", "C2", "K2", None),  # the status and placement of the second episode, not the first
    ]
    assert care["weekly_cost"].null_count() == 4 and care["placement_postcode"][0] == "EG19 9ZZ"


def test_cla_reviews_missing_care_leavers_uasc_and_early_help(imported):
    out, report = imported
    assert table(out, "cla_reviews").sort("review_date")["participation"].to_list() == ["PN1", "PN4", "PN1"]
    assert report.tables["cla_reviews"].dropped == {"the review was cancelled": 1}
    missing = table(out, "missing_episodes").sort("start_date")
    assert missing.select("missing_type", "return_interview_offered").rows() == [("M", True), ("A", None), ("M", False)]
    assert table(out, "care_leavers").drop("imported_from").rows() == [
        ("1006", dt.date(2026, 3, 1), "YES", "F2", "U", True)
    ]
    assert table(out, "uasc").drop("imported_from").rows() == [("1005", None)]
    early = table(out, "early_help").sort("start_date")
    assert early.select("child_id", "end_date", "outcome").rows() == [
        ("1007", dt.date(2025, 7, 31), "Outcomes met"),
        ("1010", None, None),
    ]


def test_children_teams_and_workers(imported):
    out, report = imported
    children = table(out, "children").sort("child_id")
    assert children["disability"].to_list() == [False] + [None] * 10 + [True]
    unborn = children.filter(pl.col("child_id") == "1011").row(0, named=True)
    assert (unborn["sex"], unborn["birth_date"]) == ("U", dt.date(2026, 5, 1))
    assert children.filter(pl.col("child_id") == "1012")["ethnicity"].item() == "CHNE"  # written CNHE
    teams = table(out, "teams").sort("team_id")
    assert teams["service_area"].to_list() == [
        "front_door", "assessment", "child_protection", "children_in_care", "care_leavers", "early_help",
    ]  # fmt: skip
    workers = table(out, "workers").sort("worker_id")
    assert workers.select("worker_id", "team_id", "role", "fte", "agency").rows() == [
        ("W101", "D20", "social_worker", 1.0, False),
        ("W102", "D30", "senior_practitioner", 0.8, True),
        ("W103", "D40", "social_worker", 1.0, False),
        ("W104", "D50", "other", 1.0, False),
        ("W105", "D60", "family_practitioner", 0.6, False),
    ]
    assert report.tables["workers"].dropped == {"not council staff (no staff ID) and holds no case in the export": 1}


def test_the_extract_validates(imported):
    from schemas.validate import validate_path

    result = validate_path(imported[0])
    assert result.is_valid, result.to_text()
    assert not result.warnings


def test_looked_after_children_query_answers(imported):
    done = subprocess.run(
        [sys.executable, "-m", "queries", "run", "looked_after_children", "--data", str(imported[0])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "looked_after_children\n2\n"  # 1004 and 1005 on 2026-03-10


def test_tables_not_used_are_reported_never_dropped_silently(imported):
    notes = imported[1].notes
    for name, rows in [("ssd_address", 1), ("ssd_family", 2), ("ssd_linked_identifiers", 1), ("ssd_s251_finance", 1)]:
        assert any(n.startswith(f"{name}: {rows} row(s) read, not used") for n in notes), name
    assert "ssd_immigration_status: 1 row(s) with a status other than UASC, not used" in notes
    assert any(n.startswith("ssd_cla_episodes.csv: columns not used: clae_cla_episode_ceased_reason") for n in notes)


def test_no_name_reaches_the_report_or_the_extract(imported, tmp_path):
    out, report = imported
    text = report.to_text() + json.dumps(report.to_dict())
    extract = "".join(str(table(out, name).rows()) for name in report.written)
    for name in ("Amira", "Testchild", "Fakename", "Invented", "Placeholder"):
        assert name not in text and name not in extract
    assert not re.search(r"\b10(0[1-9]|1[0-2])\b", text)  # no child ID in the report


# --- privacy and merging ----------------------------------------------------------------------------


def test_privacy_on_degrades_birth_dates_postcodes_and_names(tmp_path):
    out = tmp_path / "x"
    assert run_import("ssd", EXPORT, out).ok
    assert set(table(out, "children")["birth_date"].drop_nulls().dt.day()) == {1}
    assert table(out, "looked_after").sort("start_date")["placement_postcode"].to_list() == [
        "EG19", "EG19", "EG20", "EG21",
    ]  # fmt: skip
    assert table(out, "workers")["worker_name"].null_count() == 5


def test_privacy_off_keeps_them(imported):
    out = imported[0]
    assert table(out, "children").filter(pl.col("child_id") == "1001")["birth_date"].item() == dt.date(2015, 5, 20)
    assert table(out, "workers").sort("worker_id")["worker_name"][0] == "Ann Worker"


def test_merge_into_an_existing_extract_and_reimport_changes_nothing(tmp_path):
    out = write_extract(tmp_path / "tiny")
    assert run_import("ssd", EXPORT, out).ok
    assert table(out, "children").height == 6 + 12 and (out / "education.parquet").exists()
    assert table(out, "contacts").height == 11 + 9 and table(out, "workers").height == 5 + 5
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["la_name"] == "Tiny Test Borough" and manifest["as_of"] == "2026-03-31"
    before = {p.name: pl.read_parquet(p).sort(pl.all()) for p in out.glob("*.parquet")}
    report = run_import("ssd", EXPORT, out)
    assert report.ok and any("from an earlier import of the same source were replaced" in n for n in report.notes)
    for path in out.glob("*.parquet"):
        assert pl.read_parquet(path).sort(pl.all()).equals(before[path.name]), path.name


def test_ssd_and_903_episodes_of_a_child_merge_into_one_row(tmp_path):
    out = tmp_path / "x"
    src = tmp_path / "903"
    src.mkdir()
    (src / "episodes.csv").write_text("CHILD,DECOM,LS,PLACE,DEC\n1004,01/03/2025,C2,K2,\n")
    assert run_import("ssda903", src, out).ok
    assert run_import("ssd", EXPORT, out).ok
    care = table(out, "looked_after").filter(pl.col("child_id") == "1004")
    assert care["episode_id"].to_list().count("1004/LA/2025-03-01") == 1 and care.height == 2


def test_ssd_episodes_replace_annex_a_periods_of_care_for_the_child(tmp_path):
    out = tmp_path / "x"
    assert run_import("annex-a", SSD.parent / "annex_a" / "Annex_A.xlsx", out).ok
    src = tmp_path / "src"
    src.mkdir()
    (src / "ssd_person.csv").write_text("pers_person_id,pers_sex,pers_dob\n1761444,M,2005-01-01\n")
    (src / "ssd_cla_episodes.csv").write_text(
        "clae_person_id,clae_cla_episode_start_date,clae_cla_placement_id\n1761444,2009-08-06 00:00:00.000,P1\n"
    )
    (src / "ssd_cla_placement.csv").write_text("clap_cla_placement_id,clap_cla_placement_type\nP1,U4\n")
    report = run_import("ssd", src, out)
    care = table(out, "looked_after").filter(pl.col("child_id") == "1761444")
    assert care["imported_from"].str.starts_with("ssd ").all() and care.height == 1
    assert "looked_after: 1 Annex A care rows replaced by the children's SSD episodes" in report.notes


# --- the files: formats and their quirks --------------------------------------------------------------


def test_a_parquet_export_gives_the_same_extract(tmp_path):
    src = tmp_path / "parquet"
    src.mkdir()
    for path in EXPORT.glob("*.csv"):  # real types: datetimes, integer IDs, floats
        frame = pl.read_csv(path, try_parse_dates=True, infer_schema_length=None)
        frame.write_parquet(src / f"{path.stem}.parquet")
    assert pl.read_parquet(src / "ssd_person.parquet").schema["pers_person_id"] == pl.Int64
    from_csv, from_parquet = tmp_path / "a", tmp_path / "b"
    expected = run_import("ssd", EXPORT, from_csv)
    report = run_import("ssd", src, from_parquet)
    assert report.ok and [p.issue for p in report.problems] == [p.issue for p in expected.problems]
    assert report.problems[0].where == "ssd_cla_reviews.parquet row 3"
    for path in from_csv.glob("*.parquet"):
        assert pl.read_parquet(path).sort(pl.all()).equals(table(from_parquet, path.stem).sort(pl.all())), path.stem


def test_bom_header_case_column_order_and_extra_columns(tmp_path, imported):
    src = copy_export(tmp_path)
    path = src / "ssd_person.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = [line.split(",") for line in lines]
    order = list(reversed(range(len(rows[0]))))
    header = [rows[0][i].upper() for i in order] + ["Local_Flag"]
    body = [[r[i] for i in order] + ["x"] for r in rows[1:]]
    path.write_text("\ufeff" + "\n".join(",".join(r) for r in [header, *body]) + "\n", encoding="utf-8")
    edit(src, "ssd_contacts", lambda rs: [r.update(extra_note="z") for r in rs])
    out = tmp_path / "x"
    report = run_import("ssd", src, out, private=False)
    assert report.ok, report.error
    assert (
        table(out, "children")
        .drop("imported_from")
        .sort("child_id")
        .equals(table(imported[0], "children").drop("imported_from").sort("child_id"))
    )
    assert any(n.startswith("ssd_contacts.csv: columns not used: extra_note") for n in report.notes)


def test_datetimes_with_times_become_dates(tmp_path):
    src = copy_export(tmp_path)

    def times(rows):
        rows[0]["cont_contact_date"] = "2025-04-01T23:59:59Z"
        rows[1]["cont_contact_date"] = "02/05/2025 08:15"

    edit(src, "ssd_contacts", times)
    out = tmp_path / "x"
    assert run_import("ssd", src, out).ok
    dates = table(out, "contacts").sort("contact_date")["contact_date"].to_list()
    assert dt.date(2025, 4, 1) in dates and dt.date(2025, 5, 2) in dates
    assert table(out, "visits").filter(pl.col("visit_id") == "1001/V/2025-06-01/cin").height == 1  # 14:30:00.000


def test_bad_dates_are_reported_and_drop_only_rows_that_need_them(tmp_path):
    src = copy_export(tmp_path)
    edit(src, "ssd_contacts", lambda rows: rows[2].update(cont_contact_date="2025-02-30"))
    edit(src, "ssd_cin_episodes", lambda rows: rows[4].update(cine_close_date="soon"))
    report = run_import("ssd", src, tmp_path / "x")
    assert report.tables["contacts"].dropped == {"contact_date could not be read": 1}
    found = problems(report)
    assert ("ssd_contacts.csv line 4", "contact_date", "not a real calendar date: row dropped") in found
    assert (
        "ssd_cin_episodes.csv line 6",
        "closure_date",
        "not a date (expected YYYY-MM-DD or DD/MM/YYYY): left empty",
    ) in found
    assert report.tables["referrals"].mapped == 8


def test_bad_json_is_reported_and_the_row_kept_where_possible(tmp_path):
    src = copy_export(tmp_path)

    def contacts(rows):
        rows[0]["cont_contact_outcome_json"] = '{"NEW_REFERRAL_FLAG": "Y"'  # cut short
        rows[4]["cont_contact_outcome_json"] = '{ NEW_REFERRAL_FLAG: "", ADVICE_FLAG: "Y", TOTAL_NO_OF_OUTCOMES: , }'

    def factors(rows):
        rows[0]["cinf_assessment_factors_json"] = "['3A', '4B']"
        rows[1]["cinf_assessment_factors_json"] = '{"16A": '

    edit(src, "ssd_contacts", contacts)
    edit(src, "ssd_assessment_factors", factors)
    out = tmp_path / "x"
    report = run_import("ssd", src, out)
    contacts_out = table(out, "contacts")
    assert contacts_out.height == 9  # the contact with broken JSON is kept, its outcome empty
    assert contacts_out.filter(pl.col("contact_id") == "1001/K/2025-04-01")["outcome"].item() is None
    assert contacts_out.filter(pl.col("contact_id") == "1008/K/2025-06-10")["outcome"].item() == "advice"
    found = problems(report)
    assert ("ssd_contacts.csv line 2", "outcome", "not valid JSON: left empty") in found
    assert ("ssd_assessment_factors.csv line 2", "factor_code", "not valid JSON: read as a list of codes") in found
    assert report.tables["factors"].dropped == {
        "the factors JSON could not be read (not valid JSON, nor a list of factor codes)": 1
    }
    assert sorted(table(out, "factors")["factor_code"]) == ["1B", "3A", "4B"]
    assert not any("16A" in p.value or "NEW_REFERRAL" in p.value for p in report.problems)  # JSON text never shown


def test_unknown_codes_are_reported_as_values_not_understood(tmp_path):
    src = copy_export(tmp_path)
    edit(src, "ssd_contacts", lambda rows: rows[0].update(cont_contact_source_code="ZZ", cont_contact_source_desc=""))
    edit(src, "ssd_cin_episodes", lambda rows: rows[0].update(cine_cin_primary_need_code="N99"))
    edit(src, "ssd_cla_placement", lambda rows: rows[1].update(clap_cla_placement_type="Q9"))
    edit(src, "ssd_missing", lambda rows: rows[0].update(miss_missing_episode_type="Lost"))
    out = tmp_path / "x"
    report = run_import("ssd", src, out)
    found = problems(report)
    assert ("ssd_contacts.csv line 2", "source", "unknown code: kept as written") in found
    assert ("ssd_cin_episodes.csv line 2", "primary_need", "unknown code: left empty") in found
    assert ("ssd_cla_episodes.csv line 3", "placement_type", "unknown code: kept as written") in found
    assert ("ssd_missing.csv line 2", "missing_type", "unknown code: kept as written") in found
    assert "ZZ" in table(out, "contacts")["source"].to_list()  # validation names it as the source's error


def test_a_row_of_a_person_not_in_ssd_person_is_dropped(tmp_path):
    src = copy_export(tmp_path)
    edit(src, "ssd_contacts", lambda rows: rows[1].update(cont_person_id="9999"))
    report = run_import("ssd", src, tmp_path / "x")
    assert report.tables["contacts"].dropped == {"the person is not in ssd_person": 1}
    assert ("ssd_contacts.csv line 3", "(row)", "row dropped: the person is not in ssd_person") in problems(report)


def test_an_empty_optional_table_is_written_empty(tmp_path):
    src = copy_export(tmp_path)
    edit(src, "ssd_missing", lambda rows: rows.clear())
    (src / "ssd_care_leavers.csv").write_bytes(b"")
    out = tmp_path / "x"
    report = run_import("ssd", src, out)
    assert report.ok
    assert table(out, "missing_episodes").height == 0 and table(out, "care_leavers").height == 0
    assert report.tables["missing_episodes"].read == 0
    assert "ssd_care_leavers.csv is empty: ssd_care_leavers holds no rows" in report.notes


def test_a_missing_table_is_reported(tmp_path):
    src = copy_export(tmp_path)
    (src / "ssd_cp_plans.csv").unlink()
    report = run_import("ssd", src, tmp_path / "x")
    assert report.ok
    assert "ssd_cp_plans is not in the export: cp_plans not filled from it" in report.notes
    assert "cp_plans" in report.left_out
    assert report.tables["cp_reviews"].dropped == {"its CP plan is not in ssd_cp_plans (or was dropped)": 2}


def test_no_person_table_is_a_source_error(tmp_path):
    src = copy_export(tmp_path)
    (src / "ssd_person.csv").unlink()
    report = run_import("ssd", src, tmp_path / "x")
    assert not report.ok
    assert report.error.startswith("no ssd_person table in src: the SSD export must include ssd_person.csv")
    assert not (tmp_path / "x").exists()


def test_a_person_table_without_its_id_is_a_source_error(tmp_path):
    src = copy_export(tmp_path)
    path = src / "ssd_person.csv"
    path.write_text(path.read_text().replace("pers_person_id", "person_ref", 1))
    report = run_import("ssd", src, tmp_path / "x")
    assert report.error.startswith("ssd_person.csv is the SSD person table but lacks the column pers_person_id")


def test_a_table_without_a_key_column_is_reported_and_not_used(tmp_path):
    src = copy_export(tmp_path)
    path = src / "ssd_cin_visits.csv"
    path.write_text(path.read_text().replace("cinv_cin_visit_date", "visit_when", 1))
    report = run_import("ssd", src, tmp_path / "x")
    assert ("ssd_cin_visits.csv", "cinv_cin_visit_date", "ssd_cin_visits has no column cinv_cin_visit_date: file not used") in problems(report)  # fmt: skip
    assert report.tables["visits"].mapped == 7


def test_a_broken_csv_keeps_the_rows_before_the_break(tmp_path):
    src = copy_export(tmp_path)
    path = src / "ssd_contacts.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3] + ",surplus,values"  # line 4: more values than the header
    lines[6] = 'C06,1008,2025-09-01,3A,"HEALTH SERVICES - GP'  # line 7: a quote never closed
    path.write_text("\n".join(lines) + "\n")
    report = run_import("ssd", src, tmp_path / "x")
    assert report.ok
    assert report.tables["contacts"].mapped == 4  # lines 2, 3, 5, 6
    assert report.tables["contacts"].dropped == {"the line has 8 values; the header has 6": 1}
    broken = [p for p in report.problems if p.column == "(file)"]
    assert [(p.where, p.issue.split(" (")[0]) for p in broken] == [
        ("ssd_contacts.csv line 7", "not readable CSV from here")
    ]


def test_files_are_found_by_name_or_columns_and_others_ignored(tmp_path):
    src = copy_export(tmp_path)
    (src / "ssd_person.csv").rename(src / "LA123_SSD_Person_2024.csv")
    (src / "ssd_missing.csv").rename(src / "missing episodes.csv")
    (src / "notes.txt").write_text("exported by the SSD script")
    (src / "summary.csv").write_text("a,b\n1,2\n")
    report = run_import("ssd", src, tmp_path / "x")
    assert report.ok and report.tables["children"].mapped == 12 and report.tables["missing_episodes"].mapped == 3
    assert "missing episodes.csv was recognised as ssd_missing by its columns" in report.notes
    assert "not SSD tables, not used: notes.txt; summary.csv (columns a, b)" in report.notes


def test_a_parquet_file_packed_to_exhaust_memory_is_refused(tmp_path):
    from ingest import safe_files

    src = copy_export(tmp_path)
    pl.DataFrame({"miss_person_id": ["1004"] * 2_000_000, "miss_missing_episode_start_date": ["2025-01-01"] * 2_000_000}).write_parquet(src / "ssd_missing.parquet")  # fmt: skip
    (src / "ssd_missing.csv").unlink()
    assert (src / "ssd_missing.parquet").stat().st_size < 100_000
    safe_files.use_limits(max_uncompressed_mb=10, max_compression_ratio=100)
    try:
        report = run_import("ssd", src, tmp_path / "x")
    finally:
        safe_files._given.clear()
    assert report.error.startswith("ssd_missing.parquet was refused for safety: its 2,000,000 rows would unpack to")
    assert not (tmp_path / "x").exists()


# --- declarations, JSON rules, the command line and the Import page -----------------------------------


def definition_fields(name: str) -> list[str]:
    """Field names of an SSD table from its copied definition (the `  - name:` lines: no YAML parser needed)."""
    return re.findall(r"^  - name: (\w+)\s*$", (DEFINITIONS / f"{name}.yml").read_text(), re.MULTILINE)


def test_every_column_read_is_in_the_ssd_definitions():
    for name, use in USED.items():
        known = definition_fields(name)
        assert known, name
        assert set(use.reads) <= set(known), (name, set(use.reads) - set(known))
        assert set(use.required) <= set(use.reads), name
        assert not set(LOCAL_COLUMNS.get(name, ())) & set(known), name  # a local column is not an SSD field
    assert not set(USED) & set(NOT_USED)


def test_reading_an_undeclared_column_is_refused():
    rec = Record("ssd_person", "x line 2", {"pers_forename": "A"})
    with pytest.raises(KeyError, match="ssd_person.pers_forename is read but not declared"):
        rec["pers_forename"]


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ('{"NFA_FLAG": "Y", "NEW_REFERRAL_FLAG": "Y"}', "referral"),
        ('{"CP_ENQUIRY_FLAG": "1", "ADVICE_FLAG": "Y"}', "referral"),
        ('{"EH_REFERRAL_FLAG": "Y", "ADVICE_FLAG": "Y"}', "early_help"),
        ('{"STEP_DOWN_EH_FLAG": "Yes"}', "early_help"),
        ('{"ADVICE_FLAG": "Y", "NFA_FLAG": "Y"}', "advice"),
        ('{"NFA_FLAG": true}', "no_further_action"),
        ('{"MISSING_FLAG": "Y", "NFA_FLAG": "N"}', "other"),
        ('{"NFA_FLAG": "", "ADVICE_FLAG": "N"}', None),
        ("Information and Advice", "advice"),
        ("CIN Referral", "referral"),
        ("", None),
    ],
)
def test_contact_outcome_precedence(value, outcome):
    assert ssd_json.contact_outcome(value)[0] == outcome


def test_contact_outcome_not_understood():
    for value in ("maybe", '{"NFA_FLAG": "perhaps"}', "[1, 2]"):
        with pytest.raises(NotUnderstood):
            ssd_json.contact_outcome(value)


def test_factor_codes_in_every_shape():
    assert ssd_json.factor_codes('["1A", "2B"]') == (["1A", "2B"], False)
    assert ssd_json.factor_codes('{"1A": "Yes", "2B": "No"}') == (["1A"], False)
    assert ssd_json.factor_codes("['1A', '2B']") == (["1A", "2B"], True)
    assert ssd_json.factor_codes("1A; 21") == (["1A", "21"], True)
    assert ssd_json.factor_codes("") == (None, False)
    with pytest.raises(NotUnderstood):
        ssd_json.factor_codes("neglect and more")


def test_command_line(tmp_path, capsys):
    assert main(["ssd", str(EXPORT), "--out", str(tmp_path / "x")]) == 0
    shown = capsys.readouterr().out
    assert "Import of export (ssd)" in shown and "VALID" in shown
    assert main(["ssd", str(tmp_path / "nowhere"), "--out", str(tmp_path / "y")]) == 2


def test_import_page_imports_ssd_files(tmp_path, monkeypatch):
    import tempfile

    from pages.import_data import import_files

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    uploads = [("ssd", p.name, p.read_bytes()) for p in sorted(EXPORT.glob("*.csv"))]
    result = import_files(uploads, private=True)
    [report] = result["reports"]
    assert report["error"] is None and report["source_format"] == "ssd"
    assert report["tables"]["contacts"]["mapped"] == 9
    assert result["validation"]["is_valid"] and result["zip"]
    assert list(temp.iterdir()) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_page_renders_on_an_ssd_extract(page, imported, monkeypatch):
    at = open_page(page, imported[0], monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
