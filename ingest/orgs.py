"""Teams and workers named in a source become `teams` and `workers` rows.

Sources name a team and a worker ("Allocated Team", "Allocated Worker") but hold nothing else
about them, so the other contract columns are filled by rule and the report says so:

- team_id is a readable slug of the team name ("Locality 4 Unit 1" -> "locality-4-unit-1");
  service_area is guessed from words in the name (Duty/MASH -> front_door, "Children in Care"
  -> children_in_care, ...; otherwise other); practice_model is "traditional".
- worker_id is "W-" and 10 hex digits of a SHA-256 of the worker's name (stable across imports,
  so several years merge; pseudonymous, not anonymous); role social_worker, fte 1.0, agency
  false, start_date the worker's first event in the source; team_id the team the worker was
  last seen with.
- A row whose team is not named goes to the team UNKNOWN ("Team not recorded in the source"),
  since every referral must name a team.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from ingest.rows import Tables

UNKNOWN_TEAM = "UNKNOWN"
UNKNOWN_TEAM_NAME = "Team not recorded in the source"

SERVICE_AREA_WORDS = [  # first match wins, on the lower-cased team name
    (("multi agency safeguarding", "mash", "duty", "front door", "contact"), "front_door"),
    (("care leaver", "leaving care", "after care", "16+", "18+"), "care_leavers"),
    (("children in care", "looked after", "cic", "lac", "permanence", "fostering", "adoption"), "children_in_care"),
    (("disabilit", "cwd"), "disabled_children"),
    (("early help", "family support"), "early_help"),
    (("child protection",), "child_protection"),
    (("child in need", "children in need"), "child_in_need"),
    (("assessment",), "assessment"),
]


def team_id(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or UNKNOWN_TEAM


def worker_id(name: str) -> str:
    normal = re.sub(r"\s+", " ", name.replace("\xa0", " ")).strip().lower()
    return "W-" + hashlib.sha256(normal.encode("utf-8")).hexdigest()[:10]


def service_area(name: str) -> str:
    lower = name.lower()
    for words, area in SERVICE_AREA_WORDS:
        if any(re.search(rf"(?<![a-z]){re.escape(w)}", lower) for w in words):
            return area
    return "other"


class Orgs:
    """Teams and workers met while reading one source."""

    def __init__(self, tables: Tables):
        self.tables = tables
        self.teams: dict[str, dict] = {}
        self.workers: dict[str, dict] = {}

    def team(self, name: str | None) -> str:
        """The team_id for a team name (UNKNOWN when the source names none)."""
        if not name:
            if UNKNOWN_TEAM not in self.teams:
                self.teams[UNKNOWN_TEAM] = _team_row(UNKNOWN_TEAM, UNKNOWN_TEAM_NAME, "other")
            return UNKNOWN_TEAM
        tid = team_id(name)
        if tid not in self.teams:
            self.teams[tid] = _team_row(tid, name, service_area(name))
        return tid

    def worker(self, name: str | None, team: str | None, seen: dt.date | None, wid: str | None = None) -> str | None:
        """The worker_id for a worker name (or the source's own worker ID), noting when they were seen."""
        if not name and not wid:
            return None
        wid = wid or worker_id(name)
        row = self.workers.get(wid)
        if row is None:
            row = self.workers[wid] = {
                "worker_id": wid,
                "worker_name": name,
                "team_id": team,
                "role": "social_worker",
                "fte": 1.0,
                "agency": False,
                "start_date": seen,
                "end_date": None,
                "_last_seen": seen,
            }
        if seen and (row["start_date"] is None or seen < row["start_date"]):
            row["start_date"] = seen
        if team and (row["team_id"] is None or (seen and (row["_last_seen"] is None or seen >= row["_last_seen"]))):
            row["team_id"] = team
            row["_last_seen"] = seen or row["_last_seen"]
        return wid

    def finish(self, fallback_date: dt.date) -> None:
        """Write the teams and workers met into the tables, with the rule-filled columns reported."""
        report = self.tables.report
        self.tables.start("teams", "workers")
        for row in self.workers.values():
            if row["team_id"] is None:
                row["team_id"] = self.team(None)
            if row["start_date"] is None:
                row["start_date"] = fallback_date
        for row in self.teams.values():
            report.read("teams")
            self.tables.add("teams", row)
        for row in self.workers.values():
            report.read("workers")
            self.tables.add("workers", {k: v for k, v in row.items() if not k.startswith("_")})
        if set(self.teams) - {UNKNOWN_TEAM}:
            report.assume(
                "teams: team_id is made from the team name; service_area is guessed from the name; "
                "practice_model is 'traditional'. Correct them in teams.parquet if you know better."
            )
        if UNKNOWN_TEAM in self.teams:
            report.assume(
                f"teams: rows whose team is not named are held by the team {UNKNOWN_TEAM} ('{UNKNOWN_TEAM_NAME}')."
            )
        if self.workers:
            report.assume(
                "workers: role 'social_worker', fte 1.0, agency false, start_date the worker's first "
                "event in the source, team the one they were last seen with."
            )


def _team_row(tid: str, name: str, area: str) -> dict:
    return {"team_id": tid, "team_name": name, "service_area": area, "practice_model": "traditional", "focus": None}
