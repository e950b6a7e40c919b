"""CIN census XML -> children, referrals, assessments, factors, section47, cp_plans, cp_reviews, cin_plans.

The DfE CIN census nests Message > Children > Child > CINdetails > Assessments / CINPlanDates /
Section47 / ChildProtectionPlans > Reviews. Each CINdetails block is a referral (an episode of
need). The file names no teams or workers: referrals go to the team UNKNOWN and `workers` is
written empty. Older schema years are read too: GenderCurrent (0/1/2/9) instead of Sex (1/2),
retired factor codes 18A/19A (kept; the validator warns), DateOfInitialCPC directly under
CINdetails (not used: it has no strategy date), optional blocks absent or empty.

Safety: the file is parsed with defusedxml with DTDs forbidden, so a DOCTYPE, an entity
declaration or an external reference (which a CIN census never has) stops the parse wherever
it is in the file and whatever its encoding (UTF-8, UTF-16 with a byte-order mark, padded with
whitespace or comments), before any element is read; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from ingest.orgs import Orgs
from ingest.report import RunReport, SourceError
from ingest.rows import Cell, Imported, Tables, sex_of
from schemas.codes import cin_factor_year, codes

FILLS = ("children", "referrals", "assessments", "factors", "section47", "cp_plans", "cp_reviews", "cin_plans")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _first(elem: ET.Element | None, name: str):
    if elem is None:
        return None
    found = elem.find(name)
    return found.text if found is not None else None


def read(path: str | Path, report: RunReport) -> Imported:
    """Read one CIN census XML file; SourceError if it is not well-formed or not a CIN census."""
    path = Path(path)
    reader = _Reader(report)
    try:
        for _event, elem in SafeET.iterparse(path, events=("end",), forbid_dtd=True):
            elem.tag = _local(elem.tag)
            if elem.tag == "Header":
                reader.header(elem)
            elif elem.tag == "Child":
                reader.child(elem)
                elem.clear()
            root = elem
    except defusedxml.DefusedXmlException:
        raise SourceError(
            f"{path.name} declares a DOCTYPE or entities, which a CIN census file never does; refused for safety. "
            "Nothing was imported."
        ) from None
    except ET.ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        raise SourceError(
            f"{path.name} is not well-formed XML (line {line}, column {col}): the file may be cut short or "
            "damaged. Nothing was imported; export the CIN census again."
        ) from None
    if reader.n_children == 0:
        what = f"its root element is <{root.tag}>" if reader.n_elements else "it is empty"
        raise SourceError(f"{path.name} holds no CIN census children (Message/Children/Child): {what}")
    return reader.finish()


class _Reader:
    def __init__(self, report: RunReport):
        self.report = report
        self.tables = Tables(report, "cin_census")
        self.tables.start(*FILLS)
        self.orgs = Orgs(self.tables)
        self.n_children = self.n_elements = 0
        self.as_of: dt.date | None = None
        self.la_code: str | None = None
        self.factor_list = cin_factor_year()
        self.latest: dt.date | None = None

    # --- header ----------------------------------------------------------------------------

    def header(self, elem: ET.Element) -> None:
        self.n_elements += 1
        details = elem.find("CollectionDetails")
        collection = (_first(details, "Collection") or "").strip()
        if collection and collection.upper() != "CIN":
            raise SourceError(f"this XML is a '{collection}' collection, not the CIN census")
        cell = Cell(self.report, "(header)", "Header")
        self.as_of = cell.date(_first(details, "ReferenceDate"), "ReferenceDate")
        self.la_code = cell.text(_first(elem.find("Source"), "LEA"), "LEA")
        if self.as_of:
            self.tables.label = f"cin_census {self.as_of.isoformat()}"
            self.factor_list = cin_factor_year(self.as_of.year)
        else:
            self.report.note("the header has no ReferenceDate: as_of is the latest event date")

    # --- one child -------------------------------------------------------------------------

    def child(self, elem: ET.Element) -> None:
        self.n_children += 1
        self.n_elements += 1
        where = f"child {self.n_children}"
        self.report.read("children")
        ids, chars = elem.find("ChildIdentifiers"), elem.find("ChildCharacteristics")
        cell = Cell(self.report, "children", where)
        child_id = cell.ident(_first(ids, "LAchildID"), "child_id")
        if child_id is None:
            self.report.drop("children", "no LAchildID (the child and all their referrals are left out)", where)
            return
        born = _first(ids, "PersonBirthDate") or _first(ids, "ExpectedPersonBirthDate")
        birth_date = cell.date(born, "birth_date")
        if birth_date is None:
            self.report.problem(
                "children", where, "birth_date", born, "no birth date: kept empty (validation will say so)"
            )
        sex_raw = (
            _first(ids, "Sex") if ids is not None and ids.find("Sex") is not None else _first(ids, "GenderCurrent")
        )
        disabilities = [d.text for d in chars.iter("Disability")] if chars is not None else []
        disability = None
        if chars is not None and chars.find("Disabilities") is not None:
            disability = any((d or "").strip().upper() not in ("", "NONE") for d in disabilities)
        self.tables.add(
            "children",
            {
                "child_id": child_id,
                "family_id": None,
                "sex": sex_of(cell, sex_raw),
                "birth_date": birth_date,
                "ethnicity": cell.code(_first(chars, "Ethnicity"), "ethnicity", codes("ethnicity")),
                "disability": disability,
            },
            where,
            merge=True,
        )
        for n, details in enumerate(elem.findall("CINdetails"), 1):
            self.referral(details, child_id, f"{where}, CINdetails {n}")

    def _seen(self, *dates) -> None:
        for d in dates:
            if d and (self.latest is None or d > self.latest):
                self.latest = d

    def referral(self, elem: ET.Element, child_id: str, where: str) -> None:
        self.report.read("referrals")
        cell = Cell(self.report, "referrals", where)
        ref_date = cell.date(_first(elem, "CINreferralDate"), "referral_date", required=True)
        if cell.failed:
            self.report.drop("referrals", cell.failed + " (its assessments, S47s and plans are left out)", where)
            return
        referral_id = f"{child_id}/R/{ref_date.isoformat()}"
        n = 2
        while self.tables.has("referrals", referral_id=referral_id):
            referral_id, n = f"{child_id}/R/{ref_date.isoformat()}-{n}", n + 1
        closure = cell.date(_first(elem, "CINclosureDate"), "closure_date")
        nfa = cell.yes_no(_first(elem, "ReferralNFA"), "nfa")
        if nfa is None:
            self.report.problem(
                "referrals", where, "nfa", _first(elem, "ReferralNFA"), "missing: left empty (validation will say so)"
            )
        self._seen(ref_date, closure)
        self.tables.add(
            "referrals",
            {
                "referral_id": referral_id,
                "child_id": child_id,
                "referral_date": ref_date,
                "source": cell.code(_first(elem, "ReferralSource"), "source", codes("referral_source"), required=True),
                "primary_need": cell.code(_first(elem, "PrimaryNeedCode"), "primary_need", codes("primary_need")),
                "nfa": nfa,
                "team_id": self.orgs.team(None),
                "worker_id": None,
                "closure_date": closure,
                "closure_reason": cell.code(
                    _first(elem, "ReasonForClosure"), "closure_reason", codes("closure_reason")
                ),
            },
            where,
        )
        if elem.find("DateOfInitialCPC") is not None:
            self.report.note(
                "DateOfInitialCPC directly under CINdetails is not used: section47 rows come from the "
                "Section47 blocks, which hold the strategy discussion date"
            )
        for n, block in enumerate(elem.findall("Assessments"), 1):
            self.assessment(block, child_id, referral_id, f"{where}, Assessments {n}")
        for n, block in enumerate(elem.findall("CINPlanDates"), 1):
            self.cin_plan(block, child_id, referral_id, f"{where}, CINPlanDates {n}")
        for n, block in enumerate(elem.findall("Section47"), 1):
            self.section47(block, child_id, referral_id, f"{where}, Section47 {n}")
        for n, block in enumerate(elem.findall("ChildProtectionPlans"), 1):
            self.cp_plan(block, child_id, referral_id, f"{where}, ChildProtectionPlans {n}")

    def assessment(self, elem: ET.Element, child_id: str, referral_id: str, where: str) -> None:
        factors = [f.text for f in elem.iter("AssessmentFactors")]
        if not len(elem) and not (elem.text or "").strip():
            return  # an empty optional block
        self.report.read("assessments")
        cell = Cell(self.report, "assessments", where)
        start = cell.date(_first(elem, "AssessmentActualStartDate"), "start_date", required=True)
        authorised = cell.date(_first(elem, "AssessmentAuthorisationDate"), "authorised_date")
        if cell.failed:
            self.report.drop("assessments", cell.failed, where)
            self.report.read("factors", len(factors))
            for _ in factors:
                self.report.drop("factors", "its assessment has no start date")
            return
        self._seen(start, authorised)
        self.tables.add(
            "assessments",
            {
                "assessment_id": f"{child_id}/A/{start.isoformat()}",
                "referral_id": referral_id,
                "child_id": child_id,
                "start_date": start,
                "authorised_date": authorised,
                "worker_id": None,
                "in_need": None,
            },
            where,
        )
        recorded = authorised or start
        if factors and authorised is None:
            self.report.assume("factors: recorded_date is the assessment's authorisation date, else its start date")
        fcell = Cell(self.report, "factors", where)
        allowed, accept = self.factor_list["codes"], self.factor_list.get("retired", [])
        for raw in factors:
            self.report.read("factors")
            code = fcell.code(raw, "factor_code", allowed, accept=accept, required=True)
            if code is None:
                self.report.drop("factors", "an empty AssessmentFactors element")
                continue
            row = {"child_id": child_id, "referral_id": referral_id, "factor_code": code, "recorded_date": recorded}
            self.tables.add("factors", {**row, "source": "assessment"}, where, merge=True)

    def cin_plan(self, elem: ET.Element, child_id: str, referral_id: str, where: str) -> None:
        if not len(elem):
            return
        self.report.read("cin_plans")
        cell = Cell(self.report, "cin_plans", where)
        start = cell.date(_first(elem, "CINPlanStartDate"), "start_date", required=True)
        end = cell.date(_first(elem, "CINPlanEndDate"), "end_date")
        if cell.failed:
            self.report.drop("cin_plans", cell.failed, where)
            return
        self._seen(start, end)
        row = {"cin_plan_id": f"{child_id}/CINP/{start.isoformat()}", "child_id": child_id, "referral_id": referral_id}
        self.tables.add("cin_plans", {**row, "start_date": start, "end_date": end}, where)

    def section47(self, elem: ET.Element, child_id: str, referral_id: str, where: str) -> None:
        if not len(elem):
            return
        self.report.read("section47")
        cell = Cell(self.report, "section47", where)
        start = cell.date(_first(elem, "S47ActualStartDate"), "strategy_date", required=True)
        icpc = cell.date(_first(elem, "DateOfInitialCPC"), "icpc_date")
        not_required = cell.yes_no(_first(elem, "ICPCnotRequired"), "icpc_not_required")
        if not_required is None and icpc is not None:
            not_required = False
        if cell.failed:
            self.report.drop("section47", cell.failed, where)
            return
        self._seen(start, icpc)
        self.tables.add(
            "section47",
            {
                "s47_id": f"{child_id}/S47/{start.isoformat()}",
                "referral_id": referral_id,
                "child_id": child_id,
                "strategy_date": start,
                "icpc_date": icpc,
                "icpc_not_required": not_required,
            },
            where,
        )

    def cp_plan(self, elem: ET.Element, child_id: str, referral_id: str, where: str) -> None:
        if not len(elem):
            return
        self.report.read("cp_plans")
        cell = Cell(self.report, "cp_plans", where)
        start = cell.date(_first(elem, "CPPstartDate"), "start_date", required=True)
        end = cell.date(_first(elem, "CPPendDate"), "end_date")
        categories = codes("cp_category")
        initial = cell.code(_first(elem, "InitialCategoryOfAbuse"), "initial_category", categories, required=True)
        latest = cell.code(_first(elem, "LatestCategoryOfAbuse"), "latest_category", categories)
        if latest is None:
            latest = initial
            self.report.assume("cp_plans: a plan with no LatestCategoryOfAbuse keeps its initial category")
        if cell.failed:
            self.report.drop("cp_plans", cell.failed, where)
            return
        plan_id = f"{child_id}/CPP/{start.isoformat()}"
        self._seen(start, end)
        self.tables.add(
            "cp_plans",
            {
                "plan_id": plan_id,
                "child_id": child_id,
                "referral_id": referral_id,
                "start_date": start,
                "end_date": end,
                "initial_category": initial,
                "latest_category": latest,
            },
            where,
        )
        for review in elem.iter("CPPreviewDate"):
            self.report.read("cp_reviews")
            rcell = Cell(self.report, "cp_reviews", where)
            date = rcell.date(review.text, "review_date", required=True)
            if rcell.failed:
                self.report.drop("cp_reviews", rcell.failed, where)
                continue
            self._seen(date)
            self.tables.add("cp_reviews", {"plan_id": plan_id, "review_date": date}, where, merge=True)

    def finish(self) -> Imported:
        self.orgs.finish(self.as_of or self.latest or dt.date.today())
        self.tables.start("workers")
        self.report.note("the CIN census names no workers: workers is written empty and worker_id is left empty")
        self.report.note("UPNs and death dates in the file are not imported")
        return Imported(self.tables.label, self.tables.frames(), self.as_of or self.latest, la_code=self.la_code)
