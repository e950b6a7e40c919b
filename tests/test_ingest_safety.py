"""Files built to attack an import are refused before they can use much memory or time.

Workbooks (zips) are checked from their central directory before openpyxl unpacks anything;
XML inside a workbook is parsed with DTDs and entities forbidden. The CIN census XML cases are
in test_ingest_cin.py, the Import page's limits in test_ingest_app.py.
"""

from __future__ import annotations

import time
import zipfile
import zlib
from pathlib import Path

import pytest
from zip_bombs import MB, SAMPLE, flushed, workbook_bomb, write_zip

from ingest import run_import
from ingest.__main__ import main as ingest_main
from ingest.safe_files import MAX_MEMBERS, UnsafeFileError, check_zip


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """The issue's attack: a ~420 KB workbook whose shared strings unpack to 400 MB."""
    return workbook_bomb(tmp_path_factory.mktemp("bomb") / "Annex_A_bomb.xlsx", unpacked_mb=400)


@pytest.fixture(scope="module")
def small_bomb(tmp_path_factory) -> Path:
    """16 MB of shared strings: under the size limit, but packed 1,000 times."""
    return workbook_bomb(tmp_path_factory.mktemp("small") / "packed.xlsx", unpacked_mb=16)


def test_the_bomb_is_a_real_workbook(bomb, small_bomb):
    assert bomb.stat().st_size < 450 * 1024
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo("xl/sharedStrings.xml")
        assert info.file_size > 400 * MB and info.file_size / info.compress_size > 1000
        with zf.open(info) as part:
            start = part.read(MB)
        assert start.startswith(b"<?xml") and start.endswith(b"A" * 1000)
    # Allowed past the checks, openpyxl unpacks the small one as it opens it, and holds its 16 MB string.
    import openpyxl

    check_zip(small_bomb, max_uncompressed_mb=1000, max_ratio=5000)
    wb = openpyxl.load_workbook(small_bomb, read_only=True)
    try:
        strings = wb.worksheets[0]._shared_strings
        assert len(strings) == 1 and len(strings[0]) == 16 * MB
    finally:
        wb.close()


def test_a_workbook_bomb_is_refused_before_openpyxl_opens_it(bomb, tmp_path, monkeypatch):
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("openpyxl was asked to open the bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    started = time.perf_counter()
    report = run_import("annex-a", bomb, tmp_path / "x")
    assert time.perf_counter() - started < 1.0
    assert not report.ok
    assert report.error == (
        "Annex_A_bomb.xlsx was refused for safety: it would unpack to 400 MB, more than the 300 MB an import may "
        "unpack (setting max_uncompressed_mb). Nothing was imported."
    )
    assert not (tmp_path / "x").exists()


def test_the_command_line_refuses_the_bomb(bomb, tmp_path, capsys):
    assert ingest_main(["annex-a", str(bomb), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "Annex_A_bomb.xlsx was refused for safety" in err and "max_uncompressed_mb" in err
    assert "Traceback" not in err and not (tmp_path / "x").exists()


def test_a_part_packed_too_tightly_is_refused(small_bomb, tmp_path):
    report = run_import("annex-a", small_bomb, tmp_path / "x")
    assert not report.ok
    assert report.error.startswith(
        "packed.xlsx was refused for safety: its part xl/sharedStrings.xml unpacks to 1,0"
    )  # about 1,028 times
    assert "more than the 100 times allowed (setting max_compression_ratio)" in report.error
    assert not (tmp_path / "x").exists()


def test_small_parts_and_real_workbooks_pass(tmp_path):
    check_zip(SAMPLE)  # every part of the sample workbook compresses 2-8 times
    with zipfile.ZipFile(SAMPLE) as zf:
        assert max(i.file_size / i.compress_size for i in zf.infolist()) < 10
    # A part under the 1 MB floor may compress far more than the ratio: tiny parts do.
    tiny = b"A" * (MB - 1)
    write_zip(tmp_path / "tiny.xlsx", [("xl/tiny.xml", flushed(tiny, finish=True), zlib.crc32(tiny), len(tiny))])
    with zipfile.ZipFile(tmp_path / "tiny.xlsx") as zf:
        assert zf.infolist()[0].file_size / zf.infolist()[0].compress_size > 1000
    check_zip(tmp_path / "tiny.xlsx")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    (tmp_path / "fake.xlsx").write_text("child,date\n1,2\n")
    with pytest.raises(UnsafeFileError) as refused:
        check_zip(tmp_path / "fake.xlsx")
    assert str(refused.value) == (
        "fake.xlsx is not an Excel workbook (.xlsx): an .xlsx is a zip file, and this is not one. Nothing was imported."
    )


def test_compression_excel_never_uses_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "bz.xlsx", "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnsafeFileError, match="its part xl/workbook.xml is compressed in a way Excel never uses"):
        check_zip(tmp_path / "bz.xlsx")


def test_a_zip_of_too_many_parts_is_refused(tmp_path):
    empty = (flushed(b"", finish=True), 0, 0)
    write_zip(tmp_path / "many.xlsx", [(f"x/{i}", *empty) for i in range(MAX_MEMBERS + 1)])
    with pytest.raises(UnsafeFileError, match="it holds 10,001 parts, and a workbook has at most 10,000"):
        check_zip(tmp_path / "many.xlsx")


def test_entities_inside_a_workbook_are_refused(tmp_path):
    """openpyxl reads each part with defusedxml (installed with ChildStat): an entity stops it."""
    hostile = tmp_path / "entities.xlsx"
    with zipfile.ZipFile(SAMPLE) as src, zipfile.ZipFile(hostile, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/sharedStrings.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE sst [<!ENTITY x "EXPANDED">]>', 1)
                data = data.replace(b"<t>", b"<t>&x;", 1)
            dst.writestr(info.filename, data)
    report = run_import("annex-a", hostile, tmp_path / "x")
    assert not report.ok
    assert report.error == (
        "entities.xlsx holds XML that declares a DOCTYPE or entities, which Excel never writes; refused for "
        "safety. Nothing was imported."
    )
    assert not (tmp_path / "x").exists()
