"""SSD looked-after tables -> looked_after, cla_reviews, missing_episodes, care_leavers and uasc.

- looked_after: one row per ssd_cla_episodes row (`<child>/LA/<start>`, as for the SSDA903, so
  the two merge). The SSD keeps the legal status and the placement in their own tables: the legal
  status is the child's SSDA903 status in ssd_legal_status open on the episode's start (else the
  one overlapping the episode; the SSD also lists orders that are not care, such as special
  guardianship, which are passed over); the placement is the episode's clae_cla_placement_id in
  ssd_cla_placement (else the child's placement open on the start). The placement postcode is kept
  as the extra column placement_postcode (the privacy option keeps its district); weekly_cost is
  empty unless the placement table has a clap_cla_placement_weekly_cost column (not an SSD field).
- cla_reviews: by the period of care (clar_cla_id -> the child of ssd_cla_episodes); a cancelled
  review is dropped.
- missing_episodes: type Missing/Away -> M/A; return interview offered Y/N (NA: empty).
- care_leavers: recorded on the latest contact date (else the pathway plan review); an
  accommodation written the SSDA903 way (U1, U2) gives the letter and its suitability (1 suitable).
- uasc: one row per child whose immigration status names an unaccompanied asylum-seeking child,
  ceased when every such status has ended (the latest end); other statuses are not used.
"""

from __future__ import annotations

import re

from ingest import values
from ingest.ssd_files import Record
from ingest.ssd_staff import FAR_AHEAD, LONG_AGO
from ingest.ssd_tables import (
    IN_TOUCH_WORDS,
    LEGAL_STATUS_WORDS,
    MISSING_WORDS,
    NOT_APPLICABLE,
    UASC_WORDS,
)
from schemas.codes import codes, retired


def read_all(r) -> None:
    looked_after(r)
    cla_reviews(r)
    missing(r)
    care_leavers(r)
    uasc(r)


def _periods(r, table: str, person_col: str, start_col: str, end_col: str) -> dict[str, list[tuple]]:
    """child -> [(start, end, record)] of a table of dated statuses (legal statuses, placements)."""
    out: dict[str, list[tuple]] = {}
    for rec in r.rows(table):
        cell = r.cell("looked_after", rec)
        child = cell.ident(rec[person_col], "child_id", required=False)
        if child:
            out.setdefault(child, []).append(
                (cell.date(rec[start_col], "start_date"), cell.date(rec[end_col], "end_date"), rec)
            )
    return out


def _open_on(periods: list[tuple], start, end) -> list[tuple]:
    """The periods open on `start`, else those overlapping start-end; latest-starting first."""
    on = [p for p in periods if (p[0] or LONG_AGO) <= start and (p[1] is None or p[1] > start)]
    if not on:
        on = [p for p in periods if (p[0] or LONG_AGO) <= (end or FAR_AHEAD) and (p[1] or FAR_AHEAD) >= start]
    return sorted(on, key=lambda p: p[0] or LONG_AGO, reverse=True)


def looked_after(r) -> None:
    r.cla_child = {}  # clae_cla_id -> child
    if not r.has("ssd_cla_episodes"):
        return
    r.tables.start("looked_after")
    legal = _periods(
        r, "ssd_legal_status", "lega_person_id", "lega_legal_status_start_date", "lega_legal_status_end_date"
    )
    placed = _periods(
        r, "ssd_cla_placement", "clap_person_id", "clap_cla_placement_start_date", "clap_cla_placement_end_date"
    )
    by_id = {values.ident(rec["clap_cla_placement_id"]): rec for rec in r.rows("ssd_cla_placement")}
    by_id.pop(None, None)
    for rec in r.rows("ssd_cla_episodes"):
        r.report.read("looked_after")
        cell = r.cell("looked_after", rec)
        child = r.person(cell, rec["clae_person_id"])
        start = cell.date(rec["clae_cla_episode_start_date"], "start_date", required=True)
        end = cell.date(rec["clae_cla_episode_ceased_date"], "end_date")
        if cell.failed:
            r.report.drop("looked_after", cell.failed, rec.where)
            continue
        eid = r.made("looked_after").make(
            f"{child}/LA/{start.isoformat()}", cell.ident(rec["clae_cla_episode_id"], "episode_id", False)
        )
        if eid is None:
            r.report.drop("looked_after", "the same episode ID twice in ssd_cla_episodes", rec.where)
            continue
        cla_id = cell.ident(rec["clae_cla_id"], "clae_cla_id", False)
        if cla_id:
            r.cla_child[cla_id] = child
        r.seen(start, end)
        place = by_id.get(cell.ident(rec["clae_cla_placement_id"], "placement_id", False))
        if place is None:
            place = next((p[2] for p in _open_on(placed.get(child, []), start, end)), None)
        row = {"episode_id": eid, "child_id": child, "start_date": start, "end_date": end}
        row["legal_status"] = legal_status(r, cell, legal.get(child, []), start, end)
        row["placement_type"] = placement_type(r, cell, place)
        row["placement_postcode"] = (
            cell.text(place["clap_cla_placement_postcode"], "placement_postcode") if place else None
        )
        row["weekly_cost"] = weekly_cost(r, cell, place)
        r.tables.add("looked_after", row, rec.where)


def legal_status(r, cell, periods: list[tuple], start, end) -> str | None:
    """The SSDA903 legal status open on the episode's start (statuses that are not care orders passed over)."""
    candidates = _open_on(periods, start, end)
    allowed, old = codes("ssda903_legal_status"), retired("ssda903_legal_status")
    for _s, _e, rec in candidates:
        try:
            found = values.code(rec["lega_legal_status"], [*allowed, *old], LEGAL_STATUS_WORDS)
        except values.NotUnderstood:
            continue
        if found:
            return found
    if candidates:  # only statuses that are no SSDA903 code: the latest is reported, kept as written
        return cell.code(
            candidates[0][2]["lega_legal_status"],
            "legal_status",
            allowed,
            LEGAL_STATUS_WORDS,
            required=True,
            accept=old,
        )
    r.report.problem(
        "looked_after",
        cell.where,
        "legal_status",
        None,
        "no legal status in ssd_legal_status open on the episode's start: left empty",
    )
    return None


def placement_type(r, cell, place: Record | None) -> str | None:
    if place is None:
        r.report.problem(
            "looked_after",
            cell.where,
            "placement_type",
            None,
            "no placement in ssd_cla_placement for the episode: left empty",
        )
        return None
    allowed, old = codes("ssda903_placement"), retired("ssda903_placement")
    return cell.code(place["clap_cla_placement_type"], "placement_type", allowed, required=True, accept=old)


def weekly_cost(r, cell, place: Record | None) -> float | None:
    raw = values.text(place["clap_cla_placement_weekly_cost"]) if place else None
    if raw is None:
        return None
    try:
        cost = float(raw.replace(",", "").lstrip("£"))
    except ValueError:
        cost = -1.0
    if cost < 0:
        r.report.problem("looked_after", cell.where, "weekly_cost", raw, "not an amount of money: left empty")
        return None
    return cost


def cla_reviews(r) -> None:
    if not r.has("ssd_cla_reviews"):
        return
    r.tables.start("cla_reviews")
    for rec in r.rows("ssd_cla_reviews"):
        r.report.read("cla_reviews")
        cell = r.cell("cla_reviews", rec)
        child = r.cla_child.get(cell.ident(rec["clar_cla_id"], "clar_cla_id", False))
        date = cell.date(rec["clar_cla_review_date"], "review_date", required=True)
        if cell.failed:
            r.report.drop("cla_reviews", cell.failed, rec.where)
        elif child is None:
            r.report.drop("cla_reviews", "its period of care (clar_cla_id) is not in ssd_cla_episodes", rec.where)
        elif cell.yes_no(rec["clar_cla_review_cancelled"], "review_date"):
            r.report.drop("cla_reviews", "the review was cancelled", rec.where)
        else:
            r.seen(date)
            participation = cell.code(
                rec["clar_cla_review_participation"], "participation", codes("cla_review_participation")
            )
            r.tables.add(
                "cla_reviews",
                {"child_id": child, "review_date": date, "participation": participation},
                rec.where,
                merge=True,
            )


def _offered(cell, value) -> bool | None:
    if (values.text(value) or "").lower() in NOT_APPLICABLE:
        return None
    return cell.yes_no(value, "return_interview_offered")


def missing(r) -> None:
    if not r.has("ssd_missing"):
        return
    r.tables.start("missing_episodes")
    for rec in r.rows("ssd_missing"):
        r.report.read("missing_episodes")
        cell = r.cell("missing_episodes", rec)
        child = r.person(cell, rec["miss_person_id"])
        start = cell.date(rec["miss_missing_episode_start_date"], "start_date", required=True)
        end = cell.date(rec["miss_missing_episode_end_date"], "end_date")
        if cell.failed:
            r.report.drop("missing_episodes", cell.failed, rec.where)
            continue
        r.seen(start, end)
        kind = cell.code(
            rec["miss_missing_episode_type"], "missing_type", codes("missing_type"), MISSING_WORDS, required=True
        )
        row = {"child_id": child, "start_date": start, "end_date": end, "missing_type": kind}
        r.tables.add(
            "missing_episodes",
            row | {"return_interview_offered": _offered(cell, rec["miss_missing_rhi_offered"])},
            rec.where,
        )


def care_leavers(r) -> None:
    if not r.has("ssd_care_leavers"):
        return
    r.tables.start("care_leavers")
    for rec in r.rows("ssd_care_leavers"):
        r.report.read("care_leavers")
        cell = r.cell("care_leavers", rec)
        child = r.person(cell, rec["clea_person_id"])
        recorded = cell.date(rec["clea_care_leaver_latest_contact"], "recorded_date")
        if recorded is None:
            recorded = cell.date(rec["clea_pathway_plan_review_date"], "recorded_date")
            if recorded:
                r.report.assume("care_leavers: recorded on the latest contact, else the latest pathway plan review")
        if cell.failed or recorded is None:
            r.report.drop("care_leavers", cell.failed or "no latest contact or pathway plan review date", rec.where)
            continue
        r.seen(recorded)
        accommodation, suitable = _accommodation(cell, rec)
        row = {
            "child_id": child,
            "recorded_date": recorded,
            "accommodation": accommodation,
            "accommodation_suitable": suitable,
        }
        row["in_touch"] = cell.code(
            rec["clea_care_leaver_in_touch"], "in_touch", codes("care_leaver_in_touch"), IN_TOUCH_WORDS, required=True
        )
        row["activity"] = cell.code(rec["clea_care_leaver_activity"], "activity", codes("care_leaver_activity"))
        r.tables.add("care_leavers", row, rec.where)


def _accommodation(cell, rec: Record) -> tuple[str | None, bool | None]:
    raw = values.text(rec["clea_care_leaver_accommodation"])
    suitable_raw = values.text(rec["clea_care_leaver_accom_suitable"])
    if raw and re.fullmatch(r"[A-Za-z][12]", raw):  # the SSDA903 way: the letter, then 1 suitable or 2 not
        raw, suitable_raw = raw[0], suitable_raw or raw[1]
    code = cell.code(raw, "accommodation", codes("care_leaver_accommodation"))
    if suitable_raw in ("1", "2"):
        return code, suitable_raw == "1"
    return code, cell.yes_no(suitable_raw, "accommodation_suitable")


def uasc(r) -> None:
    if not r.has("ssd_immigration_status"):
        return
    r.tables.start("uasc")
    ceased: dict[str, list] = {}
    other = 0
    for rec in r.rows("ssd_immigration_status"):
        cell = r.cell("uasc", rec)
        status = (cell.text(rec["immi_immigration_status"], "immigration_status") or "").lower()
        if not any(w in status for w in UASC_WORDS):
            other += 1
            continue
        r.report.read("uasc")
        child = r.person(cell, rec["immi_person_id"])
        end = cell.date(rec["immi_immigration_status_end_date"], "ceased_date")
        if cell.failed:
            r.report.drop("uasc", cell.failed, rec.where)
            continue
        r.seen(end)
        if child in ceased:
            r.report.count("uasc").merged += 1
        ceased.setdefault(child, []).append(end)
    for child, ends in ceased.items():
        r.tables.add("uasc", {"child_id": child, "ceased_date": None if None in ends else max(ends)})
    if other:
        r.report.note(f"ssd_immigration_status: {other} row(s) with a status other than UASC, not used")
