"""Ofsted Annex A workbook -> children, contacts, early_help, referrals, assessments, section47,
cp_plans, cp_reviews, looked_after, visits, care_leavers, teams, workers (factors: written empty;
cin_plans: not in Annex A).

Lists used (sheets "List 3", "List_3", "list3 referrals"... or, failing a name, recognised by
their headers):

- List 1 contacts -> contacts (date, source; outcome only if a column gives one; no team).
  contact_id is the workbook's if it has a column for it, else "<child>/K/<date>", with "/2",
  "/3" for the child's second and third contact that day in the workbook's order;
- List 2 early help -> early_help (assessment start and completion date; reason and outcome
  where a column gives them; the organisation completing it as an extra column);
- List 3 referrals -> referrals (date, source, NFA, allocated team and worker);
- List 4 assessments -> assessments (start, authorisation, assessed as in need);
- List 5 S47 enquiries -> section47 (strategy discussion, ICPC unnecessary, ICPC date);
- List 6 children in need -> referrals (CIN start date = the referral date of the episode,
  primary need, closure date and reason) and a `cin` visit on the date the child was last seen;
- List 7 CP plans -> cp_plans, a `cp` visit (last statutory visit, seen alone) and a cp_review
  (latest review conference);
- List 8 looked after -> looked_after (one row per period of care, with the current legal status
  and placement) and a `cla` visit (last social work visit);
- List 9 care leavers -> care_leavers (in touch, activity, accommodation and its suitability,
  read by ingest.care_leavers; recorded_date the latest date of contact if a column gives it,
  else the workbook's as_of);
- List 10 adoption -> children.family_id (the family identifier) for children met above.

List 11 (adopters) has no contract table. Contacts, early help and care leavers are written only
when the workbook has their list. A child's demographics come from every list used, so a child
met only in List 1, 2 or 9 still gets a children row. Codes may be written as codes or in words
("Police", "Neglect", "Full care order"): ingest.values.words reads both.

Annex A holds no referral IDs: an assessment or S47 is linked to the child's latest referral
(List 3 or 6) on or before it; with none it is dropped (the report says so); a CP plan with none
keeps an empty referral_id. A List 6 row with no matching List 3 referral has source 10
(Unknown) and nfa false. Annex A holds no factors: factors is written empty. Values carry list letters ("a) Male", "q) 6: Police"),
non-breaking spaces, Excel errors (#N/A) and formulas; a formula with no saved value is
reported, not guessed.

Safety: before openpyxl opens the workbook, ingest.safe_files checks its zip directory (a file
that would unpack to too much, or packs too tightly, is refused); openpyxl parses each part
with defusedxml, and a part declaring a DOCTYPE or entities is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections import Counter
from pathlib import Path

import defusedxml

from ingest import safe_files
from ingest.care_leavers import CareLeaverCodes
from ingest.orgs import Orgs
from ingest.report import RunReport, SourceError
from ingest.rows import Cell, Imported, Tables, sex_of
from ingest.values import text, words
from schemas.codes import codes, retired

FILLS = (
    "children",
    "referrals",
    "assessments",
    "factors",
    "section47",
    "cp_plans",
    "cp_reviews",
    "looked_after",
    "visits",
)
SHEET_NAME = re.compile(r"^\s*list[\s_\-.]*(\d{1,2})(?!\d)", re.IGNORECASE)
HEADER_SCAN_ROWS = 12

COMMON = {
    "child_id": r"child unique id|unique child id|child id|^id$|child identifier|^child$",
    "family_id": r"family identifier|family id",
    "sex": r"^gender|^sex",
    "ethnicity": r"^ethnicity",
    "birth_date": r"date of birth|^dob",
    "disability": r"disabilit",
    "team": r"allocated team|^team",
    "worker": r"allocated worker|^worker|allocated social worker",
}
FIELDS = {  # list number: field -> header pattern (matched on the lower-cased, trimmed header)
    1: {"contact_id": r"contact (?:unique )?id|contact reference|contact number", "contact_date": r"date of contact|contact date",
        "source": r"contact source|source of contact|^source", "outcome": r"outcome"},
    2: {"start_date": r"assessment start date|start date", "end_date": r"completion date|end date|closure date",
        "organisation": r"organisation|completed by", "outcome": r"outcome|reason for closure|closure reason",
        "reason": r"reason|presenting need|need"},
    3: {"referral_date": r"date of referral|referral date", "source": r"referral source|source of referral",
        "nfa": r"nfa|no further action"},
    4: {"start_date": r"assessment start date|start date", "authorised_date": r"authoris|completion date",
        "in_need": r"requiring|assessed as|in need"},
    5: {"strategy_date": r"strategy discussion|section 47 enquiry start|s47 start",
        "unnecessary": r"unnecessary|not required", "icpc_date": r"date of initial child protection conference|icpc date"},
    6: {"cin_start": r"cin start date|start date", "primary_need": r"primary need|category of need",
        "last_seen": r"last seen", "closure_date": r"closure date", "closure_reason": r"reason for closure|closure reason"},
    7: {"start_date": r"plan start date", "initial_category": r"initial category",
        "latest_category": r"latest category", "last_visit": r"last statutory visit", "seen_alone": r"seen alone",
        "review_date": r"review conference", "end_date": r"plan end date"},
    8: {"start_date": r"started to be looked after|date (?:the )?child (?:started|entered)",
        "legal_status": r"^child's legal status|^legal status$|^current legal status$", "last_visit": r"last social work visit",
        "end_date": r"ceased to be looked after$|date ceased", "placement_type": r"placement type",
        "placement_postcode": r"placement postcode"},
    9: {"in_touch": r"in touch", "contact_date": r"date of (?:the )?(?:latest|last) contact|latest (?:date of )?contact|last contact",
        "suitable": r"suitab", "accommodation": r"type of accommodation|accommodation type|^accommodation",
        "activity": r"activity"},
    10: {},
}  # fmt: skip
SIGNATURES = {
    1: "contact_date",
    2: "start_date",
    3: "referral_date",
    4: "start_date",
    5: "strategy_date",
    6: "cin_start",
    7: "initial_category",
    8: "legal_status",
    9: "in_touch",
}
RECOGNISE = [  # a sheet without a list name: (list, a header only that list has), most specific first
    (9, r"in touch|type of accommodation|activity status|eligibility category"),
    (7, r"child protection plan start|category of abuse"),
    (8, r"looked after|legal status"),
    (5, r"strategy discussion|section 47"),
    (2, r"organisation completing|early help"),
    (4, r"assessment start|assessment date of authoris"),
    (6, r"cin start date|cin closure date"),
    (3, r"date of referral|referral date"),
    (1, r"date of contact|contact source"),
]
LIST_TABLES = {1: "contacts", 2: "early_help", 9: "care_leavers"}  # written only when the workbook has the list


def _norm(header) -> str:
    return (text(header) or "").lower().rstrip("?:").strip()


def _columns(header_row: tuple, fields: dict[str, str]) -> dict[str, int]:
    """field -> column index, each header used once, fields matched in their declared order."""
    headers = [_norm(h) for h in header_row]
    out, used = {}, set()
    for field, pattern in fields.items():
        for i, h in enumerate(headers):
            if h and i not in used and re.search(pattern, h):
                out[field] = i
                used.add(i)
                break
    return out


def _open(path: Path):
    try:
        import openpyxl
    except ImportError:
        raise SourceError("reading Annex A needs openpyxl: pip install openpyxl==3.1.5") from None
    if path.suffix.lower() == ".xls":
        raise SourceError(f"{path.name} is an old Excel .xls file; open it in Excel and save it as .xlsx")
    safe_files.check_zip(path)  # before openpyxl unpacks anything: refuses a zip bomb, or a file that is no zip
    try:
        values = openpyxl.load_workbook(path, data_only=True, read_only=True)
        formulas = openpyxl.load_workbook(path, data_only=False, read_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        if _defused(exc):
            raise _entities_refused(path) from None
        raise SourceError(
            f"{path.name} is not an Excel workbook (.xlsx) that can be read ({type(exc).__name__})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - openpyxl raises its own types for broken files
        if _defused(exc):
            raise _entities_refused(path) from None
        raise SourceError(f"{path.name} could not be opened as an Excel workbook ({type(exc).__name__})") from None
    return values, formulas


def _defused(exc: BaseException | None) -> bool:
    """Whether defusedxml refused a DOCTYPE or entity (openpyxl re-raises it as a ValueError)."""
    while exc is not None:
        if isinstance(exc, defusedxml.DefusedXmlException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _entities_refused(path: Path) -> SourceError:
    return safe_files.UnsafeFileError(
        f"{path.name} holds XML that declares a DOCTYPE or entities, which Excel never writes; refused for safety. "
        "Nothing was imported."
    )


def _rows(ws):
    ws.reset_dimensions()
    return ws.iter_rows(values_only=True)


def _header(rows: list[tuple]) -> int | None:
    """Index of the header row: the first of the top rows naming the child's ID column."""
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if any(re.search(COMMON["child_id"], _norm(v)) for v in row if isinstance(v, str)):
            return i
    return None


def read(path: str | Path, report: RunReport) -> Imported:
    """Read an Annex A workbook; SourceError if it is not a workbook or holds none of Lists 1-9."""
    path = Path(path)
    values_wb, formulas_wb = _open(path)
    try:
        return _read_lists(path, values_wb, formulas_wb, report)
    except Exception as exc:
        if _defused(exc):  # openpyxl parses each part with defusedxml when it is installed
            raise _entities_refused(path) from None
        raise
    finally:
        values_wb.close()
        formulas_wb.close()


def _read_lists(path: Path, values_wb, formulas_wb, report: RunReport) -> Imported:
    sheets = _find_lists(values_wb, report)
    if not any(n in sheets for n in SIGNATURES):
        found = ", ".join(repr(ws.title) for ws in values_wb.worksheets) or "none"
        raise SourceError(
            f"{path.name} holds none of the Annex A lists 1-9 (sheets named 'List 1' ... 'List 9', or with "
            f"their headers). Sheets found: {found}"
        )
    reader = _Reader(report)
    for number in sorted(sheets):
        title, rows, header_at = sheets[number]
        formula_rows = list(_rows(formulas_wb[title]))
        reader.list_rows(number, title, rows, formula_rows, header_at)
    return reader.finish()


def _find_lists(wb, report: RunReport) -> dict[int, tuple[str, list[tuple], int]]:
    """List number -> (sheet title, rows, header row index), by sheet name, else by headers."""
    found: dict[int, tuple[str, list[tuple], int]] = {}
    unnamed = []
    for ws in wb.worksheets:
        rows = list(_rows(ws))
        header_at = _header(rows)
        m = SHEET_NAME.match(ws.title)
        number = int(m.group(1)) if m else None
        if number is None and header_at is not None:
            headers = [_norm(h) for h in rows[header_at]]
            number = next((n for n, p in RECOGNISE if any(re.search(p, h) for h in headers)), None)
            if number:
                unnamed.append(ws.title)
        if number is None or number in found:
            continue
        if number not in FIELDS:
            report.note(f"sheet '{ws.title}' (List {number}) is not used: the contract has no table for it")
            continue
        if header_at is None:
            report.note(
                f"sheet '{ws.title}': no header row naming the child's ID in the first {HEADER_SCAN_ROWS} rows; not used"
            )
            continue
        found[number] = (ws.title, rows, header_at)
    for title in unnamed:
        report.note(f"sheet '{title}' was recognised as an Annex A list by its headers")
    return found


class _Reader:
    def __init__(self, report: RunReport):
        self.report = report
        self.tables = Tables(report, "annex_a")
        self.tables.start(*FILLS)
        self.orgs = Orgs(self.tables)
        self.latest: dt.date | None = None
        self.family: dict[str, str] = {}
        self.pending: list[tuple[int, str, dict]] = []  # rows that need referrals: (list, where, values)
        self.contacts_on: Counter = Counter()  # (child, date) -> contacts read, for contact IDs
        self.leavers: list[tuple[str, dict]] = []  # care leaver rows, recorded_date still to fill
        self.leaver_codes = CareLeaverCodes()
        self.filled: Counter = Counter()  # what was filled by rule: contact sources, care leavers' dates

    def _seen(self, *dates) -> None:
        for d in dates:
            if d and d <= dt.date.today() and (self.latest is None or d > self.latest):
                self.latest = d

    def list_rows(self, number: int, title: str, rows: list[tuple], formula_rows: list[tuple], header_at: int) -> None:
        cols = _columns(rows[header_at], {**COMMON, **FIELDS[number]})
        needed = ["child_id"] + ([SIGNATURES[number]] if number in SIGNATURES else [])
        missing = [f for f in needed if f not in cols]
        if missing:
            self.report.note(f"sheet '{title}': no column for {', '.join(missing)}; not used")
            return
        if number in LIST_TABLES:
            self.tables.start(LIST_TABLES[number])
        for i in range(header_at + 1, len(rows)):
            row = rows[i]
            if not any(text(v) for v in row):
                continue  # a blank row
            formula_row = formula_rows[i] if i < len(formula_rows) else ()
            rec = {}
            for field, j in cols.items():
                value = row[j] if j < len(row) else None
                if (
                    value is None
                    and j < len(formula_row)
                    and isinstance(formula_row[j], str)
                    and formula_row[j].startswith("=")
                ):
                    value = formula_row[j]  # a formula with no saved value: reported where it is read
                rec[field] = value
            where = f"{title} row {i + 1}"
            if number == 10:
                cell = Cell(self.report, "children", where)
                child, family = (
                    cell.ident(rec.get("child_id"), "child_id"),
                    cell.ident(rec.get("family_id"), "family_id", False),
                )
                if child and family:
                    self.family[child] = family
                continue
            child_id = self.child(rec, where)
            if child_id is None:
                continue
            rec["child_id"] = child_id
            if number in (3, 6):
                self.referral(number, rec, where)
            elif number == 8:
                self.care(rec, where)
            elif number == 1:
                self.contact(rec, where)
            elif number == 2:
                self.early_help(rec, where)
            elif number == 9:
                self.care_leaver(rec, where)
            else:
                self.pending.append((number, where, rec))

    # --- children ----------------------------------------------------------------------------

    def child(self, rec: dict, where: str) -> str | None:
        self.report.read("children")
        cell = Cell(self.report, "children", where)
        child_id = cell.ident(rec.get("child_id"), "child_id")
        if child_id is None:
            self.report.drop("children", "no Child Unique ID (the row is not used)", where)
            return None
        birth = cell.date(rec.get("birth_date"), "birth_date")
        row = {
            "child_id": child_id,
            "family_id": None,
            "sex": sex_of(cell, rec.get("sex")) if text(rec.get("sex")) else None,
            "birth_date": birth,
            "ethnicity": cell.code(rec.get("ethnicity"), "ethnicity", codes("ethnicity")),
            "disability": cell.yes_no(rec.get("disability"), "disability"),
        }
        self.tables.add("children", row, where, merge=True)
        return child_id

    def _who(self, rec: dict, where: str, table: str, seen) -> tuple[str, str | None]:
        cell = Cell(self.report, table, where)
        team = self.orgs.team(cell.text(rec.get("team"), "team_id"))
        worker = self.orgs.worker(cell.text(rec.get("worker"), "worker_id"), team, seen)
        return team, worker

    # --- the front door (Lists 1 and 2) ------------------------------------------------------

    def contact(self, rec: dict, where: str) -> None:
        self.report.read("contacts")
        cell = Cell(self.report, "contacts", where)
        child_id = rec["child_id"]
        date = cell.date(rec.get("contact_date"), "contact_date", required=True)
        own_id = cell.ident(rec.get("contact_id"), "contact_id", required=False)
        if cell.failed:
            self.report.drop("contacts", cell.failed, where)
            return
        self._seen(date)
        if text(rec.get("source")) is None:
            source = "10"
            self.filled["contacts with no source"] += 1
        else:
            source = cell.code(rec.get("source"), "source", codes("referral_source"), words("referral_source"), True)
        self.contacts_on[child_id, date] += 1
        n = self.contacts_on[child_id, date]
        contact_id = own_id or f"{child_id}/K/{date.isoformat()}" + (f"/{n}" if n > 1 else "")
        outcome = cell.code(rec.get("outcome"), "outcome", codes("contact_outcome"), words("contact_outcome"))
        row = {"contact_id": contact_id, "child_id": child_id, "contact_date": date, "source": source}
        self.tables.add("contacts", row | {"outcome": outcome, "team_id": None}, where)

    def early_help(self, rec: dict, where: str) -> None:
        self.report.read("early_help")
        cell = Cell(self.report, "early_help", where)
        child_id = rec["child_id"]
        start = cell.date(rec.get("start_date"), "start_date", required=True)
        end = cell.date(rec.get("end_date"), "end_date")
        if cell.failed:
            self.report.drop("early_help", cell.failed, where)
            return
        self._seen(start, end)
        row = {"episode_id": f"{child_id}/EH/{start.isoformat()}", "child_id": child_id, "start_date": start}
        row |= {"end_date": end, "reason": cell.text(rec.get("reason"), "reason")}
        row["outcome"] = cell.text(rec.get("outcome"), "outcome")
        row["organisation"] = cell.text(rec.get("organisation"), "organisation")
        self.tables.add("early_help", row, where)

    # --- referrals (Lists 3 and 6) -------------------------------------------------------------

    def referral(self, number: int, rec: dict, where: str) -> None:
        self.report.read("referrals")
        cell = Cell(self.report, "referrals", where)
        date_field = "referral_date" if number == 3 else "cin_start"
        date = cell.date(rec.get(date_field), "referral_date", required=True)
        if cell.failed:
            self.report.drop("referrals", cell.failed, where)
            return
        closure = cell.date(rec.get("closure_date"), "closure_date")
        self._seen(date, closure)
        team, worker = self._who(rec, where, "referrals", date)
        row = {
            "referral_id": f"{rec['child_id']}/R/{date.isoformat()}",
            "child_id": rec["child_id"],
            "referral_date": date,
            "team_id": team,
            "worker_id": worker,
        }
        if number == 3:
            row["source"] = cell.code(
                rec.get("source"), "source", codes("referral_source"), words("referral_source"), required=True
            )
            row["nfa"] = cell.yes_no(rec.get("nfa"), "nfa")
        else:
            row["primary_need"] = cell.code(
                rec.get("primary_need"), "primary_need", codes("primary_need"), words("primary_need")
            )
            row["closure_date"] = closure
            row["closure_reason"] = cell.code(
                rec.get("closure_reason"), "closure_reason", codes("closure_reason"), words("closure_reason")
            )
            last_seen = cell.date(rec.get("last_seen"), "visit_date")
            self.visit(rec["child_id"], last_seen, "cin", None, worker, where)
        if row["team_id"] == "UNKNOWN" and self.tables.has("referrals", referral_id=row["referral_id"]):
            del row["team_id"]  # keep the team List 3 named
        self.tables.add("referrals", row, where, merge=True)

    # --- casework that hangs off a referral (Lists 4, 5, 7) -------------------------------------

    def _referral_for(self, child_id: str, date: dt.date) -> str | None:
        best = None
        for row in self.by_child.get(child_id, []):
            if row["referral_date"] <= date and (best is None or row["referral_date"] > best["referral_date"]):
                best = row
        return best["referral_id"] if best else None

    def casework(self, number: int, rec: dict, where: str) -> None:
        child_id = rec["child_id"]
        if number == 4:
            self.assessment(child_id, rec, where)
        elif number == 5:
            self.section47(child_id, rec, where)
        elif number == 7:
            self.cp_plan(child_id, rec, where)

    def assessment(self, child_id: str, rec: dict, where: str) -> None:
        self.report.read("assessments")
        cell = Cell(self.report, "assessments", where)
        start = cell.date(rec.get("start_date"), "start_date", required=True)
        authorised = cell.date(rec.get("authorised_date"), "authorised_date")
        in_need = cell.yes_no(rec.get("in_need"), "in_need")
        if cell.failed:
            self.report.drop("assessments", cell.failed, where)
            return
        referral_id = self._referral_for(child_id, start)
        if referral_id is None:
            self.report.drop(
                "assessments", "no referral for the child (List 3 or 6) on or before the assessment start", where
            )
            return
        self._seen(start, authorised)
        _team, worker = self._who(rec, where, "assessments", start)
        row = {"assessment_id": f"{child_id}/A/{start.isoformat()}", "referral_id": referral_id, "child_id": child_id}
        row |= {"start_date": start, "authorised_date": authorised, "worker_id": worker, "in_need": in_need}
        self.tables.add("assessments", row, where)

    def section47(self, child_id: str, rec: dict, where: str) -> None:
        self.report.read("section47")
        cell = Cell(self.report, "section47", where)
        start = cell.date(rec.get("strategy_date"), "strategy_date", required=True)
        icpc = cell.date(rec.get("icpc_date"), "icpc_date")
        not_required = cell.yes_no(rec.get("unnecessary"), "icpc_not_required")
        if cell.failed:
            self.report.drop("section47", cell.failed, where)
            return
        referral_id = self._referral_for(child_id, start)
        if referral_id is None:
            self.report.drop(
                "section47", "no referral for the child (List 3 or 6) on or before the strategy discussion", where
            )
            return
        if not_required is None:
            not_required = False if icpc else None
        self._seen(start, icpc)
        self._who(rec, where, "section47", start)
        row = {"s47_id": f"{child_id}/S47/{start.isoformat()}", "referral_id": referral_id, "child_id": child_id}
        self.tables.add(
            "section47", row | {"strategy_date": start, "icpc_date": icpc, "icpc_not_required": not_required}, where
        )

    def cp_plan(self, child_id: str, rec: dict, where: str) -> None:
        self.report.read("cp_plans")
        cell = Cell(self.report, "cp_plans", where)
        start = cell.date(rec.get("start_date"), "start_date", required=True)
        end = cell.date(rec.get("end_date"), "end_date")
        cats, cat_words = codes("cp_category"), words("cp_category")
        initial = cell.code(rec.get("initial_category"), "initial_category", cats, cat_words, required=True)
        latest = cell.code(rec.get("latest_category"), "latest_category", cats, cat_words) or initial
        visit = cell.date(rec.get("last_visit"), "visit_date")
        review = cell.date(rec.get("review_date"), "review_date")
        if cell.failed:
            self.report.drop("cp_plans", cell.failed, where)
            return
        self._seen(start, end, visit, review)
        _team, worker = self._who(rec, where, "cp_plans", start)
        plan_id = f"{child_id}/CPP/{start.isoformat()}"
        row = {"plan_id": plan_id, "child_id": child_id, "referral_id": self._referral_for(child_id, start)}
        row |= {"start_date": start, "end_date": end, "initial_category": initial, "latest_category": latest}
        self.tables.add("cp_plans", row, where)
        self.visit(child_id, visit, "cp", cell.yes_no(rec.get("seen_alone"), "seen_alone"), worker, where)
        if review:
            self.report.read("cp_reviews")
            self.tables.add("cp_reviews", {"plan_id": plan_id, "review_date": review}, where, merge=True)

    # --- care (List 8) and visits -------------------------------------------------------------

    def care(self, rec: dict, where: str) -> None:
        self.report.read("looked_after")
        cell = Cell(self.report, "looked_after", where)
        child_id = rec["child_id"]
        start = cell.date(rec.get("start_date"), "start_date", required=True)
        end = cell.date(rec.get("end_date"), "end_date")
        legal = cell.code(
            rec.get("legal_status"), "legal_status", codes("ssda903_legal_status"), words("ssda903_legal_status"),
            accept=retired("ssda903_legal_status"), required=True,
        )  # fmt: skip
        place = cell.code(
            rec.get("placement_type"), "placement_type", codes("ssda903_placement"), words("ssda903_placement"),
            accept=retired("ssda903_placement"), required=True,
        )  # fmt: skip
        visit = cell.date(rec.get("last_visit"), "visit_date")
        if cell.failed:
            self.report.drop("looked_after", cell.failed, where)
            return
        self._seen(start, end, visit)
        _team, worker = self._who(rec, where, "looked_after", start)
        row = {"episode_id": f"{child_id}/LA/{start.isoformat()}", "child_id": child_id, "start_date": start}
        row |= {"end_date": end, "legal_status": legal, "placement_type": place, "weekly_cost": None}
        row["placement_postcode"] = cell.text(rec.get("placement_postcode"), "placement_postcode")
        self.tables.add("looked_after", row, where)
        self.visit(child_id, visit, "cla", None, worker, where)

    # --- care leavers (List 9) ------------------------------------------------------------------

    def care_leaver(self, rec: dict, where: str) -> None:
        self.report.read("care_leavers")
        cell = Cell(self.report, "care_leavers", where)
        contact = cell.date(rec.get("contact_date"), "recorded_date")
        self._seen(contact)
        self._who(rec, where, "care_leavers", contact)
        row = {"child_id": rec["child_id"], "recorded_date": contact}
        row |= self.leaver_codes.read(
            cell, rec.get("in_touch"), rec.get("activity"), rec.get("accommodation"), rec.get("suitable")
        )
        self.leavers.append((where, row))

    def _add_care_leavers(self, as_of: dt.date) -> None:
        """List 9 rows, dated by their latest contact or, with none, the workbook's as_of."""
        for where, row in self.leavers:
            if row["recorded_date"] is None:
                row["recorded_date"] = as_of
                self.filled["care leavers with no date of contact"] += 1
            self.tables.add("care_leavers", row, where)
        for line in self.leaver_codes.assumptions():
            self.report.assume(line)

    def visit(self, child_id: str, date, kind: str, alone, worker, where: str) -> None:
        if date is None:
            return
        self.report.read("visits")
        self._seen(date)
        row = {"visit_id": f"{child_id}/V/{date.isoformat()}/{kind}", "child_id": child_id, "worker_id": worker}
        self.tables.add(
            "visits", row | {"visit_date": date, "visit_type": kind, "seen_alone": alone}, where, merge=True
        )

    # --- finishing ----------------------------------------------------------------------------

    def finish(self) -> Imported:
        self.by_child: dict[str, list[dict]] = {}
        for row in self.tables.get("referrals"):
            self.by_child.setdefault(row["child_id"], []).append(row)
        for number, where, rec in self.pending:
            self.casework(number, rec, where)
        filled = 0
        for row in self.tables.get("referrals"):
            if row.get("source") is None:
                row["source"], filled = "10", filled + 1
            if row.get("nfa") is None and "closure_reason" in row:
                row["nfa"] = False
        if filled:
            self.report.assume(
                f"referrals: {filled} List 6 episodes with no List 3 referral have source 10 (Unknown) and nfa false"
            )
        for row in self.tables.get("children"):
            row["family_id"] = row.get("family_id") or self.family.get(row["child_id"])
            if row.get("birth_date") is None:
                self.report.problem(
                    "children", "all lists", "birth_date", None, "no birth date in any list: kept empty"
                )
            if row.get("sex") is None:
                row["sex"] = "U"
        as_of = self.latest or dt.date.today()
        self._add_care_leavers(as_of)
        if self.filled["contacts with no source"]:
            self.report.assume(
                f"contacts: {self.filled['contacts with no source']} contacts with no source have source 10 (Unknown)"
            )
        if self.filled["care leavers with no date of contact"]:
            self.report.assume(
                f"care_leavers: {self.filled['care leavers with no date of contact']} rows with no date of contact "
                f"are recorded on the workbook's as_of ({as_of.isoformat()})"
            )
        self.orgs.finish(as_of)
        self.report.note("Annex A holds no factors: factors is written empty")
        self.report.note(
            "Annex A holds no referral or episode IDs: IDs are made from the child's ID and the event's date"
        )
        return Imported(self.tables.label, self.tables.frames(), self.latest)
