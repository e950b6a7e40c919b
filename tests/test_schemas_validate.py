"""The whole validation: table statuses, broken files, the report, the CLI, read-only access."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from schemas.__main__ import main
from schemas.contract import CORE_TABLES, TABLES
from schemas.extract import SAMPLE_DATA
from schemas.validate import TABLE_STATUSES, ValidationReport, validate_path
from tiny_extract import tiny_tables, write_extract

REPO = Path(__file__).resolve().parent.parent


def extract_with(tmp_path: Path, edit=None, **kwargs) -> Path:
    tables = tiny_tables()
    if edit:
        edit(tables)
    return write_extract(tmp_path / "extract", tables, **kwargs)


def failure(report: ValidationReport, table: str, column: str):
    return [f for f in report.failures if f.table == table and f.column == column]


def test_tiny_extract_is_valid(tmp_path):
    report = validate_path(extract_with(tmp_path))
    assert report.is_valid and report.failures == [] and report.notes == []
    assert report.table_status == dict.fromkeys(TABLES, "ok")
    assert report.usable_tables == list(TABLES)
    assert report.as_of == "2026-03-31" and report.as_of_source == "manifest"


def test_corrupt_file_is_unreadable_and_the_rest_still_checked(tmp_path):
    def edit(tables):
        tables["children"] = tables["children"].with_columns(sex=pl.lit("X"))

    folder = extract_with(tmp_path, edit)
    (folder / "referrals.parquet").write_bytes(b"this is not parquet at all" * 20)
    report = validate_path(folder)
    assert report.table_status["referrals"] == "unreadable"
    assert "referrals" not in report.usable_tables
    assert report.table_status["children"] == "errors" and failure(report, "children", "sex")[0].count == 6
    assert report.table_status["teams"] == "ok"
    assert failure(report, "referrals", "(file)")[0].severity == "error"
    assert any("assessments.referral_id" in n and "referrals" in n for n in report.notes)
    assert not report.is_valid


@pytest.mark.parametrize(
    ("table", "column", "dtype"),
    [
        ("referrals", "referral_date", pl.String),
        ("visits", "visit_date", pl.Datetime),
        ("education", "suspensions", pl.Float64),
    ],
)
def test_wrong_column_type_is_wrong_structure(tmp_path, table, column, dtype):
    def edit(tables):
        tables[table] = tables[table].with_columns(pl.col(column).cast(dtype))

    report = validate_path(extract_with(tmp_path, edit))
    assert report.table_status[table] == "wrong_structure" and table not in report.usable_tables
    [f] = failure(report, table, column)
    assert f.severity == "error" and f.check.startswith("must be")
    assert report.table_status["children"] == "ok"


def test_missing_required_column_is_wrong_structure(tmp_path):
    report = validate_path(extract_with(tmp_path, lambda t: t.update(teams=t["teams"].drop("practice_model"))))
    assert report.table_status["teams"] == "wrong_structure"
    assert failure(report, "teams", "practice_model")[0].check == "required column is missing"


def test_integers_for_money_are_usable_with_a_warning(tmp_path):
    def edit(tables):
        tables["services"] = tables["services"].with_columns(pl.col("unit_cost").cast(pl.Int64))

    report = validate_path(extract_with(tmp_path, edit))
    assert report.is_valid and report.table_status["services"] == "warnings"
    assert "services" in report.usable_tables


def test_extra_columns_are_ignored(tmp_path):
    report = validate_path(extract_with(tmp_path, lambda t: t.update(teams=t["teams"].with_columns(extra=pl.lit(1)))))
    assert report.is_valid and report.table_status["teams"] == "ok"


def test_optional_table_absent_is_missing_and_still_valid(tmp_path):
    report = validate_path(extract_with(tmp_path, drop=("visits", "education")))
    assert report.is_valid
    assert report.table_status["visits"] == "missing" and report.table_status["education"] == "missing"
    assert "visits" not in report.usable_tables


def test_referenced_optional_table_absent_skips_the_rule_with_a_note(tmp_path):
    report = validate_path(extract_with(tmp_path, drop=("cp_plans",)))
    assert report.is_valid and report.table_status["cp_reviews"] == "ok"
    assert any("cp_reviews.plan_id" in n and "cp_plans" in n for n in report.notes)


def test_core_table_absent_is_an_error(tmp_path):
    report = validate_path(extract_with(tmp_path / "a", drop=("children",)))
    assert not report.is_valid and report.table_status["children"] == "missing_required"
    assert failure(report, "children", "(table)")[0].severity == "error"


def test_optional_table_absent_is_not_an_error(tmp_path):
    report = validate_path(extract_with(tmp_path, drop=("teams",)))
    assert report.is_valid and report.table_status["teams"] == "missing"
    assert report.table_status["referrals"] == "ok"  # its team_id rule is skipped, with a note
    assert any("referrals.team_id" in n for n in report.notes)


@pytest.mark.parametrize(("code", "valid", "status"), [("18A", True, "warnings"), ("8A", False, "errors")])
def test_retired_factor_code_warns_and_8a_is_an_error(tmp_path, code, valid, status):
    def edit(tables):
        tables["factors"] = tables["factors"].with_columns(
            pl.when(pl.col("factor_code") == "18C")
            .then(pl.lit(code))
            .otherwise(pl.col("factor_code"))
            .alias("factor_code")
        )

    report = validate_path(extract_with(tmp_path, edit))
    assert report.is_valid is valid and report.table_status["factors"] == status
    [f] = failure(report, "factors", "factor_code")
    assert f.count == 1 and f.examples[0]["factor_code"] == code


def test_folder_table_with_partitions_is_read(tmp_path):
    folder = extract_with(tmp_path, drop=("visits",))
    visits = tiny_tables()["visits"]
    (folder / "visits").mkdir()
    visits.head(3).write_parquet(folder / "visits" / "part-0.parquet")
    visits.tail(3).write_parquet(folder / "visits" / "part-1.parquet")
    report = validate_path(folder)
    assert report.is_valid and report.table_status["visits"] == "ok"


def test_without_manifest_as_of_is_the_latest_event(tmp_path):
    report = validate_path(extract_with(tmp_path, manifest=None))
    assert (
        report.is_valid and report.as_of_source == "latest event date" and report.as_of == "2026-03-25"
    )  # contact K11


def test_report_round_trips_through_json(tmp_path):
    def edit(tables):
        tables["workers"] = tables["workers"].with_columns(fte=pl.lit(2.0))
        tables["referrals"] = tables["referrals"].with_columns(referral_date=pl.lit(None, pl.Date))

    report = validate_path(extract_with(tmp_path, edit, drop=("cp_plans",)))
    text = json.dumps(report.to_dict())
    again = ValidationReport.from_dict(json.loads(text))
    assert again == report and again.to_dict() == report.to_dict()
    assert set(report.table_status.values()) <= set(TABLE_STATUSES)
    assert all(len(f.examples) <= 5 for f in report.failures)


def test_text_report_groups_by_table_column_and_check(tmp_path):
    report = validate_path(
        extract_with(tmp_path, lambda t: t.update(workers=t["workers"].with_columns(fte=pl.lit(0.0))))
    )
    text = report.to_text()
    assert "INVALID" in text
    assert (
        "\nworkers\n  fte\n    ERROR   must be more than 0 and at most 1: 5 rows\n        e.g. worker_id=W1, fte=0.0"
        in text
    )


def test_validation_never_changes_the_extract(tmp_path):
    folder = extract_with(tmp_path, lambda t: t.update(children=t["children"].with_columns(sex=pl.lit("X"))))
    (folder / "cp_plans.parquet").write_bytes(b"garbage")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    validate_path(folder)
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before


# --- The command line -----------------------------------------------------------------------


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "schemas", "validate", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_cli_valid_extract_exits_0_and_json_parses(tmp_path):
    result = cli("--data", str(extract_with(tmp_path)), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["is_valid"] is True


def test_cli_invalid_extract_exits_1(tmp_path):
    folder = extract_with(tmp_path, drop=("children",))
    result = cli(env={"CHILDSTAT_DATA": str(folder)})
    assert result.returncode == 1
    assert "core table is missing" in result.stdout and "Traceback" not in result.stdout + result.stderr


def make_unusable(tmp_path: Path, kind: str) -> Path:
    target = tmp_path / "x"
    target = tmp_path / "x"
    if kind == "empty folder":
        target.mkdir()
    elif kind == "file":
        target.write_text("not a folder")
    elif kind == "bad manifest":
        write_extract(target)
        (target / "manifest.json").write_text("{not json")
    elif kind == "only garbage":
        target.mkdir()
        (target / "children.parquet").write_bytes(b"garbage")
    return target


@pytest.mark.parametrize("kind", ["missing folder", "empty folder", "file"])
def test_cli_unusable_input_exits_2(tmp_path, kind):
    result = cli(str(make_unusable(tmp_path, kind)))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


@pytest.mark.parametrize("kind", ["bad manifest", "only garbage"])
def test_main_unusable_input_returns_2(tmp_path, capsys, kind):
    assert main(["validate", "--data", str(make_unusable(tmp_path, kind))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_main_valid_extract_returns_0(tmp_path, capsys):
    assert main(["validate", str(extract_with(tmp_path))]) == 0
    assert "VALID" in capsys.readouterr().out


# --- The shipped sample ---------------------------------------------------------------------


def test_shipped_sample_is_valid():
    report = validate_path(SAMPLE_DATA)
    assert report.is_valid, report.to_text()
    assert set(CORE_TABLES) <= set(report.usable_tables)
