"""Contract-typed frames for one chunk: IDs, then every table built from the simulated arrays.

The simulation (_people, _casework, _org, _records) works on integer indexes and day numbers;
this module turns them into the contract's string IDs, dates and nulls, one table at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sample_data import _care_returns as care
from sample_data import _casework as cw
from sample_data import _front_door as front
from sample_data import _org as org
from sample_data import _people as people
from sample_data import _records as rec
from sample_data._calendar import NEVER
from sample_data._output import frame, str_ids
from schemas.contract import TABLES

ACADEMIC_YEARS = range(2021, 2026)


@dataclass
class Counters:
    """Running ID numbers, carried from chunk to chunk."""

    referral: int = 0
    assessment: int = 0
    s47: int = 0
    cp: int = 0
    cin: int = 0
    episode: int = 0
    visit: int = 0
    service_episode: int = 0
    contact: int = 0
    early_help: int = 0

    def take(self, name: str, n: int) -> np.ndarray:
        """The next n numbers (from 1) of one counter."""
        first = getattr(self, name)
        setattr(self, name, first + n)
        return first + 1 + np.arange(n)


def team_and_worker_ids(sim: dict, first_area: int, multi: bool) -> tuple[np.ndarray, np.ndarray]:
    """String IDs of the chunk's teams and workers (worker numbers restart in each area)."""
    n_team = sim["n_area"] * org.N_TEAMS
    teams = np.array(
        [org.team_id(first_area + t // org.N_TEAMS, t % org.N_TEAMS, multi) for t in range(n_team)], dtype=object
    )
    w_area = sim["workers"]["team"] // org.N_TEAMS
    first_in_area = np.searchsorted(w_area, w_area, side="left")
    number = np.arange(len(w_area)) - first_in_area + 1
    prefix = np.array([f"A{first_area + a + 1:03d}-" if multi else "" for a in range(sim["n_area"])], dtype=object)
    workers = prefix[w_area] + np.array([f"W{k:03d}" for k in number], dtype=object)
    return teams, workers


def people_frames(ctx, sim: dict, ids: dict) -> dict[str, pl.DataFrame]:
    """children, education and neet_status."""
    kids, R, a = sim["kids"], sim["R"], ctx.as_of
    first_care = np.full(len(kids["birth"]), NEVER)
    lac = R["lac"] & (R["lac_start"] <= a)
    np.minimum.at(first_care, R["child"][lac], R["lac_start"][lac])
    traits = people.school_traits(ctx, kids)
    edu = people.education(ctx, kids, traits, ACADEMIC_YEARS)
    neet = people.neet(ctx, kids, traits, first_care)
    child = ids["child"]
    disability = np.where(kids["disability_known"], kids["disabled"], None).astype(object)
    edu_cols = {k: v for k, v in edu.items() if k != "child"} | {"child_id": child.gather(edu["child"])}
    return {
        "children": frame(
            "children",
            {
                "child_id": child,
                "family_id": str_ids("F", kids["family"] + 1, 7),
                "sex": kids["sex"],
                "birth_date": kids["birth"],
                "ethnicity": kids["ethnicity"],
                "disability": disability,
            },
            a,
        ),
        "education": frame("education", edu_cols, a),
        "neet_status": frame(
            "neet_status",
            {"child_id": child.gather(neet["child"]), "recorded_date": neet["recorded_date"], "status": neet["status"]},
            a,
        ),
    }


def referral_frames(ctx, sim: dict, ids: dict, counters: Counters) -> dict[str, pl.DataFrame]:
    """referrals, assessments and section47."""
    R, a, rng = sim["R"], ctx.as_of, ctx.rng
    m = len(R["ref"])
    ref_id = str_ids("R", counters.take("referral", m), 8)
    ids["referral"] = ref_id
    child = ids["child"].gather(R["child"])
    worker = ids["worker"][R["worker"]]
    worker[(R["path"] == cw.NFA) & (rng.random(m) < 0.04)] = None
    closed = R["closure"] <= a
    out = {
        "referrals": frame(
            "referrals",
            {
                "referral_id": ref_id,
                "child_id": child,
                "referral_date": R["ref"],
                "source": R["source"],
                "primary_need": R["need"],
                "nfa": R["path"] == cw.NFA,
                "team_id": ids["team"][R["team_local"]],
                "worker_id": worker,
                "closure_date": R["closure"],
                "closure_reason": np.where(closed, R["reason"], None),
            },
            a,
        )
    }
    row = np.flatnonzero(R["has_assessment"] & (R["a_start"] <= a))
    authorised = R["a_auth"][row] <= a
    in_need = np.where(authorised & (rng.random(len(row)) >= 0.02), R["in_need"][row], None).astype(object)
    a_worker = org.worker_at(sim["slots"], sim["workers"], R["slot"][row], np.minimum(R["a_auth"][row], a))
    out["assessments"] = frame(
        "assessments",
        {
            "assessment_id": str_ids("A", counters.take("assessment", len(row)), 8),
            "referral_id": ref_id.gather(row),
            "child_id": child.gather(row),
            "start_date": R["a_start"][row],
            "authorised_date": R["a_auth"][row],
            "worker_id": ids["worker"][a_worker],
            "in_need": in_need,
        },
        a,
    )
    row = np.flatnonzero(R["s47"] & (R["strategy"] <= a))
    held = R["icpc_held"][row]
    out["section47"] = frame(
        "section47",
        {
            "s47_id": str_ids("S", counters.take("s47", len(row)), 7),
            "referral_id": ref_id.gather(row),
            "child_id": child.gather(row),
            "strategy_date": R["strategy"][row],
            "icpc_date": np.where(held, R["icpc"][row], NEVER),
            "icpc_not_required": ~held,
        },
        a,
    )
    return out


def plan_frames(ctx, sim: dict, ids: dict, counters: Counters) -> dict[str, pl.DataFrame]:
    """cp_plans, cp_reviews, cin_plans and looked_after."""
    R, a = sim["R"], ctx.as_of
    child = ids["child"].gather(R["child"])
    row = np.flatnonzero(R["cp"] & (R["cp_start"] <= a))
    plan_id = str_ids("CP", counters.take("cp", len(row)), 7)
    plan_of_row = np.full(len(R["ref"]), -1)
    plan_of_row[row] = np.arange(len(row))
    out = {
        "cp_plans": frame(
            "cp_plans",
            {
                "plan_id": plan_id,
                "child_id": child.gather(row),
                "referral_id": ids["referral"].gather(row),
                "start_date": R["cp_start"][row],
                "end_date": R["cp_end"][row],
                "initial_category": R["cp_cat"][row],
                "latest_category": R["cp_cat_latest"][row],
            },
            a,
        )
    }
    rv = rec.cp_reviews(ctx, R)
    out["cp_reviews"] = frame(
        "cp_reviews", {"plan_id": plan_id.gather(plan_of_row[rv["row"]]), "review_date": rv["date"]}, a
    )
    row = np.flatnonzero(R["cin"] & (R["cin_start"] <= a))
    out["cin_plans"] = frame(
        "cin_plans",
        {
            "cin_plan_id": str_ids("CIN", counters.take("cin", len(row)), 7),
            "child_id": child.gather(row),
            "referral_id": ids["referral"].gather(row),
            "start_date": R["cin_start"][row],
            "end_date": R["cin_end"][row],
        },
        a,
    )
    ep = rec.care_episodes(ctx, R, sim["kids"]["birth"])
    sim["care_episodes"] = ep  # for the missing episodes (format 1.1)
    out["looked_after"] = frame(
        "looked_after",
        {
            "episode_id": str_ids("E", counters.take("episode", len(ep["row"])), 8),
            "child_id": child.gather(ep["row"]),
            "start_date": ep["start"],
            "end_date": ep["end"],
            "legal_status": ep["legal"],
            "placement_type": ep["place"],
            "weekly_cost": ep["cost"],
        },
        a,
    )
    return out


def activity_frames(ctx, sim: dict, ids: dict, counters: Counters) -> dict[str, pl.DataFrame]:
    """factors, visits and service_episodes."""
    R, a = sim["R"], ctx.as_of
    child = ids["child"].gather(R["child"])
    f = rec.factors(ctx, R, R["ref"] - sim["kids"]["birth"][R["child"]])
    factors = frame(
        "factors",
        {
            "child_id": child.gather(f["row"]),
            "referral_id": ids["referral"].gather(f["row"]),
            "factor_code": f["code"],
            "recorded_date": f["date"],
            "source": f["source"],
        },
        a,
    )
    factors = factors.unique(subset=TABLES["factors"].key, keep="first", maintain_order=True)
    v = rec.visits(ctx, R, sim["slots"], sim["workers"])
    order = np.lexsort((v["date"], v["row"]))
    visits = frame(
        "visits",
        {
            "visit_id": str_ids("V", counters.take("visit", len(order)), 9),
            "child_id": child.gather(v["row"][order]),
            "worker_id": ids["worker"][v["worker"][order]],
            "visit_date": v["date"][order],
            "visit_type": v["type"][order],
            "seen_alone": v["seen_alone"][order],
        },
        a,
    )
    row = np.flatnonzero(R["svc"] >= 0)
    end = R["svc_end"][row]
    episodes = frame(
        "service_episodes",
        {
            "service_episode_id": str_ids("SE", counters.take("service_episode", len(row)), 8),
            "service_id": str_ids("SV", R["svc"][row] + 1, 2),
            "child_id": child.gather(row),
            "referral_id": ids["referral"].gather(row),
            "start_date": R["svc_start"][row],
            "end_date": end,
            "exit_reason": np.where(end > a, "ongoing", R["svc_exit"][row]),
            "cost": rec.service_costs(ctx, R, row),
        },
        a,
    )
    return {"factors": factors, "visits": visits, "service_episodes": episodes}


def staff_frames(ctx, sim: dict, ids: dict, first_area: int, multi: bool) -> dict[str, pl.DataFrame]:
    """teams, workers and worker_absence for the chunk's areas."""
    a, w = ctx.as_of, sim["workers"]
    teams = org.team_rows(first_area + np.arange(sim["n_area"]), multi)
    ab = org.absence_rows(ctx.rng, ctx.cal, w, ctx.start, a)
    return {
        "teams": frame("teams", teams, a),
        "workers": frame(
            "workers",
            {
                "worker_id": ids["worker"],
                "worker_name": w["name"],
                "team_id": ids["team"][w["team"]],
                "role": w["role"],
                "fte": w["fte"],
                "agency": w["agency"],
                "start_date": w["start"],
                "end_date": np.where(w["end"] < 0, NEVER, w["end"]),
            },
            a,
        ),
        "worker_absence": frame(
            "worker_absence",
            {
                "worker_id": ids["worker"][ab["worker"]],
                "month": ab["month"],
                "absence_days": ab["absence_days"],
                "contracted_days": ab["contracted_days"],
            },
            a,
        ),
    }


def front_door_frames(ctx, sim: dict, ids: dict, counters: Counters) -> dict[str, pl.DataFrame]:
    """contacts and early_help (format 1.1; ctx carries the format-1.1 random stream)."""
    kids, R, a = sim["kids"], sim["R"], ctx.as_of
    c = front.contacts(ctx, kids, R)
    team = ids["team"][np.maximum(c["team"], 0)]
    team[c["team"] < 0] = None
    contacts = frame(
        "contacts",
        {
            "contact_id": str_ids("K", counters.take("contact", len(c["child"])), 9),
            "child_id": ids["child"].gather(c["child"]),
            "contact_date": c["date"],
            "source": c["source"],
            "outcome": c["outcome"],
            "team_id": team,
        },
        a,
    )
    eh = front.early_help(ctx, kids, R, c)
    early = frame(
        "early_help",
        {
            "episode_id": str_ids("EH", counters.take("early_help", len(eh["child"])), 8),
            "child_id": ids["child"].gather(eh["child"]),
            "start_date": eh["start"],
            "end_date": eh["end"],
            "reason": eh["reason"],
            "outcome": eh["outcome"],
        },
        a,
    )
    return {"contacts": contacts, "early_help": early}


def care_return_frames(ctx, sim: dict, ids: dict) -> dict[str, pl.DataFrame]:
    """cla_reviews, missing_episodes, care_leavers and uasc (format 1.1; ctx carries the format-1.1 stream)."""
    kids, R, a = sim["kids"], sim["R"], ctx.as_of
    child = ids["child"]
    rv = care.cla_reviews(ctx, R, kids["birth"])
    reviews = frame(
        "cla_reviews",
        {"child_id": child.gather(rv["child"]), "review_date": rv["date"], "participation": rv["participation"]},
        a,
    )
    ms = care.missing_episodes(ctx, sim["care_episodes"], R, kids["birth"])
    missing = frame(
        "missing_episodes",
        {
            "child_id": child.gather(ms["child"]),
            "start_date": ms["start"],
            "end_date": ms["end"],
            "missing_type": ms["type"],
            "return_interview_offered": ms["offered"],
        },
        a,
    )
    cl = care.care_leavers(ctx, R, kids["birth"])
    leavers = frame(
        "care_leavers",
        {
            "child_id": child.gather(cl["child"]),
            "recorded_date": cl["date"],
            "in_touch": cl["in_touch"],
            "activity": cl["activity"],
            "accommodation": cl["accommodation"],
            "accommodation_suitable": cl["suitable"],
        },
        a,
    )
    us = care.uasc(ctx, R, kids)
    uasc = frame("uasc", {"child_id": child.gather(us["child"]), "ceased_date": us["ceased"]}, a)
    unique = {name: df.unique(subset=TABLES[name].key, keep="first", maintain_order=True)
              for name, df in (("cla_reviews", reviews), ("missing_episodes", missing))}  # fmt: skip
    return unique | {"care_leavers": leavers, "uasc": uasc}


def fixed_frames(as_of: int) -> dict[str, pl.DataFrame]:
    """services and factor_codes (the same in every extract)."""
    s = org.SERVICES
    services = frame(
        "services",
        {
            "service_id": [f"SV{i + 1:02d}" for i in range(len(s))],
            "service_name": [x[0] for x in s],
            "provider": [x[1] for x in s],
            "category": [x[2] for x in s],
            "commissioning": [x[3] for x in s],
            "unit_cost": [x[4] for x in s],
            "cost_unit": [x[5] for x in s],
        },
        as_of,
    )
    lf = rec.LOCAL_FACTORS
    codes = frame(
        "factor_codes",
        {"factor_code": [x[0] for x in lf], "label": [x[1] for x in lf], "subject": [x[2] for x in lf]},
        as_of,
    )
    return {"services": services, "factor_codes": codes}
