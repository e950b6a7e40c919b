"""Downloads: no live formula (text a spreadsheet would run is prefixed with "'"), UTF-8 with a BOM, ISO dates,
numbers as numbers, hidden counts empty and named, meaningful file names, and a workbook with an About sheet."""

from __future__ import annotations

import csv
import datetime as dt
import io

import polars as pl
from openpyxl import load_workbook

from pages import _frame
from pages._export import HIDDEN_COLUMN, About, csv_bytes, file_name, safe_csv, spreadsheet_frame, xlsx_bytes

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
        self.printed = []  # the table as it prints in the grid's place (pages/_print.py)

    def dataframe(self, *args, **kwargs):
        pass

    def html(self, body, **kwargs):
        self.printed.append(body)

    def download_button(self, label, data, **kwargs):
        self.downloads.append((label, data, kwargs["file_name"]))


def test_every_table_download_on_a_page_is_neutralised():
    page = Page()
    frame = pl.DataFrame({"child_id": ATTACKS, "days_overdue": [-3, 1, 2, 3, 4, 5]})
    _frame.show_table(page, frame, "overdue_visits", filters={"team": "T07"})
    [(label, make_csv, name), (xlsx_label, make_xlsx, xlsx_name)] = page.downloads
    assert (label, name) == ("Download CSV", "overdue_visits_team-T07.csv")  # no extract here, so no as_of
    assert (xlsx_label, xlsx_name) == ("Download Excel", "overdue_visits_team-T07.xlsx")
    text = make_csv().decode("utf-8-sig")  # made when clicked
    assert [row[0] for row in cells(text)[1:]] == ["'" + attack for attack in ATTACKS]
    assert cells(text)[1][1] == "-3"
    sheet = load_workbook(io.BytesIO(make_xlsx()))["Data"]
    # XML reads a carriage return back as a line feed
    assert [c.value for c in sheet["A"]][1:] == ["'" + attack.replace("\r", "\n") for attack in ATTACKS]
    assert sheet["A2"].data_type == "s" and sheet["B2"].value == -3
    [printed] = page.printed  # printed as text, the quotes escaped, every row
    assert "<td>=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)</td><td class=number>-3</td>" in printed
    assert printed.count("<tr>") == 1 + len(ATTACKS)


# A page's table as pages show it: counts as text with thousands separators, the suppression symbol,
# percentages, money, intervals and dates in words, beside real numbers, dates and IDs.
SHOWN = pl.DataFrame(
    {
        "Team": ["T07", "T08", "T09"],
        "Child": ["0042", "0043", "0044"],
        "Referrals": ["1,545", "c", "12"],
        "Re-referrals": ["20.3%", "c", "–"],
        "Cost": ["£1,150", "£90", "£0"],
        "Rate": ["20.3 (15.7–25.9)", "c", "1.0 (0.5–2.0)"],
        "Last visit": ["7 Apr 2026", "–", "31 Mar 2026"],
        "Open": [3, 4, None],
        "Due": [dt.date(2026, 4, 7), None, dt.date(2026, 3, 31)],
        "Note": ["Assessment – section 17 ✓", "=1+1", None],
    }
)


def test_figures_shown_as_text_are_numbers_and_hidden_ones_are_empty_and_named():
    out = spreadsheet_frame(SHOWN)
    assert out.columns == [
        "Team", "Child", "Referrals", "Re-referrals (%)", "Cost (£)", "Rate", "Rate lower", "Rate upper",
        "Last visit", "Open", "Due", "Note", HIDDEN_COLUMN,
    ]  # fmt: skip
    assert out["Team"].to_list() == ["T07", "T08", "T09"] and out["Child"].to_list() == ["0042", "0043", "0044"]
    assert out["Referrals"].dtype == pl.Int64 and out["Referrals"].to_list() == [1545, None, 12]
    assert out["Re-referrals (%)"].to_list() == [20.3, None, None]
    assert out["Cost (£)"].to_list() == [1150, 90, 0]
    assert out.select("Rate", "Rate lower", "Rate upper").row(0) == (20.3, 15.7, 25.9)
    assert out["Rate"].to_list()[1] is None
    assert out["Last visit"].to_list() == [dt.date(2026, 4, 7), None, dt.date(2026, 3, 31)]
    assert out[HIDDEN_COLUMN].to_list() == [None, "Referrals; Re-referrals; Rate", None]


def test_csv_has_a_bom_iso_dates_and_numbers_excel_reads_as_numbers():
    data = csv_bytes(SHOWN)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = cells(data.decode("utf-8-sig"))
    header, first, hidden = rows[0], dict(zip(rows[0], rows[1], strict=True)), dict(zip(rows[0], rows[2], strict=True))
    assert header[-1] == HIDDEN_COLUMN
    assert (first["Referrals"], first["Re-referrals (%)"], first["Cost (£)"]) == ("1545", "20.3", "1150")
    assert (first["Last visit"], first["Due"]) == ("2026-04-07", "2026-04-07")
    assert first["Note"] == "Assessment – section 17 ✓"  # the en dash and tick survive
    assert hidden["Note"] == "'=1+1"
    assert (hidden["Referrals"], hidden["Rate"], hidden[HIDDEN_COLUMN]) == ("", "", "Referrals; Re-referrals; Rate")
    assert "c" not in hidden.values()  # the symbol is not a value in a number column


def test_workbook_has_an_about_sheet_and_real_number_and_date_cells():
    about = About(
        page="Caseload",
        title="Caseload by worker",
        description="Open cases per worker.",
        filters={"team": "T07"},
        as_of=dt.date(2026, 3, 31),
        council="Northfield",
        extract_version="contract 1.1, files abc",
        suppression="Counts from 1 to 5 are hidden.",
    )
    book = load_workbook(io.BytesIO(xlsx_bytes(SHOWN, about)))
    assert book.sheetnames == ["About", "Data"]
    said = {row[0]: row[1] for row in book["About"].iter_rows(min_row=2, values_only=True)}
    assert said["What this is"] == "Caseload by worker, from the Caseload page of ChildStat"
    assert (said["Filters"], said["Figures as at"], said["Description"]) == (
        "team: T07",
        "2026-03-31",
        "Open cases per worker.",
    )
    assert said["Small numbers"] == "Counts from 1 to 5 are hidden."
    assert said["Extract version"] == "contract 1.1, files abc" and said["Generated at"]
    data = book["Data"]
    header = [c.value for c in data[1]]
    row = dict(zip(header, [c.value for c in data[2]], strict=True))
    hidden = dict(zip(header, [c.value for c in data[3]], strict=True))
    assert row["Referrals"] == 1545 and isinstance(row["Referrals"], int)
    assert row["Re-referrals (%)"] == 20.3 and row["Open"] == 3
    assert row["Due"] == dt.datetime(2026, 4, 7) and row["Last visit"] == dt.datetime(2026, 4, 7)
    assert data.cell(2, header.index("Due") + 1).number_format == "yyyy-mm-dd"
    assert row["Child"] == "0042"
    assert hidden["Referrals"] is None and hidden[HIDDEN_COLUMN] == "Referrals; Re-referrals; Rate"
    assert hidden["Note"] == "'=1+1" and data.cell(3, header.index("Note") + 1).data_type == "s"


def test_file_names_say_page_filter_and_date():
    assert file_name("caseload", {"team": "T07"}, dt.date(2026, 3, 31), "csv") == "caseload_team-T07_2026-03-31.csv"
    assert file_name("measure", {"team": "T 7/x", "measure": None}, None, "xlsx") == "measure_team-T-7-x.xlsx"


def test_a_download_is_recorded_when_it_is_made_and_not_made_if_it_cannot_be(tmp_path, monkeypatch):
    import json

    import pytest

    from pages import _audit
    from pages._hosting import Hosting
    from queries.access import Scope

    log = tmp_path / "audit.jsonl"
    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(log))
    monkeypatch.setattr(_frame._router, "active", True, raising=False)
    monkeypatch.setattr(_frame, "hosting", lambda: Hosting("hosted", audit_key=b"k" * 32))
    monkeypatch.setattr(_frame, "current_access", lambda config=None: _frame.Access(Scope("analyst", "a@x")))
    make = _frame.audited_download("chronology_C.1.2_2026-03-31.csv", 3, lambda: b"made")
    assert not log.exists()  # offering a download records nothing
    assert make() == b"made"
    [event] = [json.loads(line) for line in log.read_text().splitlines()]
    assert (event["event"], event["user"], event["rows"]) == ("download", "a@x", 3)
    assert event["file"].startswith("chronology_child:") and "C.1.2" not in log.read_text()
    log.unlink()
    log.mkdir()  # the audit log cannot be written: a hosted instance makes nothing
    made = []
    make = _frame.audited_download("caseload.csv", 1, lambda: made.append(1) or b"made")
    with pytest.raises(_audit.AuditWriteError):
        make()
    assert made == []


def test_a_download_that_fails_says_nothing_of_the_data(tmp_path, monkeypatch):
    import pytest

    from pages._hosting import Hosting
    from queries.access import Scope

    monkeypatch.setenv("CHILDSTAT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setattr(_frame._router, "active", True, raising=False)
    monkeypatch.setattr(_frame, "hosting", lambda: Hosting("local"))
    monkeypatch.setattr(_frame, "current_access", lambda config=None: _frame.Access(Scope("analyst", "a@x")))

    def fails():
        raise ValueError("child C0042 born 2012-01-01")

    with pytest.raises(_frame.DownloadNotMade) as raised:
        _frame.audited_download("caseload.csv", 1, fails)()
    assert "C0042" not in str(raised.value) and raised.value.__cause__ is None and raised.value.__suppress_context__
