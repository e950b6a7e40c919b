"""Import the files a council already has into a contract-v1 extract.

    python -m ingest annex-a FILE.xlsx --out DIR
    python -m ingest cin-census FILE.xml --out DIR
    python -m ingest ssda903 FOLDER --out DIR        # the 903 CSVs (header, episodes, ...)
    python -m ingest ssd FOLDER --out DIR            # a Standard Safeguarding Dataset export (ssd_*.csv/.parquet)

    report = run_import("cin-census", "census.xml", "extract/")   # a RunReport, never raises

Each reader (annex_a, cin_census, ssda903, ssd) maps what its source holds onto contract tables,
recording in a RunReport every row dropped and every value not understood; merge.write then
merges the rows into the extract folder (a new one or an existing extract) and privacy.degrade
applies the privacy option, on by default. See docs/import.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from ingest.report import RunReport, SourceError

log = logging.getLogger("childstat.ingest")

FORMATS = {
    "annex-a": "Ofsted Annex A workbook (.xlsx)",
    "cin-census": "DfE CIN census XML",
    "ssda903": "SSDA903 return: a folder of CSV files",
    "ssd": "Standard Safeguarding Dataset export: a folder of ssd_*.csv or ssd_*.parquet files",
}

__all__ = ["FORMATS", "RunReport", "SourceError", "run_import", "read_source"]


def read_source(kind: str, source: str | Path, report: RunReport):
    """Read one source into an `Imported` (typed frames); SourceError if it cannot be used."""
    path = Path(source)
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    if kind == "cin-census":
        from ingest import cin_census

        if path.is_dir():
            raise SourceError(f"{path} is a folder; give the CIN census XML file")
        return cin_census.read(path, report)
    if kind == "ssda903":
        from ingest import ssda903

        return ssda903.read(path, report)
    if kind == "ssd":
        from ingest import ssd

        return ssd.read(path, report)
    if kind == "annex-a":
        from ingest import annex_a

        if path.is_dir():
            raise SourceError(f"{path} is a folder; give the Annex A workbook (.xlsx)")
        return annex_a.read(path, report)
    raise SourceError(f"unknown format {kind!r}; expected one of {', '.join(FORMATS)}")


def run_import(
    kind: str,
    source: str | Path,
    out: str | Path,
    private: bool = True,
    la_name: str | None = None,
    la_code: str | None = None,
) -> RunReport:
    """Import `source` into the extract folder `out`; the report's `error` says if it could not."""
    from ingest import merge

    report = RunReport(kind, Path(source).name)
    try:
        merge.check_out(Path(out))
        imported = read_source(kind, source, report)
        if imported.as_of is None or imported.as_of > dt.date.today():
            imported.as_of = min(imported.as_of or dt.date.today(), dt.date.today())
        if " " not in imported.label:  # the CIN census labels itself with its ReferenceDate
            imported.label = f"{imported.label} {imported.as_of.isoformat()}"
        _relabel(imported)
        merge.write(imported, Path(out), report, private, la_name, la_code)
    except SourceError as exc:
        report.error = str(exc)
    except MemoryError:
        raise  # not the file's fault as such: the caller (the command line, the Import page's child) says so
    except Exception as exc:  # noqa: BLE001 - a well-formed but unexpected file gets a message, not a traceback
        log.error("import of a %s file failed: %s", kind, type(exc).__name__)  # no values: they may identify a child
        report.error = (
            f"the file could not be imported ({type(exc).__name__}). Nothing was written. "
            "Please report this with the format and the error type; do not send the file."
        )
    return report


def _relabel(imported) -> None:
    """Stamp every row with the final source label (format and reference date)."""
    import polars as pl

    from ingest.rows import IMPORTED_FROM

    imported.frames = {
        t: f.with_columns(pl.lit(imported.label, dtype=pl.String).alias(IMPORTED_FROM))
        for t, f in imported.frames.items()
    }
