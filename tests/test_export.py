"""CSV downloads never carry a live formula: text that a spreadsheet would run is prefixed with "'"."""

from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl

from pages import _frame
from pages._export import safe_csv

ATTACKS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)", "\tx", "\rx"]


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_text_that_starts_a_formula_is_prefixed_and_numbers_stay_numbers():
    frame = pl.DataFrame(
        {
            "child_id": [*ATTACKS, "C1", "a=b", None],
            "open_cases": [-3, 0, 1, 2, 3, 4, 5, 6, 7],
            "share": [-0.5, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
            "referral_date": [dt.date(2026, 3, 31)] * 9,
            "open": [True] * 9,
        }
    ).with_columns(need=pl.col("child_id").cast(pl.Categorical))
    rows = cells(safe_csv(frame))
    assert rows[0] == ["child_id", "open_cases", "share", "referral_date", "open", "need"]
    expected = ['\'=HYPERLINK("http://x","y")', "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "C1", "a=b", ""]
    assert [row[0] for row in rows[1:]] == expected
    assert [row[5] for row in rows[1:]] == expected  # a categorical column is text too
    assert rows[1][1:5] == ["-3", "-0.5", "2026-03-31", "true"]  # the negative number is left as it is
    assert [row[1] for row in rows[1:]] == ["-3", "0", "1", "2", "3", "4", "5", "6", "7"]
    assert pl.read_csv(io.StringIO(safe_csv(frame.select("open_cases")))).to_series().to_list()[0] == -3


def test_a_numeric_looking_text_value_is_text_and_prefixed():
    frame = pl.DataFrame({"code": ["-5", "5"], "count": [-5, 5]})
    assert cells(safe_csv(frame)) == [["code", "count"], ["'-5", "-5"], ["5", "5"]]


class Page:
    """Stands in for a Streamlit container: keeps what show_table offers for download."""

    def __init__(self):
        self.downloads = []

    def dataframe(self, *args, **kwargs):
        pass

    def download_button(self, label, data, **kwargs):
        self.downloads.append((label, data, kwargs["file_name"]))


def test_every_table_download_on_a_page_is_neutralised():
    page = Page()
    frame = pl.DataFrame({"child_id": ATTACKS, "days_overdue": [-3, 1, 2, 3, 4, 5]})
    _frame.show_table(page, frame, "overdue_visits")
    [(label, deferred, file_name)] = page.downloads
    assert (label, file_name) == ("Download CSV", "overdue_visits.csv")
    data = deferred()  # made when the button is clicked
    assert data == safe_csv(frame)
    assert [row[0] for row in cells(data)[1:]] == ["'" + attack for attack in ATTACKS]
    assert cells(data)[1][1] == "-3"
