"""What a table prints in place of Streamlit's grid (pages/_print.py): its rows up to a limit, said when cut."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import streamlit as st

from pages._frame import brief, table_layout
from pages._print import PRINT_ROWS, cell_text, table_html


def rows_of(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_a_long_table_prints_its_first_rows_and_says_how_many_there_are():
    frame = pl.DataFrame({"Child": [f"C{n:03d}" for n in range(1, 1235)], "Visits": list(range(1, 1235))})
    html = table_html(frame, {})
    rows = rows_of(html)
    assert len(rows) == PRINT_ROWS == 50
    assert rows[0] == ["C001", "1"] and rows[-1] == ["C050", "50"]
    assert "Printed: the first 50 of 1,234 rows. Download CSV or Excel on the page has all of them." in html


def test_a_short_table_prints_whole_without_a_note_and_a_table_without_downloads_does_not_offer_them():
    frame = pl.DataFrame({"Child": [f"C{n}" for n in range(PRINT_ROWS)]})
    assert len(rows_of(table_html(frame, {}))) == PRINT_ROWS and "Printed:" not in table_html(frame, {})
    longer = pl.DataFrame({"Child": [f"C{n}" for n in range(PRINT_ROWS + 1)]})
    assert "the first 50 of 51 rows.</p>" in table_html(longer, {}, downloads=False)


def test_the_printed_table_has_the_grids_headings_and_columns_and_formats():
    frame = pl.DataFrame(
        {
            "Child": ["C1", "<b>C2</b>"],
            "Referred": [dt.date(2026, 4, 7), None],
            "Risk %": [37.4, 5.0],
            "Spend (£)": [16720.0, 3.0],
            "internal": ["x", "y"],
            "Main risk factors (odds ratio)": ["Absence (2.1)", "–"],
        }
    )
    config, _ = table_layout(
        frame,
        {
            "Referred": st.column_config.DateColumn(format="D MMM YYYY"),
            "Risk %": st.column_config.ProgressColumn("Risk", min_value=0, max_value=100, format="%d%%"),
            "Spend (£)": st.column_config.NumberColumn(format="%,.0f"),
            "internal": None,
            "Main risk factors (odds ratio)": brief("Main risk factors", "The model's clear risk factors"),
        },
    )
    html = table_html(frame, config)
    headings = re.findall(r"<th scope='col'>(.*?)</th>", html)
    assert headings == ["Child", "Referred", "Risk", "Spend (£)", "Main risk factors"]
    assert rows_of(html) == [
        ["C1", "7 Apr 2026", "37%", "16,720", "Absence (2.1)"],
        ["&lt;b&gt;C2&lt;/b&gt;", "–", "5%", "3", "–"],
    ]


def test_cells_read_as_the_grid_shows_them():
    assert (
        cell_text(dt.date(2026, 4, 7), {"type_config": {"type": "date", "format": "ddd D MMM YYYY"}})
        == "Tue 7 Apr 2026"
    )
    assert cell_text(dt.datetime(2026, 3, 31, 14, 5), {}) == "31 Mar 2026 14:05"
    assert cell_text(1545, {}) == "1,545" and cell_text(16.0, {}) == "16" and cell_text(0.1234567, {}) == "0.1235"
    assert cell_text(True, {}) == "Yes" and cell_text(None, {}) == "–"
    assert cell_text(12.6, {"type_config": {"type": "progress", "format": "%d"}}) == "12"  # as sprintf's %d
