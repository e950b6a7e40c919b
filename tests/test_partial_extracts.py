"""Any extract with children opens (format 1.1): a 903-only, a CIN-census-only and a children-only
extract through every question and every page.

Each source holds only part of the picture. A question refuses only when a table it needs is absent,
and says which; a page that needs an absent table says so once and points to the pages that work;
everything else shows its figures. No exception box, no error, on any page.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from test_pages import ROOT, open_page, shown_text

from app import page_files, page_meta
from ingest import run_import
from queries.engine import BadParameter, Engine, TableUnavailable
from queries.registry import all_queries
from schemas.extract import open_extract
from tiny_extract import write_extract

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAGES = page_files()


@pytest.fixture(scope="module")
def partial_extracts(tmp_path_factory) -> dict[str, Path]:
    """Extracts made the way a council would: from its 903 alone, from its CIN census alone, and bare children."""
    root = tmp_path_factory.mktemp("partial")
    assert run_import("ssda903", FIXTURES / "ssda903", root / "ssda903_only").ok
    assert run_import("cin-census", FIXTURES / "cin_census" / "CIN_Census_2024.xml", root / "cin_only").ok
    children_only = root / "children_only"
    children_only.mkdir()
    pl.read_parquet(root / "ssda903_only" / "children.parquet").write_parquet(children_only / "children.parquet")
    (children_only / "manifest.json").write_text(json.dumps({"contract": "1.1", "as_of": "2018-04-01"}))
    return {"ssda903_only": root / "ssda903_only", "cin_only": root / "cin_only", "children_only": children_only}


def absent(engine: Engine) -> set[str]:
    return {name for name, state in engine.tables.items() if state.status in ("missing", "missing_required")}


@pytest.mark.parametrize("which", ["ssda903_only", "cin_only", "children_only"])
def test_every_question_answers_or_names_the_absent_tables(partial_extracts, which):
    engine = Engine(open_extract(partial_extracts[which]))
    try:
        missing = absent(engine)
        answered = []
        for name, query in all_queries().items():
            if any(p.default == "required" for p in query.params):
                continue  # about one named child: covered by the chronology tests
            if set(query.tables) & missing:
                with pytest.raises(TableUnavailable) as refusal:
                    engine.run(name)
                named = {t for t in missing if f"the {t} table is not in this extract" in str(refusal.value)}
                assert named == set(query.tables) & missing, (name, str(refusal.value))
            else:
                try:
                    assert isinstance(engine.run(name), pl.DataFrame), name
                    answered.append(name)
                except BadParameter:  # e.g. a cohort question asked with no cohort: a plain message
                    pass
        assert answered, f"{which}: no question answered at all"
    finally:
        engine.close()


def test_a_903_only_extract_answers_looked_after_questions(partial_extracts):
    engine = Engine(open_extract(partial_extracts["ssda903_only"]))
    try:
        assert "referrals" in absent(engine)
        assert engine.run("placement_costs").height > 0
        # The CIN census holds referrals; the 903 does not: the referral questions refuse, naming it.
        with pytest.raises(TableUnavailable, match="the referrals table is not in this extract"):
            engine.run("referrals_last_12_months")
    finally:
        engine.close()


def test_caseloads_without_a_visits_table(tmp_path):
    """The CIN census has no visits: caseloads are still counted, overdue visits are unknown (null),
    not 0, and the compliance summary leaves out the visits measure rather than showing 0%."""
    engine = Engine(open_extract(write_extract(tmp_path / "x", drop=("visits",))))
    try:
        teams = engine.run("team_caseload")
        # Tiny extract: C1 (W1, T1), C2 and C3 (W3, T2), C6 (W4, T2), C5 (W5, T3) have open referrals.
        assert dict(zip(teams["team_id"], teams["open_cases"], strict=True)) == {"T1": 1, "T2": 3, "T3": 1}
        assert teams["overdue_visits"].null_count() == teams.height == 3
        workers = engine.run("caseload_by_worker")
        assert workers["overdue_visits"].null_count() == workers.height
        assert workers.filter(pl.col("worker_id") == "W3")["open_cases"].item() == 2
        cases = engine.run("worker_cases")
        assert cases.height == 5 and cases["rag"].null_count() == 5
        measures = set(engine.run("compliance_summary")["measure"])
        assert "visits_in_timescale" not in measures and "assessment_45wd" in measures
    finally:
        engine.close()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
@pytest.mark.parametrize("which", ["ssda903_only", "cin_only", "children_only"])
def test_every_page_opens_on_a_partial_extract(partial_extracts, page, which, monkeypatch):
    at = open_page(page, partial_extracts[which], monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    meta = page_meta(page)
    if page.stem != "data_quality":  # that page lists the extract's own faults as errors, by design
        assert not at.error, [e.value for e in at.error]
    engine = Engine(open_extract(partial_extracts[which]))
    try:
        lacking = set(meta.get("needs", [])) & absent(engine)
    finally:
        engine.close()
    if lacking:
        message = " ".join(i.value for i in at.info)
        assert all(f"the {t} table is not in this extract" in message for t in lacking), message
        assert [w.value for w in at.warning] == []  # one message, not one warning per figure
    assert page.stem == "home" or meta["title"].split()[0] in shown_text(at)


def test_home_on_a_903_only_extract_says_once_what_it_cannot_show(partial_extracts, monkeypatch):
    at = open_page(ROOT / "pages/home.py", partial_extracts["ssda903_only"], monkeypatch)
    assert not at.warning, [w.value for w in at.warning]
    captions = " ".join(c.value for c in at.caption)
    assert "Not shown, because this extract has no" in captions and "referrals" in captions
    assert "Open cases" in captions and "Referrals, 12 months" in captions


def test_home_on_a_cin_only_extract_shows_its_referral_figures(partial_extracts, monkeypatch):
    at = open_page(ROOT / "pages/home.py", partial_extracts["cin_only"], monkeypatch)
    engine = Engine(open_extract(partial_extracts["cin_only"]))
    try:
        referrals = engine.run("referrals_last_12_months")["referrals"][0]
    finally:
        engine.close()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Referrals, 12 months"] == f"{referrals:,}"
    assert "Looked after" not in metrics
    assert "no looked_after table" in " ".join(c.value for c in at.caption)


def test_a_page_lacking_its_tables_points_to_the_pages_that_work(partial_extracts, monkeypatch):
    at = open_page(ROOT / "pages/demand.py", partial_extracts["ssda903_only"], monkeypatch)
    assert "This page needs what this extract does not have: the referrals table" in at.info[0].value
    assert "Pages with figures from this extract" in shown_text(at)


def test_the_903_command_lines_give_a_looked_after_answer(tmp_path, capsys):
    """`python -m ingest ssda903 FOLDER --out X` then `python -m queries run looked_after_children`."""
    from ingest.__main__ import main as ingest_main
    from queries.__main__ import main as queries_main

    out = tmp_path / "x"
    assert ingest_main(["ssda903", str(FIXTURES / "ssda903"), "--out", str(out), "--no-validate"]) == 0
    capsys.readouterr()
    assert queries_main(["run", "looked_after_children", "--data", str(out)]) == 0
    answer = capsys.readouterr().out.splitlines()
    engine = Engine(open_extract(out))
    try:
        care = pl.read_parquet(out / "looked_after.parquet")
        as_of = engine.as_of
        in_care = care.filter(
            (pl.col("start_date") <= as_of) & (pl.col("end_date").is_null() | (pl.col("end_date") > as_of))
        )["child_id"].n_unique()
    finally:
        engine.close()
    assert answer[0].startswith("looked_after_children") and answer[1].split(",")[0] == str(in_care)


def test_home_on_a_903_only_extract_shows_its_looked_after_children(partial_extracts, monkeypatch):
    at = open_page(ROOT / "pages/home.py", partial_extracts["ssda903_only"], monkeypatch)
    engine = Engine(open_extract(partial_extracts["ssda903_only"]))
    try:
        expected = engine.run("looked_after_children")["looked_after_children"][0]
    finally:
        engine.close()
    assert {m.label: m.value for m in at.metric}["Looked after"] == f"{expected:,}"
