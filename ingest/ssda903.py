"""SSDA903 (children looked after) CSVs -> children, looked_after, workers.

Each CSV is recognised by its columns, not its name, so "header.csv", "SSDA903_Header_2024.csv"
and "Header.CSV" all work:

- header (CHILD, SEX, DOB, ETHNIC) -> children: SEX 1/2 -> M/F, DOB dd/mm/yyyy, ETHNIC;
- episodes (CHILD, DECOM, LS, PLACE; DEC, HOME_POST, PL_POST when present) -> looked_after,
  one row per episode: episode_id "<CHILD>/LA/<DECOM>", LS -> legal_status, PLACE ->
  placement_type, HOME_POST/PL_POST kept as extra columns home_postcode/placement_postcode;
- sw_episodes (CHILD, SW_ID, SW_DECOM) -> workers (the source's SW_ID; no name, no team).

The other 903 tables (reviews, uasc, oc2, oc3, ad1, missing, placed_for_adoption,
previous_permanence) have no contract table and are listed as not used. The 903 return holds
no referrals or assessments: those core tables are left out (import the CIN census too).
A file named like a 903 table but without its columns is an error naming what is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from ingest.orgs import Orgs
from ingest.report import RunReport, SourceError
from ingest.rows import Cell, Imported, Tables, sex_of
from schemas.codes import codes, retired

KNOWN = {  # table: columns that identify it
    "header": ("CHILD", "SEX", "DOB", "ETHNIC"),
    "episodes": ("CHILD", "DECOM", "LS", "PLACE"),
    "sw_episodes": ("CHILD", "SW_ID", "SW_DECOM"),
    "reviews": ("CHILD", "REVIEW"),
    "uasc": ("CHILD", "DUC"),
    "missing": ("CHILD", "MIS_START"),
    "oc2": ("CHILD", "SDQ_SCORE"),
    "oc3": ("CHILD", "IN_TOUCH"),
    "ad1": ("CHILD", "DATE_INT"),
    "placed_for_adoption": ("CHILD", "DATE_PLACED"),
    "previous_permanence": ("CHILD", "PREV_PERM"),
}
USED = ("header", "episodes", "sw_episodes")


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            content = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        reader = csv.reader(io.StringIO(content, newline=""))
        rows = list(reader)
    except csv.Error as exc:
        raise SourceError(f"{path.name} is not a readable CSV file ({exc})") from None
    if not rows:
        return [], []
    columns = [c.replace("\ufeff", "").strip().upper() for c in rows[0]]
    records = []
    for line in rows[1:]:
        if not any(v.strip() for v in line):
            records.append({})  # a blank line: skipped, but keeps line numbers right
            continue
        records.append(dict(zip(columns, line, strict=False)))
    return columns, records


def _identify(path: Path, columns: list[str]) -> str | None:
    stem = path.stem.lower()
    for table, needed in KNOWN.items():
        if all(c in columns for c in needed):
            return table
    for table, needed in KNOWN.items():  # named like a 903 table, but the columns are wrong
        if stem == table or stem.endswith(f"_{table}") or stem.startswith(f"{table}_"):
            missing = [c for c in needed if c not in columns]
            found = ", ".join(columns[:12]) or "none"
            raise SourceError(
                f"{path.name} looks like the SSDA903 {table} table but lacks the columns {', '.join(missing)} "
                f"(found: {found})"
            )
    return None


def read(path: str | Path, report: RunReport) -> Imported:
    """Read a folder of 903 CSVs (or one CSV); SourceError if neither header nor episodes is there."""
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv") if path.is_dir() else [path]
    found: dict[str, list[tuple[Path, list[dict]]]] = {}
    unknown = []
    for file in files:
        columns, records = _read_csv(file)
        table = _identify(file, columns)
        if table is None:
            unknown.append(f"{file.name} (columns {', '.join(columns[:8]) or 'none'})")
            continue
        found.setdefault(table, []).append((file, records))
    if "header" not in found and "episodes" not in found:
        seen = "; ".join(unknown) or "no CSV files"
        raise SourceError(
            f"no SSDA903 header or episodes table in {path.name}: expected a CSV with the columns "
            f"{', '.join(KNOWN['header'])} (header) or {', '.join(KNOWN['episodes'])} (episodes). Found: {seen}"
        )
    for item in unknown:
        report.note(f"not an SSDA903 table, not used: {item}")
    for table in sorted(set(found) - set(USED)):
        report.note(f"903 {table} table read but not used: the contract has no table for it")
    return _Reader(report).read(found)


class _Reader:
    def __init__(self, report: RunReport):
        self.report = report
        self.tables = Tables(report, "ssda903")
        self.orgs = Orgs(self.tables)
        self.latest: dt.date | None = None

    def read(self, found: dict[str, list[tuple[Path, list[dict]]]]) -> Imported:
        if "header" in found:
            self.tables.start("children")
            for file, records in found["header"]:
                self._each(file, records, self.child)
        if "episodes" in found:
            self.tables.start("looked_after")
            for file, records in found["episodes"]:
                self._each(file, records, self.episode)
        if "sw_episodes" in found:
            for file, records in found["sw_episodes"]:
                self._each(file, records, self.worker)
            self.orgs.finish(self.latest or dt.date.today())
        return Imported(self.tables.label, self.tables.frames(), self.latest)

    def _each(self, file: Path, records: list[dict], handle) -> None:
        for n, record in enumerate(records, 2):
            if record:
                handle(record, f"{file.name} line {n}")

    def _seen(self, *dates) -> None:
        for d in dates:
            if d and d <= dt.date.today() and (self.latest is None or d > self.latest):
                self.latest = d

    def child(self, rec: dict, where: str) -> None:
        self.report.read("children")
        cell = Cell(self.report, "children", where)
        child_id = cell.ident(rec.get("CHILD"), "child_id")
        birth = cell.date(rec.get("DOB"), "birth_date")
        if cell.failed:
            self.report.drop("children", cell.failed, where)
            return
        if birth is None:
            self.report.problem("children", where, "birth_date", rec.get("DOB"), "no birth date: kept empty")
        row = {
            "child_id": child_id,
            "family_id": None,
            "sex": sex_of(cell, rec.get("SEX")),
            "birth_date": birth,
            "ethnicity": cell.code(rec.get("ETHNIC"), "ethnicity", codes("ethnicity")),
            "disability": None,
        }
        self.tables.add("children", row, where, merge=True)

    def episode(self, rec: dict, where: str) -> None:
        self.report.read("looked_after")
        cell = Cell(self.report, "looked_after", where)
        child_id = cell.ident(rec.get("CHILD"), "child_id")
        start = cell.date(rec.get("DECOM"), "start_date", required=True)
        end = cell.date(rec.get("DEC"), "end_date")
        legal = cell.code(
            rec.get("LS"),
            "legal_status",
            codes("ssda903_legal_status"),
            accept=retired("ssda903_legal_status"),
            required=True,
        )
        place = cell.code(
            rec.get("PLACE"),
            "placement_type",
            codes("ssda903_placement"),
            accept=retired("ssda903_placement"),
            required=True,
        )
        if cell.failed:
            self.report.drop("looked_after", cell.failed, where)
            return
        self._seen(start, end)
        row = {
            "episode_id": f"{child_id}/LA/{start.isoformat()}",
            "child_id": child_id,
            "start_date": start,
            "end_date": end,
            "legal_status": legal,
            "placement_type": place,
            "weekly_cost": None,
            "home_postcode": cell.text(rec.get("HOME_POST"), "home_postcode"),
            "placement_postcode": cell.text(rec.get("PL_POST"), "placement_postcode"),
        }
        self.tables.add("looked_after", row, where)

    def worker(self, rec: dict, where: str) -> None:
        cell = Cell(self.report, "workers", where)
        wid = cell.ident(rec.get("SW_ID"), "worker_id")
        seen = cell.date(rec.get("SW_DECOM"), "start_date")
        if wid:
            self.orgs.worker(None, None, seen, wid=wid)
