"""SSD casework tables -> referrals, contacts, assessments, factors, cin_plans, section47, cp_plans,
cp_reviews, visits and early_help (see ingest.ssd for the IDs, docs/import.md for the mapping).

Rules the SSD leaves open, each reported as "filled by rule" when used:
- referrals: team and worker from the child's latest involvement belonging to the referral or
  overlapping it (ssd_staff.Staff.holder), else the episode's referral team and worker, else the
  worker's team, else the team UNKNOWN. nfa from cine_referral_nfa, else the outcome JSON
  (NFA_FLAG set: true; another flag set: false).
- assessments: in_need is the opposite of cina_assessment_outcome_nfa, else of the outcome JSON's
  NFA_FLAG (another outcome set: in need).
- factors: one row per code of the assessment's factors JSON, recorded on the authorisation date
  (else the start date), source `assessment`.
- section47: icpc_date from ssd_initial_cp_conference (the first conference of the enquiry);
  icpc_not_required false when a conference was held or is planned (CP_CONFERENCE_FLAG), true
  when the enquiry ended (NFA, another outcome, or an end date) without one, false while open.
- visits: visit_type cin, cp or cla by table; seen_alone false when the child was not seen;
  worker the one holding the case on the visit date (the SSD visit tables name none).
"""

from __future__ import annotations

from ingest import ssd_json
from ingest.report import RunReport
from ingest.ssd_files import Record
from ingest.values import NotUnderstood, text, words
from schemas.codes import cin_factor_year, codes

# Codes written in words ("Police", "Neglect"): the one matcher the other importers use (ingest/code_words.toml).
SOURCE_WORDS = words("referral_source")
CATEGORY_WORDS = words("cp_category")
VISIT_TABLES = [  # (SSD table, person column, visit column prefix, visit_type)
    ("ssd_cin_visits", "cinv_person_id", "cinv_cin_visit", "cin"),
    ("ssd_cp_visits", "cppv_person_id", "cppv_cp_visit", "cp"),
    ("ssd_cla_visits", "clav_person_id", "clav_cla_visit", "cla"),
]


def read_all(r) -> None:
    """Every casework table present in the export, referrals first (the others link to them)."""
    referrals(r)
    contacts(r)
    assessments(r)
    factors(r)
    cin_plans(r)
    section47(r)
    conferences(r)
    cp_plans(r)
    cp_reviews(r)
    visits(r)
    early_help(r)


def shown(value) -> str:
    """A JSON cell as a report shows it: its length, never its text (free text may name a child)."""
    return f"(JSON, {len(text(value) or '')} characters)"


def read_flags(report: RunReport, table: str, rec: Record, column: str, value) -> set[str] | None:
    """The outcome flags set in a JSON cell; a cell that cannot be read is reported and gives None."""
    try:
        found, lenient = ssd_json.flags(value)
    except NotUnderstood as exc:
        report.problem(table, rec.where, column, shown(value), f"{exc}: outcome not used")
        return None
    if lenient:
        report.note("some JSON cells have keys without quotes (as the SSD guidance writes them): read as JSON")
    return found


def source_of(cell, rec: Record, code_column: str, desc_column: str) -> str | None:
    value = rec[code_column] if text(rec[code_column]) else rec[desc_column]
    return cell.code(value, "source", codes("referral_source"), SOURCE_WORDS, required=True)


# --- referrals and contacts -----------------------------------------------------------------------


def referrals(r) -> None:
    if not r.has("ssd_cin_episodes"):
        return
    r.tables.start("referrals")
    for rec in r.rows("ssd_cin_episodes"):
        r.report.read("referrals")
        cell = r.cell("referrals", rec)
        child = r.person(cell, rec["cine_person_id"])
        date = cell.date(rec["cine_referral_date"], "referral_date", required=True)
        if cell.failed:
            r.report.drop("referrals", cell.failed + " (its assessments, S47s and plans cannot link to it)", rec.where)
            continue
        ssd_id = cell.ident(rec["cine_referral_id"], "referral_id", required=False)
        rid = r.made("referrals").make(f"{child}/R/{date.isoformat()}", ssd_id)
        if rid is None:
            r.report.drop("referrals", "the same referral ID twice in ssd_cin_episodes", rec.where)
            continue
        closure = cell.date(rec["cine_close_date"], "closure_date")
        r.seen(date, closure)
        team, worker = r.staff.holder(child, ssd_id, date, closure)
        worker = worker or r.staff.worker(rec["cine_referral_worker_id"], date)
        team = team or r.staff.team(cell.text(rec["cine_referral_team"], "team_id"))
        team = team or r.staff.team_of_worker(worker) or r.staff.unknown_team()
        row = {"referral_id": rid, "child_id": child, "referral_date": date, "team_id": team, "worker_id": worker}
        row |= {
            "source": source_of(cell, rec, "cine_referral_source_code", "cine_referral_source_desc"),
            "primary_need": cell.code(rec["cine_cin_primary_need_code"], "primary_need", codes("primary_need")),
            "nfa": referral_nfa(r, cell, rec),
            "closure_date": closure,
            "closure_reason": cell.code(rec["cine_close_reason"], "closure_reason", codes("closure_reason")),
        }
        r.tables.add("referrals", row, rec.where)
        r.referral_dates.setdefault(child, []).append((date, rid))
    r.report.assume(
        "referrals: team and worker are those of the child's latest involvement belonging to the referral (or "
        "overlapping it), else the referral's own team and worker (cine_referral_team, cine_referral_worker_id)"
    )


def referral_nfa(r, cell, rec: Record) -> bool | None:
    nfa = cell.yes_no(rec["cine_referral_nfa"], "nfa")
    if nfa is None:
        flags = read_flags(r.report, "referrals", rec, "nfa", rec["cine_referral_outcome_json"])
        if flags:
            nfa = "NFA_FLAG" in flags
            r.report.assume("referrals: nfa from the referral outcome JSON where cine_referral_nfa is empty")
    if nfa is None:
        r.report.problem("referrals", rec.where, "nfa", None, "missing: left empty (validation will say so)")
    return nfa


def contacts(r) -> None:
    if not r.has("ssd_contacts"):
        return
    r.tables.start("contacts")
    for rec in r.rows("ssd_contacts"):
        r.report.read("contacts")
        cell = r.cell("contacts", rec)
        child = r.person(cell, rec["cont_person_id"])
        date = cell.date(rec["cont_contact_date"], "contact_date", required=True)
        if cell.failed:
            r.report.drop("contacts", cell.failed, rec.where)
            continue
        cid = r.made("contacts").make(
            f"{child}/K/{date.isoformat()}", cell.ident(rec["cont_contact_id"], "contact_id", False)
        )
        if cid is None:
            r.report.drop("contacts", "the same contact ID twice in ssd_contacts", rec.where)
            continue
        r.seen(date)
        row = {"contact_id": cid, "child_id": child, "contact_date": date, "team_id": None}
        row["source"] = source_of(cell, rec, "cont_contact_source_code", "cont_contact_source_desc")
        row["outcome"] = contact_outcome(r, rec)
        r.tables.add("contacts", row, rec.where)
    r.report.note("ssd_contacts name no team: contacts.team_id is left empty")


def contact_outcome(r, rec: Record) -> str | None:
    value = rec["cont_contact_outcome_json"]
    try:
        outcome, lenient = ssd_json.contact_outcome(value)
    except NotUnderstood as exc:
        is_json = (text(value) or "").startswith(("{", "["))
        r.report.problem("contacts", rec.where, "outcome", shown(value) if is_json else value, f"{exc}: left empty")
        return None
    if lenient:
        r.report.note("some JSON cells have keys without quotes (as the SSD guidance writes them): read as JSON")
    return outcome


# --- assessments and their factors -----------------------------------------------------------------


def assessments(r) -> None:
    r.assessment_info = {}
    if not r.has("ssd_cin_assessments"):
        return
    r.tables.start("assessments")
    for rec in r.rows("ssd_cin_assessments"):
        r.report.read("assessments")
        cell = r.cell("assessments", rec)
        child = r.person(cell, rec["cina_person_id"])
        start = cell.date(rec["cina_assessment_start_date"], "start_date", required=True)
        authorised = cell.date(rec["cina_assessment_auth_date"], "authorised_date")
        if cell.failed:
            r.report.drop("assessments", cell.failed, rec.where)
            continue
        ssd_ref = cell.ident(rec["cina_referral_id"], "referral_id", False)
        referral = r.referral_for(child, ssd_ref, start)
        if referral is None:
            r.report.drop("assessments", "no referral for the child in ssd_cin_episodes on or before it", rec.where)
            continue
        ssd_id = cell.ident(rec["cina_assessment_id"], "assessment_id", False)
        aid = r.made("assessments").make(f"{child}/A/{start.isoformat()}", ssd_id)
        if aid is None:
            r.report.drop("assessments", "the same assessment ID twice in ssd_cin_assessments", rec.where)
            continue
        r.seen(start, authorised)
        worker = (
            r.staff.worker(rec["cina_assessment_worker_id"], start)
            or r.staff.holder(child, ssd_ref, start, authorised)[1]
        )
        row = {"assessment_id": aid, "referral_id": referral, "child_id": child, "start_date": start}
        row |= {"authorised_date": authorised, "worker_id": worker, "in_need": in_need(r, cell, rec)}
        r.tables.add("assessments", row, rec.where)
        if ssd_id is not None:
            r.assessment_info[ssd_id] = (child, referral, authorised or start)


def in_need(r, cell, rec: Record) -> bool | None:
    nfa = cell.yes_no(rec["cina_assessment_outcome_nfa"], "in_need")
    if nfa is None:
        flags = read_flags(r.report, "assessments", rec, "in_need", rec["cina_assessment_outcome_json"])
        if flags:
            nfa = flags <= {"NFA_FLAG", "NFA_S47_END_FLAG"}
    if nfa is not None:
        r.report.assume("assessments: in_need is true unless the assessment's outcome is no further action")
    return None if nfa is None else not nfa


def factors(r) -> None:
    if not r.has("ssd_assessment_factors"):
        return
    r.tables.start("factors")
    year = cin_factor_year()
    for rec in r.rows("ssd_assessment_factors"):
        cell = r.cell("factors", rec)
        info = r.assessment_info.get(cell.ident(rec["cinf_assessment_id"], "assessment_id", False))
        value = rec["cinf_assessment_factors_json"]
        if info is None:
            r.report.read("factors")
            r.report.drop("factors", "its assessment is not in ssd_cin_assessments (or was dropped)", rec.where)
            continue
        try:
            found, lenient = ssd_json.factor_codes(value)
        except NotUnderstood as exc:
            r.report.read("factors")
            r.report.drop(
                "factors", f"the factors JSON could not be read ({exc})", rec.where, "factor_code", shown(value)
            )
            continue
        if lenient:
            r.report.problem(
                "factors", rec.where, "factor_code", shown(value), "not valid JSON: read as a list of codes"
            )
        child, referral, recorded = info
        for raw in found or []:
            r.report.read("factors")
            code = cell.code(raw, "factor_code", year["codes"], accept=year.get("retired", []), required=True)
            row = {"child_id": child, "referral_id": referral, "factor_code": code, "recorded_date": recorded}
            r.tables.add("factors", row | {"source": "assessment"}, rec.where, merge=True)
    r.report.assume(
        "factors: recorded on the assessment's authorisation date, else its start date; source 'assessment'"
    )


# --- plans, enquiries, conferences, reviews --------------------------------------------------------


def cin_plans(r) -> None:
    if not r.has("ssd_cin_plans"):
        return
    r.tables.start("cin_plans")
    for rec in r.rows("ssd_cin_plans"):
        r.report.read("cin_plans")
        cell = r.cell("cin_plans", rec)
        child = r.person(cell, rec["cinp_person_id"])
        start = cell.date(rec["cinp_cin_plan_start_date"], "start_date", required=True)
        end = cell.date(rec["cinp_cin_plan_end_date"], "end_date")
        if cell.failed:
            r.report.drop("cin_plans", cell.failed, rec.where)
            continue
        referral = r.referral_for(child, cell.ident(rec["cinp_referral_id"], "referral_id", False), start)
        if referral is None:
            r.report.drop("cin_plans", "no referral for the child in ssd_cin_episodes on or before it", rec.where)
            continue
        pid = r.made("cin_plans").make(
            f"{child}/CINP/{start.isoformat()}", cell.ident(rec["cinp_cin_plan_id"], "cin_plan_id", False)
        )
        if pid is None:
            r.report.drop("cin_plans", "the same CIN plan ID twice in ssd_cin_plans", rec.where)
            continue
        r.seen(start, end)
        row = {"cin_plan_id": pid, "child_id": child, "referral_id": referral, "start_date": start, "end_date": end}
        r.tables.add("cin_plans", row, rec.where)


def section47(r) -> None:
    r.s47_info = {}  # made s47_id -> (child, strategy date, ended, flags)
    if not r.has("ssd_s47_enquiry"):
        return
    r.tables.start("section47")
    for rec in r.rows("ssd_s47_enquiry"):
        r.report.read("section47")
        cell = r.cell("section47", rec)
        child = r.person(cell, rec["s47e_person_id"])
        start = cell.date(rec["s47e_s47_start_date"], "strategy_date", required=True)
        if cell.failed:
            r.report.drop("section47", cell.failed, rec.where)
            continue
        referral = r.referral_for(child, cell.ident(rec["s47e_referral_id"], "referral_id", False), start)
        if referral is None:
            r.report.drop("section47", "no referral for the child in ssd_cin_episodes on or before it", rec.where)
            continue
        sid = r.made("section47").make(
            f"{child}/S47/{start.isoformat()}", cell.ident(rec["s47e_s47_enquiry_id"], "s47_id", False)
        )
        if sid is None:
            r.report.drop("section47", "the same S47 enquiry ID twice in ssd_s47_enquiry", rec.where)
            continue
        r.seen(start)
        ended = cell.yes_no(rec["s47e_s47_nfa"], "icpc_not_required") is True
        ended = ended or cell.date(rec["s47e_s47_end_date"], "s47e_s47_end_date") is not None
        flags = read_flags(r.report, "section47", rec, "icpc_not_required", rec["s47e_s47_outcome_json"]) or set()
        r.s47_info[sid] = (child, start, ended or bool(flags - {"CP_CONFERENCE_FLAG"}), "CP_CONFERENCE_FLAG" in flags)
        row = {"s47_id": sid, "referral_id": referral, "child_id": child, "strategy_date": start, "icpc_date": None}
        r.tables.add("section47", row | {"icpc_not_required": None}, rec.where)


def conferences(r) -> None:
    """Initial CP conferences give their S47 enquiry its icpc_date; then icpc_not_required is settled."""
    held = r.tables.rows.get("section47", {})
    for rec in r.rows("ssd_initial_cp_conference"):
        r.report.read("section47")
        cell = r.cell("section47", rec)
        date = cell.date(rec["icpc_icpc_date"], "icpc_date", required=True)
        if cell.failed:
            r.report.drop("section47", f"an initial conference with {cell.failed}", rec.where)
            continue
        sid = r.made("section47").get(cell.ident(rec["icpc_s47_enquiry_id"], "s47_id", False))
        child = cell.ident(rec["icpc_person_id"], "child_id", False)
        if sid is None and child:
            earlier = [(s[1], k) for k, s in r.s47_info.items() if s[0] == child and s[1] <= date]
            sid = max(earlier)[1] if earlier else None
        row = held.get((sid,))
        if row is None:
            r.report.drop("section47", "an initial conference whose S47 enquiry is not in ssd_s47_enquiry", rec.where)
            continue
        r.seen(date)
        r.report.count("section47").merged += 1
        if row["icpc_date"] is None or date < row["icpc_date"]:
            row["icpc_date"] = date
    for (sid,), row in held.items():
        _child, _start, ended, planned = r.s47_info[sid]
        row["icpc_not_required"] = not (row["icpc_date"] or planned) and ended
    if held:
        r.report.assume(
            "section47: icpc_not_required is false when an initial conference was held or planned, true when the "
            "enquiry ended without one, false while it is open"
        )


def cp_plans(r) -> None:
    if not r.has("ssd_cp_plans"):
        return
    r.tables.start("cp_plans")
    categories = codes("cp_category")
    for rec in r.rows("ssd_cp_plans"):
        r.report.read("cp_plans")
        cell = r.cell("cp_plans", rec)
        child = r.person(cell, rec["cppl_person_id"])
        start = cell.date(rec["cppl_cp_plan_start_date"], "start_date", required=True)
        end = cell.date(rec["cppl_cp_plan_end_date"], "end_date")
        if cell.failed:
            r.report.drop("cp_plans", cell.failed, rec.where)
            continue
        pid = r.made("cp_plans").make(
            f"{child}/CPP/{start.isoformat()}", cell.ident(rec["cppl_cp_plan_id"], "plan_id", False)
        )
        if pid is None:
            r.report.drop("cp_plans", "the same CP plan ID twice in ssd_cp_plans", rec.where)
            continue
        initial = cell.code(
            rec["cppl_cp_plan_initial_category"], "initial_category", categories, CATEGORY_WORDS, required=True
        )
        latest = cell.code(rec["cppl_cp_plan_latest_category"], "latest_category", categories, CATEGORY_WORDS)
        if latest is None:
            latest = initial
            r.report.assume("cp_plans: a plan with no latest category keeps its initial category")
        r.seen(start, end)
        referral = r.referral_for(child, cell.ident(rec["cppl_referral_id"], "referral_id", False), start)
        row = {"plan_id": pid, "child_id": child, "referral_id": referral, "start_date": start, "end_date": end}
        r.tables.add("cp_plans", row | {"initial_category": initial, "latest_category": latest}, rec.where)


def cp_reviews(r) -> None:
    if not r.has("ssd_cp_reviews"):
        return
    r.tables.start("cp_reviews")
    for rec in r.rows("ssd_cp_reviews"):
        r.report.read("cp_reviews")
        cell = r.cell("cp_reviews", rec)
        plan = r.made("cp_plans").get(cell.ident(rec["cppr_cp_plan_id"], "plan_id", False))
        date = cell.date(rec["cppr_cp_review_date"], "review_date", required=True)
        if cell.failed:
            r.report.drop("cp_reviews", cell.failed, rec.where)
        elif plan is None:
            r.report.drop("cp_reviews", "its CP plan is not in ssd_cp_plans (or was dropped)", rec.where)
        else:
            r.seen(date)
            r.tables.add("cp_reviews", {"plan_id": plan, "review_date": date}, rec.where, merge=True)


# --- visits and early help -------------------------------------------------------------------------


def visits(r) -> None:
    present = [t for t in VISIT_TABLES if r.has(t[0])]
    if not present:
        return
    r.tables.start("visits")
    for table, person, prefix, kind in present:
        for rec in r.rows(table):
            r.report.read("visits")
            cell = r.cell("visits", rec)
            child = r.person(cell, rec[person])
            date = cell.date(rec[f"{prefix}_date"], "visit_date", required=True)
            if cell.failed:
                r.report.drop("visits", cell.failed, rec.where)
                continue
            vid = r.made("visits").make(
                f"{child}/V/{date.isoformat()}/{kind}", cell.ident(rec[f"{prefix}_id"], "visit_id", False)
            )
            if vid is None:
                r.report.drop("visits", f"the same visit ID twice in {table}", rec.where)
                continue
            seen = cell.yes_no(rec[f"{prefix}_seen"], "seen_alone")
            alone = cell.yes_no(rec[f"{prefix}_seen_alone"], "seen_alone")
            if alone is None and seen is False:
                alone = False
            r.seen(date)
            worker = r.staff.holder(child, None, date, date)[1]
            row = {"visit_id": vid, "child_id": child, "worker_id": worker, "visit_date": date}
            r.tables.add("visits", row | {"visit_type": kind, "seen_alone": alone}, rec.where)
    r.report.assume("visits: worker_id is the worker holding the child's case on the visit date (the SSD names none)")


def early_help(r) -> None:
    if not r.has("ssd_early_help_episodes"):
        return
    r.tables.start("early_help")
    for rec in r.rows("ssd_early_help_episodes"):
        r.report.read("early_help")
        cell = r.cell("early_help", rec)
        child = r.person(cell, rec["earl_person_id"])
        start = cell.date(rec["earl_episode_start_date"], "start_date", required=True)
        end = cell.date(rec["earl_episode_end_date"], "end_date")
        if cell.failed:
            r.report.drop("early_help", cell.failed, rec.where)
            continue
        eid = r.made("early_help").make(
            f"{child}/EH/{start.isoformat()}", cell.ident(rec["earl_episode_id"], "episode_id", False)
        )
        if eid is None:
            r.report.drop("early_help", "the same episode ID twice in ssd_early_help_episodes", rec.where)
            continue
        r.seen(start, end)
        row = {"episode_id": eid, "child_id": child, "start_date": start, "end_date": end}
        row |= {
            "reason": cell.text(rec["earl_episode_reason"], "reason"),
            "outcome": cell.text(rec["earl_episode_end_reason"], "outcome"),
        }
        r.tables.add("early_help", row, rec.where)
