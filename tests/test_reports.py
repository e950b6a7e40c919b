"""The board summary and the supervision pack: real PDFs from the command line, with the figures the
questions give, for exactly the reader's scope; and the two pages, with their one-click PDF."""

from __future__ import annotations

import datetime as dt
import io
import re

import polars as pl
import pytest
from pypdf import PdfReader

from helpers import open_app_page
from queries.access import Scope
from reports.__main__ import main

AS_OF = dt.date(2026, 3, 31)  # the tiny extract's


def open_children(folder, worker: str | None = None) -> set[str]:
    """Children with an open referral on as_of, worked out here from the Parquet file, not by the engine."""
    referrals = pl.read_parquet(folder / "referrals.parquet").filter(
        (pl.col("referral_date") <= AS_OF)
        & ~pl.col("nfa")
        & (pl.col("closure_date").is_null() | (pl.col("closure_date") > AS_OF))
    )
    if worker:
        referrals = referrals.filter(pl.col("worker_id") == worker)
    return set(referrals["child_id"])


def figure_in(html: str, label: str) -> str:
    """The value on a report's figure card with this label."""
    match = re.search(rf"<div class='label'>{re.escape(label)}</div><div class='value'>([^<]*)</div>", html)
    assert match, label
    return match.group(1)


def pdf_text(path) -> tuple[int, str]:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_board_summary_pdf_from_the_command_line(tiny_dir, tmp_path):
    out, html = tmp_path / "board.pdf", tmp_path / "board.html"
    assert main(["board", "--data", str(tiny_dir), "--out", str(out), "--html", str(html), "--months", "6"]) == 0
    pages, text = pdf_text(out)
    assert pages >= 1
    page = html.read_text(encoding="utf-8")
    assert figure_in(page, "Open cases") == str(len(open_children(tiny_dir)))
    assert f"Open cases\n{len(open_children(tiny_dir))}\n" in text  # the card as printed
    assert "Board summary: Tiny Test Borough" in text and "period: 6 months" in text
    assert "Open cases" in text and "Statistical neighbours: not published here" in text  # the shipped template
    assert "22% (2024)" in text  # England's re-referral rate, from queries/reference/england.toml
    assert "<script>" in page and "<script src" not in page  # plotly.js inlined: the file needs no network


def test_board_summary_for_a_head_of_service_hides_small_counts(tiny_dir, tmp_path):
    out, html = tmp_path / "board.pdf", tmp_path / "board.html"
    code = main(["board", "--data", str(tiny_dir), "--out", str(out), "--html", str(html), "--as", "head_of_service"])
    assert code == 0
    page = html.read_text(encoding="utf-8")
    assert len(open_children(tiny_dir)) <= 5  # a small count, so it must not reach a head of service
    assert figure_in(page, "Open cases") == "c"
    assert "Counts from 1 to 5 about children outside" in page


def test_supervision_pack_pdf_lists_the_workers_own_children(tiny_dir, tmp_path):
    out = tmp_path / "pack.pdf"
    assert main(["supervision", "--worker", "W3", "--data", str(tiny_dir), "--out", str(out)]) == 0
    pages, text = pdf_text(out)
    assert pages >= 1
    mine = open_children(tiny_dir, "W3")
    assert mine == {"C2", "C3"}
    assert "Supervision pack: Cara Jones" in text
    assert all(child in text for child in mine)
    assert not {"C1", "C4", "C5", "C6"} & set(re.findall(r"\bC\d+\b", text))  # nobody else's children
    assert "Compliance items to discuss" in text and "Open cases\n2" in text.replace(" \n", "\n")


def test_a_social_worker_gets_only_their_own_pack(tiny_dir, tmp_path, capsys):
    out = tmp_path / "pack.pdf"
    as_w1 = ["--as", "social_worker", "--user-worker", "W1", "--user-team", "T1"]
    assert main(["supervision", "--worker", "W3", "--data", str(tiny_dir), "--out", str(out), *as_w1]) == 2
    assert not out.exists() and "no worker W3" in capsys.readouterr().err
    as_manager_t1 = ["--as", "team_manager", "--user-team", "T1"]
    assert main(["supervision", "--worker", "W3", "--data", str(tiny_dir), "--out", str(out), *as_manager_t1]) == 2
    assert main(["supervision", "--worker", "W3", "--data", str(tiny_dir), "--out", str(out), "--as", "head_of_service"]) == 2  # fmt: skip
    html = tmp_path / "own.html"
    assert main(["supervision", "--worker", "W1", "--data", str(tiny_dir), "--out", str(out), "--html", str(html), *as_w1]) == 0  # fmt: skip
    assert set(re.findall(r"\bC\d+\b", html.read_text(encoding="utf-8"))) == open_children(tiny_dir, "W1") == {"C1"}


def test_board_page_as_a_head_of_service(tiny_dir, monkeypatch):
    at = open_app_page("board_summary", tiny_dir, monkeypatch, scope=Scope("head_of_service", "hos@x"))
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Open cases"] == "c"
    labels = [b.label for b in at.get("download_button")]
    assert labels[0] == "Download PDF" and "Download Excel" in labels


@pytest.mark.parametrize("who", [Scope("social_worker", "w3@x", "W3", "T2")])
def test_supervision_page_for_a_social_worker_is_their_own(tiny_dir, monkeypatch, who):
    at = open_app_page("supervision_pack", tiny_dir, monkeypatch, scope=who)
    assert not at.exception and not at.error
    assert not at.selectbox  # nobody else to choose
    assert {m.label: m.value for m in at.metric}["Open cases"] == "2"
    shown = {child for frame in at.dataframe if "Child" in frame.value.columns for child in frame.value["Child"]}
    assert shown == {"C2", "C3"}


def test_a_social_worker_sees_compliance_items_about_their_own_children_only(tiny_engine, tiny_dir):
    """compliance_cases is open to social workers for their pack: the engine keeps them to their own children."""
    me = Scope("social_worker", "w3@x", "W3", "T2")
    for measure in ("visits_in_timescale", "assessment_45wd", "cpp_2_years"):
        everyone = tiny_engine.run("compliance_cases", team_id="T2", measure=measure)
        mine = tiny_engine.run("compliance_cases", scope=me, team_id="T1", measure=measure)  # asks for another team
        assert set(mine["team_id"]) <= {"T2"}
        assert set(mine["child_id"]) == set(everyone["child_id"]) & open_children(tiny_dir, "W3")
    assert not tiny_engine.run("compliance_cases", scope=me, team_id="T2").is_empty()  # it does answer
