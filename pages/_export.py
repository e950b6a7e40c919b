"""Downloads people use: CSV for any spreadsheet and .xlsx with an "About" sheet, safe to open.

**Formulas.** Excel, LibreOffice and Google Sheets take a cell that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return as a formula (OWASP "CSV injection"): a child ID or a free-text field in an
extract such as `=HYPERLINK("http://x","y")` would become a live link on a manager's machine. Every
download goes through `neutralised`, which prefixes such a value with a single quote, in text columns
only: numbers, dates and booleans are written as they are (a negative count stays a number, while the
text "-5" becomes "'-5").

**Numbers as numbers.** A page shows figures as words ("1,545", "20.3%", "£1,150", "7 Apr 2026",
"c" for a hidden count). `spreadsheet_frame` turns such a text column back into numbers or ISO dates
(an interval "20.3 (15.7–25.9)" into three number columns) when every value in it reads as one
kind; identifier columns (child, worker, team, item, code, ID) stay text, so "0042" keeps its zero.

**Hidden counts stay hidden.** A figure the engine protected reaches a page as the suppression symbol
(or as an empty value). In a download it is an empty cell, never a number, and a last column
"Hidden for privacy" names, row by row, the columns whose figure was hidden. The "About" sheet of the
workbook states the rule. docs/reports.md has the decisions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"  # what a spreadsheet reads as the start of a formula
HIDDEN_COLUMN = "Hidden for privacy"
BOM = "\ufeff"  # so Excel reads the CSV as UTF-8 (en dashes, £, accents) rather than the local code page

_NUMBER = r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?"
_PLAIN = re.compile(rf"^(?P<pound>£)?(?P<n>{_NUMBER})(?P<pct>%)?$")
_INTERVAL = re.compile(rf"^(?P<n>{_NUMBER})(?P<pct>%)? \((?P<lo>{_NUMBER})%?\s*(?:–|-|to)\s*(?P<hi>{_NUMBER})%?\)$")
_DAY = re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}$")
_NONE = {"", "–", "—", "-", "n/a"}
_IDENTIFIER = re.compile(r"(?i)(^|[\s_])(id|child|worker|team|item|code|urn|upn)($|[\s_])")


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text value that a spreadsheet would run as a formula prefixed with "'"."""
    text = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    ]
    return frame.with_columns(
        pl.when(value.str.contains(FORMULA_START)).then(pl.lit("'") + value).otherwise(value).alias(name)
        for name in text
        for value in [pl.col(name).cast(pl.String)]
    )


def safe_csv(frame: pl.DataFrame) -> str:
    """The frame as CSV text, formula-like text neutralised (see the module's notes)."""
    return neutralised(frame).write_csv()


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _read_column(name: str, values: list, symbol: str) -> tuple[dict[str, pl.Series], list[bool]] | None:
    """A text column read back as numbers or dates: {new name: values}, and which rows were hidden.

    None when the column is not one kind of figure throughout (then it stays text)."""
    if _IDENTIFIER.search(name):
        return None
    hidden = [v == symbol for v in values]
    real = [
        v.strip() for v, h in zip(values, hidden, strict=True) if v is not None and not h and v.strip() not in _NONE
    ]
    if not real:
        return None
    blank = [v is None or h or v.strip() in _NONE for v, h in zip(values, hidden, strict=True)]
    if all(_DAY.match(v) for v in real):
        days = [
            None if b else dt.datetime.strptime(v.strip(), "%d %b %Y").date()
            for v, b in zip(values, blank, strict=True)
        ]
        return {name: pl.Series(name, days, dtype=pl.Date)}, hidden
    for pattern in (_PLAIN, _INTERVAL):
        matches = [pattern.match(v) for v in real]
        if not all(matches):
            continue
        unit = " (%)" if any(m["pct"] for m in matches) and "%" not in name else ""
        unit = " (£)" if pattern is _PLAIN and any(m["pound"] for m in matches) else unit
        parts = ("n",) if pattern is _PLAIN else ("n", "lo", "hi")
        suffixes = {"n": "", "lo": " lower", "hi": " upper"}
        read = iter(matches)
        rows = [None if b else next(read) for b in blank]
        out = {}
        for part in parts:
            numbers = [None if m is None else _number(m[part]) for m in rows]
            whole = all(n is None or n.is_integer() for n in numbers) and not any(
                m is not None and "." in m[part] for m in rows
            )
            column = f"{name}{suffixes[part]}{unit}"
            out[column] = pl.Series(column, numbers, dtype=pl.Int64 if whole else pl.Float64, strict=False)
        return out, hidden
    return None


def spreadsheet_frame(frame: pl.DataFrame, symbol: str = "c") -> pl.DataFrame:
    """What a download holds: figures shown as text read back as numbers and dates, hidden ones empty,
    and a "Hidden for privacy" column naming the hidden figures of each row (only when there are any)."""
    columns: list[pl.Series] = []
    hidden_in_row: list[list[str]] = [[] for _ in range(frame.height)]
    for name, dtype in frame.schema.items():
        series = frame[name]
        read = _read_column(name, series.to_list(), symbol) if dtype == pl.String else None
        if read is None:
            columns.append(series)
            continue
        parts, hidden = read
        columns.extend(parts.values())
        for row, was_hidden in enumerate(hidden):
            if was_hidden:
                hidden_in_row[row].append(name)
    out = pl.DataFrame(columns) if columns else frame
    if any(hidden_in_row):
        out = out.with_columns(pl.Series(HIDDEN_COLUMN, ["; ".join(h) or None for h in hidden_in_row], pl.String))
    return out


def csv_bytes(frame: pl.DataFrame, symbol: str = "c") -> bytes:
    """UTF-8 CSV with a byte-order mark, ISO dates, numbers as numbers, formulas neutralised."""
    text = neutralised(spreadsheet_frame(frame, symbol)).write_csv(
        date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S"
    )
    return (BOM + text).encode("utf-8")


@dataclass(frozen=True)
class About:
    """What a download is, for the first sheet of a workbook (and a PDF's footer)."""

    page: str
    title: str
    description: str = ""
    filters: dict = field(default_factory=dict)
    as_of: dt.date | None = None
    council: str = ""
    extract_version: str = ""
    suppression: str = ""
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))

    def rows(self) -> list[tuple[str, str]]:
        filters = "; ".join(f"{k}: {v}" for k, v in self.filters.items() if v not in (None, "")) or "none"
        return [
            ("What this is", f"{self.title}, from the {self.page} page of ChildStat"),
            ("Description", self.description or "–"),
            ("Filters", filters),
            ("Figures as at", self.as_of.isoformat() if self.as_of else "–"),
            ("Council", self.council or "–"),
            ("Extract version", self.extract_version or "–"),
            ("Small numbers", self.suppression or "–"),
            ("Generated at", self.generated_at.isoformat(sep=" ")),
        ]


def extract_version(manifest: dict, signature: str) -> str:
    """The extract's contract version and a fingerprint of its files (changes whenever any file does)."""
    fingerprint = hashlib.sha256(signature.encode()).hexdigest()[:12]
    return f"contract {manifest.get('contract', 1)}, files {fingerprint}"


def suppression_rule(role: str, enabled: bool, threshold: int, symbol: str) -> str:
    """The disclosure rule as it applied to this reader, in words."""
    if role in ("admin", "analyst") or not enabled:
        return "Exact figures: small numbers are not hidden in this file. Check before sharing outside the service."
    return (
        f"Counts from 1 to {threshold} about children outside the reader's own scope are hidden (shown as "
        f"'{symbol}' on the page), with secondary suppression. In this file a hidden figure is an empty cell, "
        f"named in the '{HIDDEN_COLUMN}' column."
    )


# Filters that would put a child's ID or a person's name in a file name: a file name is seen where its
# content is not (a Downloads folder, an e-mail, a sync log), so these are refused. Codes (team, worker) are fine.
PERSONAL_FILTERS = {"child", "child_id", "child_ids", "name", "worker_name", "person", "reviewer", "created_by"}


def file_name(stem: str, filters: dict | None, as_of: dt.date | None, extension: str) -> str:
    """'caseload', {"team": "T07"}, 2026-03-31 -> 'caseload_team-T07_2026-03-31.csv' (file-safe characters only)."""
    personal = PERSONAL_FILTERS.intersection(filters or {})
    if personal:
        raise ValueError(f"a file name never carries a child's ID or a person's name: {sorted(personal)}")
    parts = [stem] + [f"{k}-{v}" for k, v in (filters or {}).items() if v not in (None, "")]
    if as_of:
        parts.append(as_of.isoformat())
    safe = "_".join(re.sub(r"[^A-Za-z0-9._\-]+", "-", str(p)).strip("-") for p in parts)
    return f"{safe}.{extension}"


def xlsx_bytes(frame: pl.DataFrame, about: About, symbol: str = "c") -> bytes:
    """A workbook: an "About" sheet saying what it is, then the data with real number and date cells."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    data = neutralised(spreadsheet_frame(frame, symbol))
    book = Workbook()
    sheet = book.active
    sheet.title = "About"
    sheet.append(["ChildStat download", ""])
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in about.rows():
        sheet.append([label, ILLEGAL_CHARACTERS_RE.sub("", value)])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        sheet.cell(sheet.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 100

    table = book.create_sheet("Data")
    table.append(data.columns)
    for cell in table[1]:
        cell.font = Font(bold=True)
    for row in data.iter_rows():
        table.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    for index, (name, dtype) in enumerate(data.schema.items(), start=1):
        letter = table.cell(1, index).column_letter
        if dtype == pl.Date or dtype == pl.Datetime:
            for (cell,) in table.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "yyyy-mm-dd" if dtype == pl.Date else "yyyy-mm-dd hh:mm"
        longest = max([len(str(name))] + [len(str(v)) for v in data[name].head(200).to_list() if v is not None])
        table.column_dimensions[letter].width = min(max(longest + 2, 8), 60)
    table.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
