"""The organisation: teams, workers (with leavers), case allocation, sickness absence, services.

Teams repeat per "area" of about 12,000 children, so a national-scale run is many councils'
worth of the same 12-team structure. Workers are sized from each team's open cases at as_of
(about 16 open cases per case-holding FTE), then every referral is allocated to a worker of
its own team who was in post on the referral's closure date (or at as_of when still open).
"""

from __future__ import annotations

import numpy as np

from sample_data._calendar import WorkingDays, month_starts

# (team_name, service_area, practice_model, focus)
TEAM_TEMPLATE = (
    ("Front Door (MASH)", "front_door", "traditional", None),
    ("Assessment North", "assessment", "data_led", None),
    ("Assessment South", "assessment", "traditional", None),
    ("Child in Need North", "child_in_need", "data_led", None),
    ("Child in Need South", "child_in_need", "traditional", None),
    ("Child Protection Unit A", "child_protection", "data_led", "physical abuse"),
    ("Child Protection Unit B", "child_protection", "traditional", "neglect and emotional abuse"),
    ("Children in Care North", "children_in_care", "data_led", None),
    ("Children in Care South", "children_in_care", "traditional", None),
    ("Leaving Care", "care_leavers", "traditional", None),
    ("Disabled Children", "disabled_children", "data_led", None),
    ("Early Help", "early_help", "traditional", None),
)
N_TEAMS = len(TEAM_TEMPLATE)
FRONT, ASSESS, CIN, CP_PA, CP_B, CIC, LEAVING, DISABLED, EARLY = 0, 1, 3, 5, 6, 7, 9, 10, 11
TEAM_TRAD = np.array([t[2] == "traditional" for t in TEAM_TEMPLATE])
CASES_PER_FTE = 16.0
FTE_CHOICES, FTE_P = (1.0, 0.8, 0.6, 0.5), (0.62, 0.16, 0.13, 0.09)
MEAN_FTE = float(np.dot(FTE_CHOICES, FTE_P))
AGENCY_SHARE = 0.18
LEAVER_SHARE = 0.18
ABSENCE_RATE = {False: 0.028, True: 0.045}  # mean sickness rate, by "is the team traditional?"

# (service_name, provider, category, commissioning, unit_cost, cost_unit, success_rate, days lo-hi)
SERVICES = (
    (
        "Family Group Conference",
        "Council FGC Service",
        "family_group_conference",
        "in_house",
        1150.0,
        "family",
        0.80,
        (21, 60),
    ),
    (
        "Multisystemic Therapy",
        "MST North Partnership",
        "multisystemic_therapy",
        "block",
        5700.0,
        "family",
        0.76,
        (110, 160),
    ),
    (
        "Functional Family Therapy",
        "FFT Services Ltd",
        "functional_family_therapy",
        "framework",
        3300.0,
        "family",
        0.72,
        (80, 140),
    ),
    ("Intensive Family Support", "Council Edge of Care Team", "other", "block", 380.0, "week", 0.70, (56, 140)),
    (
        "Triple P Parenting",
        "Parenting Partnership CIC",
        "parenting_programme",
        "framework",
        95.0,
        "session",
        0.66,
        (56, 84),
    ),
    (
        "Domestic Abuse Recovery Programme",
        "Safe Futures Charity",
        "domestic_abuse",
        "spot",
        85.0,
        "session",
        0.62,
        (70, 100),
    ),
    (
        "Family Substance Misuse Service",
        "Recovery Works",
        "substance_misuse",
        "framework",
        160.0,
        "week",
        0.58,
        (84, 182),
    ),
    ("Youth Mentoring", "Mentor Link", "mentoring", "spot", 45.0, "session", 0.64, (140, 280)),
    (
        "Residential Parenting Assessment",
        "Hillside Family Centre",
        "residential",
        "spot",
        4200.0,
        "week",
        0.52,
        (56, 112),
    ),
    (
        "Parenting Capacity Assessment (PAMS)",
        "Independent Assessors Ltd",
        "other",
        "spot",
        3500.0,
        "family",
        0.60,
        (42, 84),
    ),
)
SERVICE_SUCCESS = np.array([s[6] for s in SERVICES])
SERVICE_DAYS = np.array([s[7] for s in SERVICES])
FIRST_NAMES = (
    "Amira",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Farah",
    "Grace",
    "Hassan",
    "Imogen",
    "Jack",
    "Kiran",
    "Leah",
    "Mo",
    "Nadia",
    "Owen",
    "Priya",
    "Ravi",
    "Sara",
    "Tom",
    "Una",
    "Vik",
    "Will",
    "Yasmin",
    "Zoe",
    "Aled",
    "Beth",
    "Cara",
    "Dev",
    "Erin",
    "Femi",
)
LAST_NAMES = (
    "Ahmed",
    "Brown",
    "Clarke",
    "Davies",
    "Evans",
    "Fletcher",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Moore",
    "Nolan",
    "Okafor",
    "Patel",
    "Quinn",
    "Roberts",
    "Smith",
    "Taylor",
    "Uddin",
    "Walker",
    "Wright",
    "Young",
)


def team_rows(area_ids: np.ndarray, multi_area: bool) -> dict[str, list]:
    """Teams table columns for the given areas (12 teams each)."""
    cols: dict[str, list] = {"team_id": [], "team_name": [], "service_area": [], "practice_model": [], "focus": []}
    for area in area_ids:
        for k, (name, area_code, model, focus) in enumerate(TEAM_TEMPLATE):
            cols["team_id"].append(team_id(int(area), k, multi_area))
            cols["team_name"].append(f"Area {area + 1:03d} {name}" if multi_area else name)
            cols["service_area"].append(area_code)
            cols["practice_model"].append(model)
            cols["focus"].append(focus)
    return cols


def team_id(area: int, k: int, multi_area: bool) -> str:
    """'T05' in a one-area extract, 'A017-T05' when there are many areas."""
    return f"A{area + 1:03d}-T{k + 1:02d}" if multi_area else f"T{k + 1:02d}"


def build_slots(
    rng: np.random.Generator, open_cases: np.ndarray, refs_per_year: np.ndarray, start: int, as_of: int
) -> dict[str, np.ndarray]:
    """Posts per team: a manager, an embedded data analyst in data-led teams, and case holders
    sized to ~16 open cases per FTE; some posts changed hands (a leaver, then the current holder).

    open_cases is per team (n_areas*12); refs_per_year is per area (sizes the front door).
    """
    n_team = len(open_cases)
    k = np.arange(n_team) % N_TEAMS
    holders = np.maximum(1, np.rint(open_cases / (CASES_PER_FTE * MEAN_FTE))).astype(np.int64)
    front = np.maximum(2, np.rint(refs_per_year / 800)).astype(np.int64)
    holders = np.where(k == FRONT, front[np.arange(n_team) // N_TEAMS], holders)
    extra = 1 + ~TEAM_TRAD[k]  # team manager, plus the analyst of a data-led unit
    n_slot = holders + extra
    team = np.repeat(np.arange(n_team), n_slot)
    pos = np.arange(len(team)) - np.repeat(np.cumsum(n_slot) - n_slot, n_slot)
    manager, analyst = pos == 0, (pos == 1) & (extra[team] == 2)
    case_holding = pos >= extra[team]
    tk = team % N_TEAMS
    role = np.where(tk == EARLY, "family_practitioner", "social_worker")
    senior = case_holding & (pos - extra[team] < 1 + (holders[team] > 8)) & (holders[team] > 3)
    role = np.select([manager, analyst, senior], ["team_manager", "other", "senior_practitioner"], role)
    m = len(team)
    first_holder = case_holding & (pos == extra[team])  # full-time, so a small team is not under-staffed
    fte = np.where(case_holding & ~first_holder, rng.choice(FTE_CHOICES, size=m, p=FTE_P), 1.0)
    leaver = rng.random(m) < LEAVER_SHARE
    switch = np.where(leaver, rng.integers(start + 60, as_of - 30, m), -(10**6))
    return {
        "team": team,
        "role": role.astype(object),
        "case_holding": case_holding,
        "fte": fte,
        "switch": switch,
        "leaver": leaver,
        "succ_start": np.where(leaver, switch, start - rng.integers(30, 5000, m)),
        "pred_start": start - rng.integers(30, 4000, m),
        "pred_fte": np.where(case_holding, rng.choice(FTE_CHOICES, size=m, p=FTE_P), 1.0),
    }


def allocate(rng: np.random.Generator, slots: dict[str, np.ndarray], team: np.ndarray) -> np.ndarray:
    """A case-holding slot of each referral's team, chosen in proportion to FTE."""
    hold = np.flatnonzero(slots["case_holding"])
    cum = np.cumsum(slots["fte"][hold])
    n_team = slots["team"].max() + 1
    first = np.searchsorted(slots["team"][hold], np.arange(n_team), side="left")
    last = np.searchsorted(slots["team"][hold], np.arange(n_team), side="right")
    lo = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    hi = cum[last - 1]
    target = lo[team] + rng.random(len(team)) * (hi[team] - lo[team])
    pick = np.searchsorted(cum, target, side="right")
    return hold[np.minimum(pick, last[team] - 1)]


def worker_rows(rng: np.random.Generator, slots: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One row per worker: every post's current holder, plus the leaver before them where there was one.

    Returns arrays in worker order plus, per slot, the worker index of its predecessor and successor.
    """
    m = len(slots["team"])
    lv = np.flatnonzero(slots["leaver"])
    is_pred = np.concatenate([np.zeros(m, bool), np.ones(len(lv), bool)])
    slot_of = np.concatenate([np.arange(m), lv])
    order = np.lexsort((~is_pred, slot_of))  # per slot: the leaver first, then the current holder
    slot_of, is_pred = slot_of[order], is_pred[order]
    index = np.arange(len(slot_of))
    succ_worker = np.empty(m, np.int64)
    succ_worker[slot_of[~is_pred]] = index[~is_pred]
    pred_worker = succ_worker.copy()
    pred_worker[slot_of[is_pred]] = index[is_pred]
    n = len(slot_of)
    names = (
        np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
        + " "
        + np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]
    )
    sw = slots["switch"][slot_of]
    return {
        "slot": slot_of,
        "team": slots["team"][slot_of],
        "role": slots["role"][slot_of],
        "fte": np.where(is_pred, slots["pred_fte"][slot_of], slots["fte"][slot_of]),
        "agency": rng.permutation(n) < round(AGENCY_SHARE * n),
        "name": names,
        "start": np.where(is_pred, slots["pred_start"][slot_of], slots["succ_start"][slot_of]),
        "end": np.where(is_pred, sw - 1, -1),
        "pred_worker": pred_worker,
        "succ_worker": succ_worker,
    }


def worker_at(
    slots: dict[str, np.ndarray], workers: dict[str, np.ndarray], slot: np.ndarray, when: np.ndarray
) -> np.ndarray:
    """The worker holding each slot on each date (the leaver before the switch date)."""
    before = when < slots["switch"][slot]
    return np.where(before, workers["pred_worker"][slot], workers["succ_worker"][slot])


def absence_rows(
    rng: np.random.Generator, cal: WorkingDays, workers: dict[str, np.ndarray], start: int, as_of: int
) -> dict[str, np.ndarray]:
    """Monthly sickness absence for every worker in post, from the window start to as_of."""
    months = month_starts(start, as_of)
    n_w = len(workers["start"])
    month_end = np.append(months[1:] - 1, as_of)
    end = np.where(workers["end"] < 0, as_of, workers["end"])
    lo = np.maximum(months[None, :], workers["start"][:, None])
    hi = np.minimum(month_end[None, :], end[:, None])
    wd = np.where(hi >= lo, cal.between(lo - 1, np.maximum(hi, lo - 1)), 0)
    w_idx, m_idx = np.nonzero(wd > 0)
    wd = wd[w_idx, m_idx]
    fte = workers["fte"][w_idx]
    trad = TEAM_TRAD[workers["team"] % N_TEAMS]
    mean = np.where(trad, ABSENCE_RATE[True], ABSENCE_RATE[False])
    rate = rng.gamma(2.0, mean / 2.0 * 0.8, n_w)  # personal short-term sickness propensity
    days = rng.binomial(wd, np.minimum(rate[w_idx], 0.5)).astype(float)
    long_spell = rng.random(len(w_idx)) < mean[w_idx] * 0.12  # occasional long-term sickness month
    days = np.where(long_spell, np.maximum(days, np.rint(wd * rng.uniform(0.4, 1.0, len(wd)))), days)
    contracted = np.round(wd * fte, 2)
    return {
        "worker": w_idx,
        "month": months[m_idx],
        "absence_days": np.round(np.minimum(days * fte, contracted), 2),
        "contracted_days": contracted,
    }
