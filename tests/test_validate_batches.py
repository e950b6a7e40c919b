"""Validation a batch at a time: the same report as one pass over every row; the report cache."""

from __future__ import annotations

import json
import os

import duckdb
import polars as pl
import pytest

import schemas.validate as validate
from schemas.__main__ import main
from schemas.extract import open_extract
from schemas.rules.base import RuleContext
from schemas.rules.keys import KeyHashes, key_failure
from schemas.rules.table_schema import BatchChecker, check_rows, key_checks
from schemas.validate import ValidationReport, cached_report, validate_extract
from tiny_extract import AS_OF, tiny_tables, write_extract

CTX = RuleContext(AS_OF, frozenset({"LA01", "LA02"}))


def set_rows(frame: pl.DataFrame, column: str, rows: list[int], value) -> pl.DataFrame:
    """The frame with `column` set to `value` on the given row numbers."""
    hit = pl.int_range(pl.len()).is_in(rows)
    return frame.with_columns(
        pl.when(hit).then(pl.lit(value, frame.schema[column])).otherwise(pl.col(column)).alias(column)
    )


def planted() -> dict[str, pl.DataFrame]:
    """The tiny tables with errors spread over many rows, so that they fall in different batches."""
    tables = tiny_tables()
    children = pl.concat([tiny_tables()["children"]] * 3).with_columns(
        child_id=pl.format("C{}", pl.int_range(pl.len()) + 1)
    )
    children = set_rows(children, "sex", [1, 4, 8, 9, 12, 13, 17], "X")  # 7 rows, across batches
    children = set_rows(children, "child_id", [16], "C3")  # repeats row 2's id, in another batch
    tables["children"] = children
    workers = set_rows(tables["workers"], "fte", [0], float("nan"))  # NaN counts as missing
    tables["workers"] = set_rows(workers, "fte", [3], 2.0)
    factors = tables["factors"]
    tables["factors"] = pl.concat([factors, factors.slice(6, 1), factors.filter(pl.col("referral_id").is_null())])
    return tables


@pytest.fixture
def planted_dir(tmp_path):
    return write_extract(tmp_path / "planted", planted())


def of(report: ValidationReport, table: str, column: str):
    return [f for f in report.failures if f.table == table and f.column == column]


@pytest.mark.parametrize("batch_rows", [1, 2, 5])
def test_small_batches_give_the_same_report_as_one_batch(planted_dir, batch_rows):
    whole = validate_extract(open_extract(planted_dir))
    assert validate_extract(open_extract(planted_dir), batch_rows=batch_rows) == whole

    [sex] = of(whole, "children", "sex")
    assert sex.count == 7
    assert [e["child_id"] for e in sex.examples] == ["C2", "C5", "C9", "C10", "C13"]  # the first five, in file order
    assert [(f.check, f.count) for f in of(whole, "workers", "fte")] == [
        ("must not be missing", 1),
        ("must be more than 0 and at most 1", 2),  # NaN is not in range either
    ]


def test_repeated_keys_are_found_across_batches(planted_dir):
    report = validate_extract(open_extract(planted_dir), batch_rows=2)
    [child_id] = of(report, "children", "child_id")
    assert (child_id.check, child_id.count, child_id.examples) == ("must be unique", 2, [{"child_id": "C3"}] * 2)
    [factors] = of(report, "factors", "child_id+referral_id+factor_code+source")
    assert factors.check == "must be unique together" and factors.count == 4  # C5 24A twice; C2 10A with no referral
    assert [e["factor_code"] for e in factors.examples] == ["10A", "24A", "24A", "10A"]  # in file order
    assert factors.examples[0] == {
        "child_id": "C2",
        "referral_id": None,
        "factor_code": "10A",
        "source": "case_file",
    }


def test_repeated_key_in_another_part_file(tmp_path):
    folder = write_extract(tmp_path / "parts", drop=("visits",))
    visits = tiny_tables()["visits"]
    (folder / "visits").mkdir()
    visits.write_parquet(folder / "visits" / "part-0.parquet")
    visits.slice(4, 1).write_parquet(folder / "visits" / "part-1.parquet")  # V5 again
    report = validate_extract(open_extract(folder), batch_rows=3)
    [failure] = of(report, "visits", "visit_id")
    assert (failure.count, failure.examples) == (2, [{"visit_id": "V5"}, {"visit_id": "V5"}])
    assert report.table_status["visits"] == "errors"


@pytest.mark.parametrize("table", ["children", "factors", "workers", "education"])
def test_batch_checker_and_key_check_match_pandera_on_the_whole_frame(table):
    frame = planted()[table]
    frame = pl.concat([frame, frame.head(2)])  # repeated keys too
    checker = BatchChecker(table, frame.columns, CTX)
    keys = [KeyHashes(k) for k in key_checks(table, frame.columns)]
    for part in frame.iter_slices(3):
        checker.check(part)
        for key in keys:
            key.add(part)
    con = duckdb.connect()
    con.register("rows", frame)
    found = [key_failure(con, "rows", table, k.check) for k in keys if k.may_repeat()]
    assert checker.failures([f for f in found if f is not None]) == check_rows(table, frame, CTX)
    assert any(f.check.startswith("must be unique") for f in check_rows(table, frame, CTX))


def test_unique_keys_are_not_queried_when_every_hash_differs():
    [check] = key_checks("children", ["child_id", "sex"])
    hashes = KeyHashes(check)
    hashes.add(tiny_tables()["children"])
    assert not hashes.may_repeat()
    hashes.add(tiny_tables()["children"])
    hashes.add(tiny_tables()["children"].head(1))
    assert hashes.may_repeat()


def test_rows_that_cannot_be_read_make_the_table_unreadable(tmp_path):
    folder = write_extract(tmp_path / "x")
    visits = pl.concat([tiny_tables()["visits"]] * 2000)
    path = folder / "visits.parquet"
    visits.write_parquet(path, compression="snappy", row_group_size=1000)
    data = bytearray(path.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 200] = b"U" * 200  # the metadata (at the end) still reads
    path.write_bytes(bytes(data))
    assert duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
    with pytest.raises(duckdb.Error) as copying:  # what copying the rows into DuckDB used to meet
        duckdb.connect().execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{path}')")
    report = validate_extract(open_extract(folder), batch_rows=500)
    assert report.table_status["visits"] == "unreadable"
    [failure] = of(report, "visits", "(file)")
    assert failure.check == "must be a readable Parquet file"
    assert failure.examples == [{"error": str(copying.value).strip().splitlines()[0]}]
    assert report.table_status["children"] == "ok" and report.table_status["workers"] == "ok"


# --- The report cache ---------------------------------------------------------------------------


def files_and_times(folder):
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("CHILDSTAT_CACHE", str(folder))
    monkeypatch.setattr(validate, "CACHE_MIN_BYTES", 0)  # the tiny extracts count as large here
    return folder


@pytest.fixture
def runs(monkeypatch):
    """How many times the extract was really validated."""
    calls = []
    real = validate._validate

    def counted(*args, **kwargs):
        calls.append(args[0].path)
        return real(*args, **kwargs)

    monkeypatch.setattr(validate, "_validate", counted)
    return calls


def test_cache_miss_then_hit_gives_the_same_report(planted_dir, cache_dir, runs):
    before = files_and_times(planted_dir)
    first = cached_report(open_extract(planted_dir))
    assert len(runs) == 1
    [saved] = cache_dir.glob("validation-*.json")
    assert json.loads(saved.read_text())["report"] == first.to_dict()

    again = validate_extract(open_extract(planted_dir), cache=True)
    assert len(runs) == 1 and again == first
    assert again == validate_extract(open_extract(planted_dir))  # and the same as validating afresh
    assert files_and_times(planted_dir) == before  # nothing written into or touched in the extract


def test_cache_is_invalidated_when_a_file_changes(planted_dir, cache_dir, runs):
    first = cached_report(open_extract(planted_dir))
    assert len(of(first, "children", "sex")) == 1
    children = pl.read_parquet(planted_dir / "children.parquet").with_columns(sex=pl.lit("F"))
    children.write_parquet(planted_dir / "children.parquet")
    os.utime(planted_dir / "children.parquet", ns=(1, 1))
    second = cached_report(open_extract(planted_dir))
    assert len(runs) == 2 and of(second, "children", "sex") == []
    assert len(list(cache_dir.glob("validation-*.json"))) == 1  # the older version is removed

    (planted_dir / "visits.parquet").unlink()  # a table gone: a new version too
    third = cached_report(open_extract(planted_dir))
    assert len(runs) == 3 and third.table_status["visits"] == "missing"


def test_small_extract_is_validated_afresh_without_a_cache_file(planted_dir, cache_dir, monkeypatch, runs):
    monkeypatch.setattr(validate, "CACHE_MIN_BYTES", 10**9)
    assert cached_report(open_extract(planted_dir)) == cached_report(open_extract(planted_dir))
    assert len(runs) == 2 and not cache_dir.exists()


def test_cache_folder_inside_the_extract_is_never_used(planted_dir, monkeypatch, runs):
    monkeypatch.setenv("CHILDSTAT_CACHE", str(planted_dir / "cache"))
    monkeypatch.setattr(validate, "CACHE_MIN_BYTES", 0)
    before = files_and_times(planted_dir)
    report = cached_report(open_extract(planted_dir))
    cached_report(open_extract(planted_dir))
    assert len(runs) == 2 and not report.is_valid
    assert files_and_times(planted_dir) == before


def test_unreadable_cache_file_is_replaced(planted_dir, cache_dir, runs):
    cached_report(open_extract(planted_dir))
    [saved] = cache_dir.glob("validation-*.json")
    saved.write_text("{not json")
    report = cached_report(open_extract(planted_dir))
    assert len(runs) == 2 and json.loads(saved.read_text())["report"] == report.to_dict()


def test_cli_validates_afresh_unless_asked_to_use_the_cache(planted_dir, cache_dir, runs, capsys):
    assert main(["validate", str(planted_dir)]) == 1
    assert main(["validate", str(planted_dir)]) == 1
    assert len(runs) == 2 and not cache_dir.exists()
    assert main(["validate", str(planted_dir), "--cache"]) == 1
    capsys.readouterr()
    assert main(["validate", str(planted_dir), "--cache", "--format", "json"]) == 1
    assert len(runs) == 3 and len(list(cache_dir.glob("validation-*.json"))) == 1
    assert json.loads(capsys.readouterr().out)["failures"][0]["table"] == "children"
