"""Downloads that are safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets take a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return as a formula (OWASP "CSV injection"): a child ID or a free-text field in an extract
such as `=HYPERLINK("http://x","y")` would become a live link on a manager's machine. Every CSV
a page offers goes through `safe_csv`, which prefixes such a value with a single quote, in text
columns only: numbers, dates and booleans are written as they are (a negative count stays a number,
while the text "-5" becomes "'-5").
"""

from __future__ import annotations

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"  # what a spreadsheet reads as the start of a formula


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
    """The frame as CSV text for a download, formula-like text neutralised (see the module's notes)."""
    return neutralised(frame).write_csv()
