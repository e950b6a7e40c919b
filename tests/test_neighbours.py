"""Statistical neighbours: the council's own file, checked, and shown on the board summary where it has a figure.

The figures here come from a fixture (tests/fixtures/neighbours/), made up for the tests: ChildStat ships
only the empty template, never neighbour figures.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from queries import settings
from queries.models.neighbours import TEMPLATE, NeighbourFileError, read_neighbours
from reports.build import build_report, engine_asker, report_about

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "neighbours"
GOOD, BAD = FIXTURES / "statistical_neighbours.toml", FIXTURES / "bad_share.toml"


@pytest.fixture
def neighbour_file(tmp_path, monkeypatch):
    """Point settings [reference] statistical_neighbours_file at a file (None: the shipped template)."""

    def use(path: Path | None) -> None:
        file = tmp_path / "settings.toml"
        file.write_text(f'[reference]\nstatistical_neighbours_file = "{path or ""}"\n')
        monkeypatch.setenv("CHILDSTAT_SETTINGS", str(file))
        settings.load_settings.cache_clear()

    yield use
    settings.load_settings.cache_clear()


def test_the_shipped_template_is_empty_and_valid():
    assert read_neighbours(TEMPLATE).is_empty()


def test_the_councils_figures_are_read_with_their_neighbours_year_and_source():
    figures = read_neighbours(GOOD)
    assert figures.select("measure", "value", "year").rows() == [
        ("rereferral_rate", 0.19, "2023-24"),
        ("cases_per_fte", 17.5, "2024"),  # a year typed as a number is read as the year
    ]
    assert set(figures["neighbours"]) == {"Test Neighbour North, Test Neighbour South, Test Neighbour East"}


FIGURE = 'measure = "rereferral_rate"\nvalue = 0.2\nyear = "2024"\nsource = "tool"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'neighbours = ["A"]\n[[figure]]\n{FIGURE.replace("0.2", "20")}', "figure 1 (rereferral_rate): value is a share"),
        (f'neighbours = ["A"]\n[[figure]]\n{FIGURE.replace("rereferral_rate", "neet_rate")}', "figure 1: measure must be one of"),
        (f'neighbours = ["A"]\n[[figure]]\n{FIGURE}vaule = 1\n', "figure 1 (rereferral_rate): unknown key 'vaule'"),
        (f'neighbours = ["A"]\n[[figure]]\n{FIGURE.replace("source", "# source")}', "source is missing"),
        (f'neighbours = ["A"]\n[[figure]]\n{FIGURE.replace("2024", "last year")}', "year must be a year"),
        (f'neighbours = ["A"]\n[[figure]]\n{FIGURE}[[figure]]\n{FIGURE}', "figure 2 (rereferral_rate): this measure is given twice"),
        (f"neighbours = []\n[[figure]]\n{FIGURE}", "neighbours is empty"),
        (f'neighbours = ["A", "A"]\n[[figure]]\n{FIGURE}', "each once"),
        (f'neighbors = ["A"]\n[[figure]]\n{FIGURE}', "unknown entry 'neighbors'"),
        ("neighbours = [", "cannot be read as TOML"),
    ],
)  # fmt: skip
def test_a_file_that_breaks_a_rule_is_refused_naming_the_file_the_entry_and_the_rule(tmp_path, text, message):
    path = tmp_path / "neighbours.toml"
    path.write_text(text)
    with pytest.raises(NeighbourFileError) as refused:
        read_neighbours(path)
    assert str(refused.value).startswith(f"{path}: ") and message in str(refused.value)


def test_a_missing_file_is_refused_and_says_which_setting_names_it(tmp_path):
    with pytest.raises(NeighbourFileError, match="no such file .*statistical_neighbours_file"):
        read_neighbours(tmp_path / "nowhere.toml")


def board(engine):
    about = report_about(engine, "admin", "board")
    return build_report("board", engine_asker(engine, None), about, months=12)


def comparison(report) -> pl.DataFrame:
    return next(b.frame for b in report.blocks if b.kind == "table" and b.file_stem == "board_england")


def notes(report) -> str:
    return "\n".join(b.text for b in report.blocks if b.kind == "note")


def test_the_board_shows_the_neighbour_figure_and_source_where_the_file_has_one(tiny_engine, neighbour_file):
    neighbour_file(GOOD)
    report = board(tiny_engine)
    shown = dict(comparison(report).select("Measure", "Statistical neighbours").rows())
    assert shown == {
        "Re-referrals within 12 months, share of referrals": "19% (2023-24)",
        "Average caseload per case-holding FTE": "17.5 (2024)",
        "Assessments completed within 45 working days of the referral": "not published here",
        "Initial child protection conferences within 15 working days of the strategy discussion": "not published here",
    }
    assert (
        "Statistical neighbours: the average of Test Neighbour North, Test Neighbour South, Test Neighbour East, "
        "as entered by the council from Test fixture: made-up figure." in notes(report)
    )


def test_without_figures_every_measure_says_not_published_here(tiny_engine, neighbour_file):
    neighbour_file(None)
    report = board(tiny_engine)
    assert set(comparison(report)["Statistical neighbours"]) == {"not published here"}
    assert f"in {TEMPLATE}" in notes(report)


def test_a_bad_file_leaves_out_only_the_neighbour_column_and_says_why(tiny_engine, neighbour_file, caplog):
    neighbour_file(BAD)
    report = board(tiny_engine)
    table = comparison(report)
    assert "Statistical neighbours" not in table.columns and table["England"].to_list()[0] == "22% (2024)"
    expected = f"{BAD}: figure 2 (assessment_45wd_rate): value is a share, a fraction from 0 to 1 (22% is 0.22), got 84"
    assert f"Statistical neighbours not shown: {expected}." in notes(report)
    assert expected in caplog.text  # the command line says so too, on stderr (python -m reports board)
    headings = [b.text for b in report.blocks if b.kind == "heading"]
    assert headings == ["Headline figures", "Against England and statistical neighbours", "Teams: caseload",
                        "Teams: compliance (% met, 12 months to the date)", "Teams: against the council's targets"]  # fmt: skip


def test_the_board_page_shows_the_neighbours_and_a_bad_files_message(tiny_dir, neighbour_file, monkeypatch):
    import streamlit as st

    from helpers import open_app_page, table_with

    neighbour_file(GOOD)
    at = open_app_page("board_summary", tiny_dir, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    shown = table_with(at, "Statistical neighbours").set_index("Measure")["Statistical neighbours"]
    assert shown["Re-referrals within 12 months, share of referrals"] == "19% (2023-24)"
    neighbour_file(BAD)
    st.cache_data.clear()  # the page keeps answers for the extract's life: a new file is read on a restart
    at = open_app_page("board_summary", tiny_dir, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert "Statistical neighbours" not in table_with(at, "England").columns
    assert any("figure 2 (assessment_45wd_rate): value is a share" in w.value for w in at.warning)
    assert [m.label for m in at.metric][:2] == ["Open cases", "On a CP plan"]  # the board itself is all there
