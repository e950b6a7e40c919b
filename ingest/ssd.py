"""Standard Safeguarding Dataset (SSD) export -> an extract: a folder of `ssd_*.csv` or `ssd_*.parquet`.

Councils that run the SSD build the same `ssd_*` tables in their case-management system and can
export each as a file. This reader maps them onto the contract, table by table (docs/import.md,
"SSD"): person -> children; department, professionals, involvements -> teams, workers and who
holds each referral (ingest.ssd_staff); contacts, cin_episodes, assessments and their factors,
S47 enquiries and initial conferences, CP plans and reviews, CIN plans, the three visit tables,
early help (ingest.ssd_casework); CLA episodes with their placement and legal status, CLA
reviews, missing episodes, care leavers and UASC (ingest.ssd_care). What each SSD table is read
for is declared in ingest.ssd_tables; the SSD tables the contract has no place for are read and
reported as not used.

IDs: like the other importers, rows get IDs made from the child and the date
(`<child>/R/<referral date>`, `<child>/LA/<episode start>`, ...), so a referral or episode met in
the CIN census, Annex A or SSDA903 and again in the SSD is one row; two different SSD rows that
would get the same ID get a suffix (-2, -3). The SSD's own IDs link the SSD tables to each other.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest import ssd_care, ssd_casework
from ingest.report import RunReport, SourceError
from ingest.rows import Cell, Imported, Tables, sex_of
from ingest.ssd_files import Record, SourceTable, read_export
from ingest.ssd_staff import Staff
from ingest.ssd_tables import NOT_USED, USED
from schemas.codes import codes

ETHNICITY_WORDS = {"cnhe": "CHNE"}  # the SSD guidance's spelling of Chinese


def read(path: str | Path, report: RunReport) -> Imported:
    """Read an SSD export folder; SourceError if it holds no usable ssd_person table."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".zip":
        raise SourceError(f"{path.name} is a zip file: unzip it and give the folder of ssd_* files")
    found = read_export(path, report)
    if "ssd_person" not in found:
        seen = ", ".join(sorted(found)) or "no SSD tables"
        raise SourceError(
            f"no ssd_person table in {path.name}: the SSD export must include ssd_person.csv (or .parquet), "
            f"which names every child. Found: {seen}"
        )
    if not found["ssd_person"].records:
        raise SourceError(f"{', '.join(found['ssd_person'].files)} holds no people: nothing to import")
    for table in sorted(set(USED) - set(found)):
        report.note(f"{table} is not in the export: {', '.join(USED[table].fills)} not filled from it")
    for table in sorted(set(found) & set(NOT_USED)):
        n = len(found[table].records)
        report.note(f"{table}: {n} row(s) read, not used ({NOT_USED[table]})")
    return Reader(report, found).read()


class MadeIds:
    """IDs made from a child and a date, one per SSD row: a second SSD row with the same base gets -2."""

    def __init__(self):
        self.by_source: dict[str, str] = {}
        self.used: set[str] = set()

    def make(self, base: str, source_id: str | None) -> str | None:
        """The ID for the SSD row `source_id` (None if that SSD ID was met before: the same row twice)."""
        if source_id is not None and source_id in self.by_source:
            return None
        made, n = base, 2
        while made in self.used:
            made, n = f"{base}-{n}", n + 1
        self.used.add(made)
        if source_id is not None:
            self.by_source[source_id] = made
        return made

    def get(self, source_id: str | None) -> str | None:
        return self.by_source.get(source_id) if source_id is not None else None


class Reader:
    """The state of one SSD import: the tables being filled and how SSD IDs map to made ones."""

    def __init__(self, report: RunReport, found: dict[str, SourceTable]):
        self.report, self.found = report, found
        self.tables = Tables(report, "ssd")
        self.staff = Staff(self.tables, report)
        self.latest: dt.date | None = None
        self.children: set[str] = set()
        self.ids: dict[str, MadeIds] = {}
        self.referral_dates: dict[str, list[tuple[dt.date, str]]] = {}  # child -> (date, referral_id)

    # --- helpers shared by ssd_casework and ssd_care ---------------------------------------------

    def rows(self, table: str) -> list[Record]:
        return self.found[table].records if table in self.found else []

    def has(self, table: str) -> bool:
        return table in self.found

    def cell(self, table: str, rec: Record) -> Cell:
        return Cell(self.report, table, rec.where)

    def made(self, table: str) -> MadeIds:
        return self.ids.setdefault(table, MadeIds())

    def seen(self, *dates) -> None:
        for d in dates:
            if d and d <= dt.date.today() and (self.latest is None or d > self.latest):
                self.latest = d

    def person(self, cell: Cell, value) -> str | None:
        """The child's ID; a row whose person is missing, or not in ssd_person, fails (it would match no child)."""
        child = cell.ident(value, "child_id")
        if child is not None and child not in self.children:
            cell.failed = cell.failed or "the person is not in ssd_person"
        return child

    def referral_for(self, child: str, ssd_referral: str | None, date: dt.date | None) -> str | None:
        """The made referral_id for an SSD referral ID; else the child's latest referral on or before `date`."""
        made = self.made("referrals").get(ssd_referral)
        if made or date is None:
            return made
        before = [(d, rid) for d, rid in self.referral_dates.get(child, []) if d <= date]
        if before:
            self.report.assume(
                "a row whose referral ID is not in ssd_cin_episodes is linked to the child's latest referral "
                "on or before it"
            )
            return max(before)[1]
        return None

    # --- the import -------------------------------------------------------------------------------

    def read(self) -> Imported:
        self.read_children()
        for rec in self.rows("ssd_department"):
            self.staff.department(rec)
        for rec in self.rows("ssd_professionals"):
            self.staff.professional(rec)
        for rec in self.rows("ssd_involvements"):
            self.staff.involvement(rec)
        if self.has("ssd_involvements"):
            self.report.note(
                f"ssd_involvements: {len(self.rows('ssd_involvements'))} row(s) read for who holds each referral "
                "and each worker's team"
            )
        ssd_casework.read_all(self)
        ssd_care.read_all(self)
        self.staff.finish(self.latest or dt.date.today())
        self.report.note(
            "IDs are made from the child's ID and the event's date (as for the CIN census, Annex A and SSDA903), "
            "so the same referral or episode from another source merges into one row"
        )
        return Imported(self.tables.label, self.tables.frames(), self.latest)

    def read_children(self) -> None:
        disability = self.disabilities()
        self.tables.start("children")
        for rec in self.rows("ssd_person"):
            self.report.read("children")
            cell = self.cell("children", rec)
            child_id = cell.ident(rec["pers_person_id"], "child_id")
            if cell.failed:
                self.report.drop("children", cell.failed, rec.where)
                continue
            born = rec["pers_dob"] if rec["pers_dob"] not in (None, "") else rec["pers_expected_dob"]
            birth = cell.date(born, "birth_date")
            if birth is None:
                self.report.problem("children", rec.where, "birth_date", None, "no birth date: kept empty")
            row = {
                "child_id": child_id,
                "family_id": None,
                "sex": self.sex(cell, rec["pers_sex"]),
                "birth_date": birth,
                "ethnicity": cell.code(rec["pers_ethnicity"], "ethnicity", codes("ethnicity"), ETHNICITY_WORDS),
                "disability": disability.get(child_id) if self.has("ssd_disability") else None,
            }
            if self.tables.add("children", row, rec.where):
                self.children.add(child_id)

    def sex(self, cell: Cell, value) -> str:
        if cell.text(value, "sex") is None:
            self.report.assume("children: a person with no pers_sex has sex U (not known)")
            return "U"
        return sex_of(cell, value)

    def disabilities(self) -> dict[str, bool]:
        """child -> whether any ssd_disability row names a disability (NONE alone: false)."""
        out: dict[str, bool] = {}
        for rec in self.rows("ssd_disability"):
            cell = self.cell("children", rec)
            child = cell.ident(rec["disa_person_id"], "child_id", required=False)
            code = str(rec["disa_disability_code"] or "").strip().upper()  # not values.text: it reads NONE as empty
            if child and code:
                out[child] = out.get(child, False) or code != "NONE"
        if self.has("ssd_disability"):
            self.report.assume(
                "children: disability is true when ssd_disability names any disability other than NONE, false for "
                "NONE alone, empty for a child it does not list; the disability codes themselves are not used"
            )
        return out
