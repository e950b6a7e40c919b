"""Every page in the navigation, found automatically, rendered by AppTest on two extracts.

A new page file is tested here for free: on the shipped sample and on the tiny
extract it must render with no exception and show its title. Bad extracts must
give a plain message on every page, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import page_files, page_meta
from helpers import as_user
from queries.access import Scope
from schemas.extract import SAMPLE_DATA

ROOT = Path(__file__).resolve().parent.parent
PAGES = page_files()


def open_page(page: Path, data: Path, monkeypatch, scope=None) -> AppTest:
    as_user(monkeypatch, scope)
    monkeypatch.setenv("CHILDSTAT_DATA", str(data))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(str(page.relative_to(ROOT)))
    at.run()
    return at


def shown_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [s.value for s in at.success]
    parts += [m.label for m in at.metric]
    return "\n".join(str(p) for p in parts)


def test_pages_are_found_and_documented():
    assert {p.stem for p in PAGES} >= {"home", "data_quality"}
    for page in PAGES:
        meta = page_meta(page)
        assert meta["title"] and len(meta["description"]) > 40, page.name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
@pytest.mark.parametrize("which", ["sample", "tiny"])
def test_every_page_renders(page, which, tiny_dir, monkeypatch):
    data = SAMPLE_DATA if which == "sample" else tiny_dir
    at = open_page(page, data, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert page_meta(page)["title"].split()[0] in shown_text(at) or page.stem == "home"
    assert not at.error, [e.value for e in at.error]
    assert at.sidebar.markdown, "the shared frame (council, as_of, data quality) is missing"


def test_home_headlines_on_the_tiny_extract(tiny_dir, monkeypatch):
    at = open_page(ROOT / "pages/home.py", tiny_dir, monkeypatch)
    metrics = {m.label: m.value for m in at.metric}
    # The local user sees every child, so every figure exactly.
    assert metrics["Open cases"] == "5"
    assert metrics["Referrals, 12 months"] == "7"
    assert metrics["Re-referral rate"] == "14%"  # 1 re-referral of 7
    assert "Exact figures for every child" in shown_text(at)


def test_home_headlines_for_a_head_of_service(tiny_dir, monkeypatch):
    at = open_page(ROOT / "pages/home.py", tiny_dir, monkeypatch, scope=Scope("head_of_service", "head@tiny.gov.uk"))
    metrics = {m.label: m.value for m in at.metric}
    # Counts of 1 to 5 about children are hidden by the engine for a head of service, and what rests on them.
    assert metrics["Open cases"] == "c"
    assert metrics["Referrals, 12 months"] == "7"
    assert metrics["Re-referral rate"] == "c"  # 1 re-referral of 7
    assert "Counts about children are protected" in shown_text(at)
    assert "**Tiny Test Borough**" in [m.value for m in at.sidebar.markdown]
    assert "Figures as at **31 March 2026** (manifest)" in [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_missing_folder_is_named_on_every_page(page, tmp_path, monkeypatch):
    at = open_page(page, tmp_path / "nowhere", monkeypatch)
    assert not at.exception
    assert any("nowhere does not exist" in e.value for e in at.error), shown_text(at)


def test_empty_folder_is_named(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    at = open_page(ROOT / "pages/data_quality.py", tmp_path / "empty", monkeypatch)
    assert not at.exception
    assert any("holds no extract tables" in e.value for e in at.error)


def test_corrupt_table_disables_only_what_needs_it(tiny_dir, monkeypatch):
    (tiny_dir / "cp_plans.parquet").write_bytes(b"garbage, not parquet")
    at = open_page(ROOT / "pages/home.py", tiny_dir, monkeypatch)
    assert not at.exception
    assert any("cp_plans table could not be read" in w.value for w in at.warning)
    assert "Open cases" in [m.label for m in at.metric]
    dq = open_page(ROOT / "pages/data_quality.py", tiny_dir, monkeypatch)
    assert not dq.exception
    assert any("cp_plans" in e.label and "Cannot be read" in e.label for e in dq.expander)


def test_wrong_type_is_named_on_data_quality(tmp_path, monkeypatch):
    import polars as pl

    from tiny_extract import tiny_tables, write_extract

    tables = tiny_tables()
    tables["referrals"] = tables["referrals"].with_columns(pl.col("referral_date").cast(pl.String))
    folder = write_extract(tmp_path / "wrongtype", tables)
    at = open_page(ROOT / "pages/data_quality.py", folder, monkeypatch)
    assert not at.exception
    assert any("referrals" in e.label and "Wrong columns or types" in e.label for e in at.expander)
    home = open_page(ROOT / "pages/home.py", folder, monkeypatch)
    assert not home.exception
    assert any("referrals table has the wrong structure" in w.value for w in home.warning)


def test_optional_table_absent_is_said_and_the_rest_works(tmp_path, monkeypatch):
    from tiny_extract import write_extract

    folder = write_extract(tmp_path / "no_care", drop=("looked_after",))
    home = open_page(ROOT / "pages/home.py", folder, monkeypatch)
    assert not home.exception
    # Said once under the headlines (an absent table is what the source holds, not a fault to warn about).
    assert "Not shown, because this extract has no looked_after table: Looked after." in [c.value for c in home.caption]
    assert not home.warning
    assert {m.label for m in home.metric} == {"Open cases", "On CP plans", "Referrals, 12 months", "Re-referral rate"}
    caseload = open_page(ROOT / "pages/caseload.py", folder, monkeypatch)
    assert not caseload.exception
    assert any("looked_after table is not in this extract" in c.value for c in caseload.caption)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_page_survives_an_extract_with_only_the_core_tables(page, tmp_path, monkeypatch):
    from schemas.contract import OPTIONAL_TABLES
    from tiny_extract import write_extract

    folder = write_extract(tmp_path / "core_only", drop=tuple(OPTIONAL_TABLES))
    at = open_page(page, folder, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    # The one error allowed: the validator's verdict (LA01 is no longer declared without factor_codes).
    assert all(e.value.startswith("Data quality:") for e in at.error), [e.value for e in at.error]
