"""SSDA903 (children looked after) CSVs -> children, looked_after, workers, cla_reviews,
missing_episodes, uasc, care_leavers.

Each CSV is recognised by its columns, not its name, so "header.csv", "SSDA903_Header_2024.csv"
and "Header.CSV" all work:

- header (CHILD, SEX, DOB, ETHNIC) -> children: SEX 1/2 -> M/F, DOB dd/mm/yyyy, ETHNIC;
- episodes (CHILD, DECOM, LS, PLACE; DEC, HOME_POST, PL_POST when present) -> looked_after,
  one row per episode: episode_id "<CHILD>/LA/<DECOM>", LS -> legal_status, PLACE ->
  placement_type, HOME_POST/PL_POST kept as extra columns home_postcode/placement_postcode;
- sw_episodes (CHILD, SW_ID, SW_DECOM) -> workers (the source's SW_ID; no name, no team);
- reviews (CHILD, REVIEW, REVIEW_CODE) -> cla_reviews: review_date, participation PN0-PN7;
- missing (CHILD, MISSING, MIS_START, MIS_END) -> missing_episodes: missing_type M (missing) or
  A (away without authorisation), start and end (return_interview_offered: not in the 903);
- uasc (CHILD, DUC) -> uasc: ceased_date, the date UASC status ceased. A DUC after as_of (the
  903 often holds the 18th birthday ahead of time) is left empty, still UASC on as_of, and counted;
- oc3 (CHILD, IN_TOUCH, ACTIV, ACCOM) -> care_leavers, read by ingest.care_leavers: ACCOM "K1" is
  accommodation K, suitable; "K2" not suitable. recorded_date is the end of the collection year
  (31 March) when the file or folder names say which ("SSDA903_2023-24", "header_2024.csv"),
  else the return's as_of.

as_of is the latest event date (episodes, reviews, missing) that is not in the future, or the end
of the collection year named, if later. The other 903 tables (oc2, ad1, placed_for_adoption,
previous_permanence) have no contract table and are listed as read but not used. The 903
return holds no referrals or assessments: those tables are left out (import the CIN census too).
A file named like a 903 table but without its columns is an error naming what is missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

from ingest.care_leavers import CareLeaverCodes
from ingest.orgs import Orgs
from ingest.report import RunReport, SourceError
from ingest.rows import Cell, Imported, Tables, sex_of
from ingest.values import words
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
USED = ("header", "episodes", "sw_episodes", "reviews", "missing", "uasc", "oc3")
today = dt.date.today  # events after today are not used for as_of (tests pin it)
YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d\d)(?:[-_ ]?(\d\d))?(?!\d)")  # "2024", "2023-24", "2023_24", "202324"


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
    year_end = collection_year_end([file for pairs in found.values() for file, _ in pairs], report)
    return _Reader(report, year_end).read(found)


def collection_year_end(files: list[Path], report: RunReport) -> dt.date | None:
    """31 March of the collection year the 903 files' names give ("2023-24" or "2024" -> 2024-03-31).

    None when no name gives a year, or names give different ones (the report then says so), or
    the year has not ended yet. Only the files' own names count, never a folder's (a temporary
    folder's random name could hold "2024").
    """
    years = set()
    for p in files:
        for first, second in YEAR_IN_NAME.findall(p.stem):
            if not second:
                years.add(int(first))
            elif int(second) == (int(first) + 1) % 100:
                years.add(int(first) + 1)
    if len(years) > 1:
        report.note(
            f"the file names give several collection years ({', '.join(map(str, sorted(years)))}): "
            "as_of is the latest event date"
        )
    if len(years) != 1:
        return None
    end = dt.date(years.pop(), 3, 31)
    return end if end <= today() else None


class _Reader:
    def __init__(self, report: RunReport, year_end: dt.date | None = None):
        self.report = report
        self.tables = Tables(report, "ssda903")
        self.orgs = Orgs(self.tables)
        self.latest: dt.date | None = None
        self.year_end = year_end
        self.ceased: list[tuple[str, dict]] = []  # uasc rows, their ceased_date checked against as_of
        self.leavers: list[tuple[str, dict]] = []  # oc3 rows, recorded_date still to fill
        self.leaver_codes = CareLeaverCodes()

    def read(self, found: dict[str, list[tuple[Path, list[dict]]]]) -> Imported:
        if "header" in found:
            self.tables.start("children")
            for file, records in found["header"]:
                self._each(file, records, self.child)
        if "episodes" in found:
            self.tables.start("looked_after")
            for file, records in found["episodes"]:
                self._each(file, records, self.episode)
        for table, target, handle in (
            ("reviews", "cla_reviews", self.review),
            ("missing", "missing_episodes", self.missing),
            ("uasc", "uasc", self.uasc),
            ("oc3", "care_leavers", self.care_leaver),
        ):
            if table in found:
                self.tables.start(target)
                for file, records in found[table]:
                    self._each(file, records, handle)
        dates = [d for d in (self.latest, self.year_end) if d]
        as_of = max(dates) if dates else None
        self._finish_uasc(as_of)
        self._finish_care_leavers(self.year_end or as_of or today())
        if "sw_episodes" in found:
            for file, records in found["sw_episodes"]:
                self._each(file, records, self.worker)
            self.orgs.finish(as_of or today())
        if self.year_end:
            self.report.note(f"the file names give the collection year ending {self.year_end.isoformat()}")
        return Imported(self.tables.label, self.tables.frames(), as_of)

    def _each(self, file: Path, records: list[dict], handle) -> None:
        for n, record in enumerate(records, 2):
            if record:
                handle(record, f"{file.name} line {n}")

    def _seen(self, *dates) -> None:
        for d in dates:
            if d and d <= today() and (self.latest is None or d > self.latest):
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
            words("ssda903_legal_status"),
            accept=retired("ssda903_legal_status"),
            required=True,
        )
        place = cell.code(
            rec.get("PLACE"),
            "placement_type",
            codes("ssda903_placement"),
            words("ssda903_placement"),
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

    # --- reviews, missing, UASC and care leavers (format 1.1) -----------------------------------

    def review(self, rec: dict, where: str) -> None:
        self.report.read("cla_reviews")
        cell = Cell(self.report, "cla_reviews", where)
        child_id = cell.ident(rec.get("CHILD"), "child_id")
        date = cell.date(rec.get("REVIEW"), "review_date", required=True)
        participation = cell.code(
            rec.get("REVIEW_CODE"),
            "participation",
            codes("cla_review_participation"),
            words("cla_review_participation"),
        )
        if cell.failed:
            self.report.drop("cla_reviews", cell.failed, where)
            return
        self._seen(date)
        self.tables.add(
            "cla_reviews", {"child_id": child_id, "review_date": date, "participation": participation}, where
        )

    def missing(self, rec: dict, where: str) -> None:
        self.report.read("missing_episodes")
        cell = Cell(self.report, "missing_episodes", where)
        child_id = cell.ident(rec.get("CHILD"), "child_id")
        start = cell.date(rec.get("MIS_START"), "start_date", required=True)
        end = cell.date(rec.get("MIS_END"), "end_date")
        kind = cell.code(
            rec.get("MISSING"), "missing_type", codes("missing_type"), words("missing_type"), required=True
        )
        if cell.failed:
            self.report.drop("missing_episodes", cell.failed, where)
            return
        self._seen(start, end)
        row = {"child_id": child_id, "start_date": start, "end_date": end, "missing_type": kind}
        self.tables.add("missing_episodes", row | {"return_interview_offered": None}, where)

    def uasc(self, rec: dict, where: str) -> None:
        self.report.read("uasc")
        cell = Cell(self.report, "uasc", where)
        child_id = cell.ident(rec.get("CHILD"), "child_id")
        ceased = cell.date(rec.get("DUC"), "ceased_date")
        if cell.failed:
            self.report.drop("uasc", cell.failed, where)
            return
        self.ceased.append((where, {"child_id": child_id, "ceased_date": ceased}))

    def _finish_uasc(self, as_of: dt.date | None) -> None:
        """A DUC after as_of is not yet an end: the child was still UASC on as_of."""
        later = 0
        for where, row in self.ceased:
            if as_of and row["ceased_date"] and row["ceased_date"] > as_of:
                row["ceased_date"], later = None, later + 1
            self.tables.add("uasc", row, where)
        if later:
            self.report.assume(
                f"uasc: {later} dates UASC ceased (DUC) after as_of, often the 18th birthday recorded ahead, "
                "are left empty: those children were still UASC on as_of"
            )

    def care_leaver(self, rec: dict, where: str) -> None:
        self.report.read("care_leavers")
        cell = Cell(self.report, "care_leavers", where)
        child_id = cell.ident(rec.get("CHILD"), "child_id")
        if cell.failed:
            self.report.drop("care_leavers", cell.failed, where)
            return
        row = {"child_id": child_id, "recorded_date": None}
        row |= self.leaver_codes.read(cell, rec.get("IN_TOUCH"), rec.get("ACTIV"), rec.get("ACCOM"))
        self.leavers.append((where, row))

    def _finish_care_leavers(self, recorded: dt.date) -> None:
        for where, row in self.leavers:
            self.tables.add("care_leavers", row | {"recorded_date": recorded}, where)
        if self.leavers:
            when = "the end of the collection year" if self.year_end else "the return's as_of (its latest event date)"
            self.report.assume(f"care_leavers: OC3 rows are recorded on {when}, {recorded.isoformat()}")
        for line in self.leaver_codes.assumptions():
            self.report.assume(line)
