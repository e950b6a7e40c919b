"""SSD departments, professionals and involvements -> teams, workers, and who holds each case.

- ssd_department -> teams: the SSD's own team ID and name; service_area guessed from the name
  (ingest.orgs.service_area), practice_model 'traditional'. A team named elsewhere (an involvement,
  a referral) but not in ssd_department is added with its name (or ID) as written.
- ssd_professionals -> workers: the SSD's professional ID, name (removed by the privacy option),
  role from the job title (ssd_tables.WORKER_ROLE_WORDS), FTE, agency flag, team the one of their
  latest involvement (else their department). A professional with no staff ID (a GP, another
  agency) who holds no case in the export is not a worker: the report counts them.
- ssd_involvements say who holds a case when: `holder` gives the team and worker of the latest
  involvement of the child that belongs to the referral or overlaps the dates asked about,
  preferring case-holding roles (ssd_tables.CASE_ROLES) over others (an IRO, a personal adviser).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ingest import values
from ingest.orgs import UNKNOWN_TEAM, UNKNOWN_TEAM_NAME, service_area, team_id
from ingest.report import RunReport
from ingest.rows import Cell, Tables
from ingest.ssd_files import Record
from ingest.ssd_tables import CASE_ROLES, WORKER_ROLE_WORDS

LONG_AGO, FAR_AHEAD = dt.date.min, dt.date.max


@dataclass
class Involvement:
    """One professional's (or team's) involvement with a child, from ssd_involvements."""

    worker: str | None
    team: str | None
    start: dt.date | None
    end: dt.date | None
    referral: str | None
    holds_case: bool

    def overlaps(self, start: dt.date, end: dt.date | None) -> bool:
        return (self.start or LONG_AGO) <= (end or FAR_AHEAD) and (self.end or FAR_AHEAD) >= start


def role_of(title: str | None) -> str:
    """The contract role for a job title ('Senior Practitioner' -> senior_practitioner); blank: social_worker."""
    if not title:
        return "social_worker"
    lower = title.lower()
    for words, role in WORKER_ROLE_WORDS:
        if any(w in lower for w in words):
            return role
    return "other"


class Staff:
    """The teams, workers and involvements of one SSD export."""

    def __init__(self, tables: Tables, report: RunReport):
        self.tables, self.report = tables, report
        self.teams: dict[str, dict] = {}
        self.team_by_name: dict[str, str] = {}
        self.added_teams: set[str] = set()
        self.professionals: dict[str, dict] = {}
        self.used: dict[str, dt.date | None] = {}  # worker_id -> first date seen holding a case
        self.latest_team: dict[str, tuple[dt.date, str]] = {}  # worker_id -> (start, team) of latest involvement
        self.involvements: dict[str, list[Involvement]] = {}

    # --- reading ------------------------------------------------------------------------------

    def department(self, rec: Record) -> None:
        self.report.read("teams")
        cell = Cell(self.report, "teams", rec.where)
        tid = cell.ident(rec["dept_team_id"], "team_id")
        if cell.failed:
            self.report.drop("teams", cell.failed, rec.where)
            return
        if tid in self.teams:
            self.report.drop("teams", "the same team ID twice in ssd_department", rec.where)
            return
        name = cell.text(rec["dept_team_name"], "team_name")
        if name is None:
            self.report.problem("teams", rec.where, "team_name", None, "no team name: the team's ID is used")
        self.teams[tid] = _team_row(tid, name or tid)
        self.team_by_name.setdefault((name or tid).lower(), tid)

    def professional(self, rec: Record) -> None:
        self.report.read("workers")
        cell = Cell(self.report, "workers", rec.where)
        wid = cell.ident(rec["prof_professional_id"], "worker_id")
        if cell.failed:
            self.report.drop("workers", cell.failed, rec.where)
            return
        if wid in self.professionals:
            self.report.drop("workers", "the same professional ID twice in ssd_professionals", rec.where)
            return
        self.professionals[wid] = {
            "where": rec.where,
            "staff": cell.text(rec["prof_staff_id"], "staff_id"),
            "worker_name": cell.text(rec["prof_professional_name"], "worker_name"),
            "role": role_of(cell.text(rec["prof_professional_job_title"], "role")),
            "fte": self._fte(cell, rec["prof_full_time_equivalency"]),
            "agency": cell.yes_no(rec["prof_agency_worker_flag"], "agency"),
            "department": cell.text(rec["prof_professional_department"], "team_id"),
        }

    def _fte(self, cell: Cell, value) -> float | None:
        raw = values.text(value)
        if raw is None:
            return None
        try:
            fte = float(raw)
        except ValueError:
            fte = -1.0
        if not 0 < fte <= 1:
            self.report.problem(
                "workers", cell.where, "fte", raw, "not a full-time equivalent above 0 and at most 1: 1.0 used"
            )
            return None
        return fte

    def involvement(self, rec: Record) -> None:
        cell = Cell(self.report, "workers", rec.where)
        person = cell.ident(rec["invo_person_id"], "child_id")
        worker = cell.ident(rec["invo_professional_id"], "worker_id", required=False)
        start = cell.date(rec["invo_involvement_start_date"], "start_date")
        end = cell.date(rec["invo_involvement_end_date"], "end_date")
        if person is None:
            self.report.problem("workers", rec.where, "child_id", None, "an involvement with no person: not used")
            return
        role = (cell.text(rec["invo_professional_role_id"], "role") or "").lower()
        team = self.team(cell.text(rec["invo_professional_team"], "team_id"))
        referral = cell.ident(rec["invo_referral_id"], "referral_id", required=False)
        holds = not role or any(w in role for w in CASE_ROLES)
        self.involvements.setdefault(person, []).append(Involvement(worker, team, start, end, referral, holds))
        if worker and team and (worker not in self.latest_team or (start or LONG_AGO) >= self.latest_team[worker][0]):
            self.latest_team[worker] = (start or LONG_AGO, team)

    # --- looking up ---------------------------------------------------------------------------

    def team(self, ref: str | None) -> str | None:
        """The team_id for a team ID or name from any table; a team not in ssd_department is added."""
        ref = values.text(ref)
        if ref is None:
            return None
        if ref in self.teams:
            return ref
        known = self.team_by_name.get(ref.lower())
        if known:
            return known
        tid = team_id(ref)
        if tid not in self.teams:
            self.teams[tid] = _team_row(tid, ref)
            self.added_teams.add(tid)
            self.team_by_name[ref.lower()] = tid
        return tid

    def worker(self, ref, seen: dt.date | None = None) -> str | None:
        """The worker_id for a professional ID named on a case, noting the first date it held one."""
        wid = values.text(ref)
        if wid is None:
            return None
        wid = values.ident(wid)
        first = self.used.get(wid)
        if wid not in self.used or (seen and (first is None or seen < first)):
            self.used[wid] = seen
        return wid

    def holder(
        self, person: str, referral: str | None, start: dt.date, end: dt.date | None
    ) -> tuple[str | None, str | None]:
        """(team, worker) of the child's latest involvement belonging to `referral` or overlapping start-end."""
        found = [
            i
            for i in self.involvements.get(person, [])
            if (referral is not None and i.referral == referral) or i.overlaps(start, end)
        ]
        if not found:
            return None, None
        best = max(found, key=lambda i: (i.holds_case, i.start or LONG_AGO))
        return best.team, self.worker(best.worker, best.start)

    def team_of_worker(self, wid: str | None) -> str | None:
        if wid is None:
            return None
        if wid in self.latest_team:
            return self.latest_team[wid][1]
        return self.team(self.professionals.get(wid, {}).get("department"))

    # --- writing ------------------------------------------------------------------------------

    def finish(self, fallback: dt.date) -> None:
        """Write teams and workers: every team, and the professionals who are staff or hold a case."""
        self.tables.start("teams", "workers")
        unlisted = [w for w in self.used if w not in self.professionals]
        for wid, info in self.professionals.items():
            if info["staff"] is None and wid not in self.used:
                self.report.drop(
                    "workers", "not council staff (no staff ID) and holds no case in the export", info["where"]
                )
                continue
            self._add_worker(wid, info, fallback)
        for wid in unlisted:
            self.report.read("workers")
            self._add_worker(wid, {"worker_name": None, "role": "social_worker"}, fallback)
        if unlisted:
            self.report.assume(
                f"workers: {len(unlisted)} professional ID(s) named on cases but not in ssd_professionals were added "
                "with no name, role social_worker, fte 1.0, agency false"
            )
        for row in self.teams.values():
            if row["team_id"] not in self.added_teams:
                self.tables.add("teams", row)
        for tid in sorted(self.added_teams):
            self.report.read("teams")
            self.tables.add("teams", self.teams[tid])
        if self.added_teams:
            self.report.assume(
                f"teams: {len(self.added_teams)} team(s) named in other tables but not in ssd_department were added "
                "under their name as written"
            )
        if self.teams:
            self.report.assume("teams: service_area is guessed from the team name; practice_model is 'traditional'")
        self.report.assume(
            "workers: role from the job title, fte 1.0 and agency false where not recorded, start_date the first "
            "involvement or case they hold, team the one of their latest involvement (else their department)"
        )

    def _add_worker(self, wid: str, info: dict, fallback: dt.date) -> None:
        starts = [i.start for rows in self.involvements.values() for i in rows if i.worker == wid and i.start]
        first = min([*starts, *([self.used[wid]] if self.used.get(wid) else [])], default=fallback)
        team = self.team_of_worker(wid) or self.unknown_team()
        row = {"worker_id": wid, "worker_name": info["worker_name"], "team_id": team, "role": info["role"]}
        row |= {
            "fte": info.get("fte") or 1.0,
            "agency": bool(info.get("agency")),
            "start_date": first,
            "end_date": None,
        }
        self.tables.add("workers", row)

    def unknown_team(self) -> str:
        """The team UNKNOWN, for a case or worker with no team in the export."""
        if UNKNOWN_TEAM not in self.teams:
            self.teams[UNKNOWN_TEAM] = _team_row(UNKNOWN_TEAM, UNKNOWN_TEAM_NAME)
            self.teams[UNKNOWN_TEAM]["service_area"] = "other"
            self.report.read("teams")
            self.report.assume(f"teams: rows whose team is not recorded are held by the team {UNKNOWN_TEAM}")
        return UNKNOWN_TEAM


def _team_row(tid: str, name: str) -> dict:
    return {
        "team_id": tid,
        "team_name": name,
        "service_area": service_area(name),
        "practice_model": "traditional",
        "focus": None,
    }
