"""--out of an existing extract: merge by key, never duplicate; the CLI; the Import page's importer."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import polars as pl

from ingest import run_import
from ingest.__main__ import main
from pages.import_data import import_files
from tiny_extract import write_extract

FIXTURES = Path(__file__).parent / "fixtures"
NESTED = FIXTURES / "cin_census" / "CIN_Census_2024.xml"
FLAT = FIXTURES / "cin_census" / "fake_CIN_data.xml"

CIN_2023 = """<Message><Header><CollectionDetails><Collection>CIN</Collection>
<ReferenceDate>2023-03-31</ReferenceDate></CollectionDetails></Header><Children><Child>
<ChildIdentifiers><LAchildID>DfEX0000001</LAchildID><PersonBirthDate>2015-03-27</PersonBirthDate><Sex>1</Sex>
</ChildIdentifiers><ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
<CINdetails><CINreferralDate>2022-10-06</CINreferralDate><ReferralSource>1A</ReferralSource>
<PrimaryNeedCode>N4</PrimaryNeedCode><ReferralNFA>0</ReferralNFA></CINdetails>
<CINdetails><CINreferralDate>2021-01-06</CINreferralDate><ReferralSource>2A</ReferralSource>
<ReferralNFA>1</ReferralNFA></CINdetails>
</Child></Children></Message>"""


def table(folder: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(folder / f"{name}.parquet")


def test_two_years_merge_by_child_and_referral(tmp_path):
    out = tmp_path / "x"
    (tmp_path / "cin2023.xml").write_text(CIN_2023)
    assert run_import("cin-census", tmp_path / "cin2023.xml", out).ok
    assert run_import("cin-census", NESTED, out).ok
    children = table(out, "children")
    assert children["child_id"].is_unique().all() and children.height == 2
    referrals = table(out, "referrals").filter(pl.col("child_id") == "DfEX0000001").sort("referral_date")
    # The 2022-10-06 referral is in both years: one row, closed as the 2024 census says.
    assert referrals["referral_date"].cast(pl.String).to_list() == ["2021-01-06", "2022-10-06"]
    assert referrals["closure_reason"].to_list() == [None, "RC1"]
    # The 2023 file says nothing of disability; the 2024 one does, and it is kept.
    assert children.filter(pl.col("child_id") == "DfEX0000001")["disability"].to_list() == [True]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["as_of"] == "2024-03-31"
    assert manifest["imported"] == ["cin_census 2023-03-31", "cin_census 2024-03-31"]


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    out = tmp_path / "x"
    run_import("cin-census", FLAT, out)
    before = {p.name: pl.read_parquet(p).sort(pl.all()) for p in out.glob("*.parquet")}
    report = run_import("cin-census", FLAT, out)
    assert report.ok
    after = {p.name: pl.read_parquet(p).sort(pl.all()) for p in out.glob("*.parquet")}
    assert before.keys() == after.keys()
    for name, frame in before.items():
        assert frame.equals(after[name]), name


def test_cin_then_903_then_annex_a_one_row_per_child_and_episode(tmp_path):
    out = tmp_path / "x"
    assert run_import("cin-census", FLAT, out).ok
    assert run_import("ssda903", FIXTURES / "ssda903", out).ok
    assert run_import("annex-a", FIXTURES / "annex_a" / "Annex_A.xlsx", out).ok
    for name, key in [("children", ["child_id"]), ("referrals", ["referral_id"]), ("looked_after", ["episode_id"]),
                      ("teams", ["team_id"]), ("workers", ["worker_id"])]:  # fmt: skip
        frame = table(out, name)
        assert not frame.select(key).is_duplicated().any(), name
    care = table(out, "looked_after")
    assert care.height == 5050 + 5  # the Annex A children are not in the 903 sample
    assert {"ssda903", "annex_a"} == {s.split()[0] for s in care["imported_from"].unique()}


def test_903_episodes_replace_annex_a_care_rows_for_the_same_child(tmp_path):
    out = tmp_path / "x"
    run_import("annex-a", FIXTURES / "annex_a" / "Annex_A.xlsx", out)
    child = table(out, "looked_after")["child_id"][0]
    src = tmp_path / "903"
    src.mkdir()
    (src / "episodes.csv").write_text(f"CHILD,DECOM,LS,PLACE,DEC\n{child},06/08/2009,C2,U4,\n")
    report = run_import("ssda903", src, out)
    assert report.ok
    care = table(out, "looked_after").filter(pl.col("child_id") == child)
    assert care["imported_from"].str.starts_with("ssda903").all() and care.height == 1
    assert any("replaced by the children's SSDA903 episodes" in n for n in report.notes)


def test_merging_into_an_existing_extract_keeps_its_tables(tmp_path):
    out = write_extract(tmp_path / "tiny")
    report = run_import("cin-census", NESTED, out)
    assert report.ok
    assert table(out, "children").height == 6 + 2 and (out / "education.parquet").exists()
    assert "C1" in table(out, "referrals")["child_id"].to_list()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["la_name"] == "Tiny Test Borough" and manifest["as_of"] == "2026-03-31"


def test_out_that_is_not_an_extract_is_refused(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "letter.txt").write_text("hello")
    report = run_import("cin-census", NESTED, tmp_path / "docs")
    assert not report.ok and "not empty and is not an extract" in report.error


def test_cli_exit_status_and_report(tmp_path, capsys):
    assert main(["cin-census", str(FLAT), "--out", str(tmp_path / "x"), "--la-name", "Test Shire"]) == 1
    shown = capsys.readouterr().out
    assert "Rows per table" in shown and "INVALID" in shown  # the sample's future dates
    assert json.loads((tmp_path / "x" / "manifest.json").read_text())["la_name"] == "Test Shire"
    assert main(["annex-a", str(NESTED), "--out", str(tmp_path / "y")]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["cin-census", str(FLAT), "--out", str(tmp_path / "z"), "--format", "json", "--no-validate"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tables"]["referrals"]["mapped"] == 402


def test_report_never_names_a_child(tmp_path):
    report = run_import("ssda903", FIXTURES / "ssda903", tmp_path / "x")
    text = report.to_text() + json.dumps(report.to_dict())
    ids = table(tmp_path / "x", "children")["child_id"].to_list()
    assert not [i for i in ids[:200] if f" {i} " in text or f"'{i}'" in text or f'"{i}"' in text]


def test_import_page_importer(tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    uploads = [
        ("cin-census", "fake_CIN_data.xml", FLAT.read_bytes()),
        ("annex-a", "Annex_A.xlsx", (FIXTURES / "annex_a" / "Annex_A.xlsx").read_bytes()),
        ("cin-census", "../../evil/name.xml", b"<Message"),  # a broken upload with a hostile name
    ]
    uploads += [("ssda903", p.name, p.read_bytes()) for p in sorted((FIXTURES / "ssda903").glob("*.csv"))]
    result = import_files(uploads, private=True, la_name="Test Shire")
    reports = {r["source_name"]: r for r in result["reports"]}
    assert reports["name.xml"]["error"] and reports["Annex_A.xlsx"]["error"] is None
    assert reports["ssda903"]["error"] is None
    assert result["validation"]["table_status"]["referrals"] in ("ok", "warnings", "errors")
    with zipfile.ZipFile(io.BytesIO(result["zip"])) as zf:
        manifest = json.loads(zf.read("extract/manifest.json"))
        assert "extract/looked_after.parquet" in zf.namelist()
    assert manifest["la_name"] == "Test Shire"
    # The work folder, uploads and all, is gone; the hostile name wrote nowhere else.
    assert list(temp.iterdir()) == []
    assert not [p for p in tmp_path.rglob("*") if "evil" in p.name]
