"""Records that hang off the referrals: factors, care episodes, visits, CP reviews, service costs.

Each works on the per-referral arrays from _casework (already allocated to workers) and
returns plain column arrays indexed by referral row; repeated events (visits, reviews,
episodes) are expanded with np.repeat and per-group cumulative sums, never Python loops over rows.
"""

from __future__ import annotations

import numpy as np

from sample_data import _casework as cw
from sample_data import _org as org
from schemas.codes import cin_factor_codes, codes, labels

# Chance of each CIN factor at an assessment that found the child in need (domain.md: parental
# mental health and domestic abuse are the commonest).
FACTOR_P = {
    "4B": 0.40,
    "3B": 0.34,
    "3A": 0.30,
    "17A": 0.19,
    "16A": 0.17,
    "4A": 0.15,
    "2B": 0.15,
    "1B": 0.13,
    "3C": 0.06,
    "10A": 0.08,
    "14A": 0.07,
    "15A": 0.06,
    "18C": 0.06,
    "18B": 0.03,
    "11A": 0.04,
    "24A": 0.035,
    "5B": 0.05,
    "6B": 0.06,
    "2A": 0.04,
    "1A": 0.03,
    "5A": 0.04,
    "6A": 0.04,
    "7A": 0.04,
    "13A": 0.02,
    "19C": 0.03,
    "19B": 0.015,
    "20": 0.07,
    "9A": 0.01,
    "12A": 0.004,
    "22A": 0.002,
    "23A": 0.002,
    "8D": 0.002,
    "8E": 0.001,
    "8B": 0.0005,
    "8C": 0.0005,
    "8F": 0.0005,
    "4C": 0.02,
    "2C": 0.02,
    "1C": 0.02,
    "5C": 0.01,
    "6C": 0.015,
}
TEEN_FACTORS = ("1A", "2A", "4A", "10A", "11A", "13A", "14A", "15A", "24A")
CATEGORY_FACTOR = {"PHY": "18C", "NEG": "16A", "EMO": "17A", "SAB": "19C"}
CASE_FILE_CODES = ("4B", "3B", "2B", "1B", "16A", "17A", "5B", "6B")
# Local codes planted for the physical-abuse CP unit: (code, label, subject, rate in unit, rate elsewhere)
LOCAL_FACTORS = (
    ("PD1", "Parent or carer has a personality disorder", "parent", 0.20, 0.03),
    ("PA1", "Parent or carer was abused as a child", "parent", 0.65, 0.15),
    ("HS1", "Housing instability or homelessness", "household", 0.12, 0.12),
)


def ssda903(kind: str, wanted) -> tuple[str, ...]:
    """SSDA903 codes, each checked against the current list in codes.toml (kind: legal_status or placement)."""
    current = codes(f"ssda903_{kind}")
    wanted = tuple(wanted)
    unknown = [c for c in wanted if c not in current]
    if unknown:
        raise ValueError(f"not a current SSDA903 {kind} code in schemas/codes.toml: {unknown}")
    return wanted


def ssda903_weights(kind: str, weights: dict[str, float]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """(codes, weights) for cw.pick, the codes checked against codes.toml (the order given is kept)."""
    return ssda903(kind, weights), tuple(weights.values())


# SSDA903 episodes: the codes are codes.toml's; only the mix is the generator's.
LEGAL_FIRST = ssda903_weights("legal_status", {"V2": 0.4, "C1": 0.45, "C2": 0.15})
LEGAL_LATER = ssda903_weights("legal_status", {"C2": 0.6, "C1": 0.15, "V2": 0.15, "E1": 0.10})
LEGAL_EMERGENCY = ssda903_weights("legal_status", {"L1": 0.6, "L2": 0.4})  # police protection, EPO
FULL_CARE_ORDER, PLACEMENT_ORDER = ssda903("legal_status", ("C2", "E1"))
PLACE_YOUNG = ssda903_weights(
    "placement", {"U1": 0.08, "U2": 0.02, "U3": 0.1, "U4": 0.35, "U5": 0.03, "U6": 0.33, "K2": 0.03, "P1": 0.06}
)
PLACE_OLD = ssda903_weights(
    "placement", {"U1": 0.05, "U3": 0.08, "U4": 0.27, "U6": 0.22, "K2": 0.25, "P1": 0.04, "H5": 0.09}
)
CHILDRENS_HOME, SEMI_INDEPENDENT, FOSTER_LONG_TERM, PLACED_FOR_ADOPTION = ssda903("placement", ("K2", "H5", "U4", "A6"))
FOSTER = tuple(c for c in codes("ssda903_placement") if labels("placement_type")[c].startswith("Foster placement"))
VISIT_STANDARD = {"cp": 10, "cin": 20, "cla": 42}  # working days, working days, calendar days


def groups(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: each element's group and its position within the group."""
    lengths = np.asarray(lengths, dtype=np.int64)
    grp = np.repeat(np.arange(len(lengths)), lengths)
    pos = np.arange(len(grp)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return grp, pos


def segment_cumsum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at every group."""
    cs = np.cumsum(values)
    before = np.repeat(cs[np.cumsum(lengths) - lengths] - values[np.cumsum(lengths) - lengths], lengths)
    return cs - before


def factors(ctx, R: dict, age_days: np.ndarray) -> dict[str, np.ndarray]:
    """Factors at the end of assessment, some from case-file review, and the planted local codes."""
    rng = ctx.rng
    done = np.flatnonzero(R["has_assessment"] & (R["a_auth"] <= ctx.as_of))
    known = set(cin_factor_codes())
    assert set(FACTOR_P) <= known and set(TEEN_FACTORS) <= known
    rows, codes_out = [], []
    scale = np.where(R["in_need"][done], 1.0, 0.45)
    age = age_days[done]
    cat = np.where(R["cp"][done], R["cp_cat"][done], "")
    pa_unit = R["team"][done] == org.CP_PA
    lac = R["lac"][done]
    for code, p in FACTOR_P.items():
        prob = np.full(len(done), p) * scale
        if code in TEEN_FACTORS:
            prob *= np.where(age < 10 * 365, 0.0, np.where(age >= 13 * 365, 2.0, 1.0))
        for category, c in CATEGORY_FACTOR.items():
            if c == code:
                prob = np.where(cat == category, 0.7, prob)
        if code == "18C":
            prob = np.where(pa_unit, np.maximum(prob, 0.6), prob)
        if code in ("16A", "4B"):
            prob = np.where(lac, np.maximum(prob, 0.45), prob)
        hit = done[rng.random(len(done)) < prob]
        rows.append(hit)
        codes_out.append(np.full(len(hit), code, dtype=object))
    row = np.concatenate(rows)
    code = np.concatenate(codes_out)
    none = np.setdiff1d(done, row)
    row, code = np.concatenate([row, none]), np.concatenate([code, np.full(len(none), "21", dtype=object)])
    out = {"row": row, "code": code, "date": R["a_auth"][row], "source": np.full(len(row), "assessment", object)}
    merge(out, case_file(ctx, R))
    merge(out, local_factors(ctx, R))
    return out


def merge(into: dict, more: dict) -> None:
    """Append the arrays of `more` to those of `into`, key by key."""
    for k in into:
        into[k] = np.concatenate([into[k], more[k]])


def file_date(ctx, R: dict, row: np.ndarray) -> np.ndarray:
    """A date in the referral's open period up to as_of (case-file review dates)."""
    end = np.minimum(R["closure"][row], ctx.as_of)
    return R["ref"][row] + (ctx.rng.random(len(row)) * (end - R["ref"][row] + 1)).astype(np.int64)


def case_file(ctx, R: dict) -> dict[str, np.ndarray]:
    """Factors found by case-file review for about one assessed referral in ten."""
    rng = ctx.rng
    row = np.flatnonzero(R["has_assessment"] & (R["a_start"] <= ctx.as_of) & (rng.random(len(R["ref"])) < 0.1))
    code = np.array(CASE_FILE_CODES, dtype=object)[rng.integers(0, len(CASE_FILE_CODES), len(row))]
    return {"row": row, "code": code, "date": file_date(ctx, R, row), "source": np.full(len(row), "case_file", object)}


def local_factors(ctx, R: dict) -> dict[str, np.ndarray]:
    """Planted local codes, one per child at most: far commoner in the physical-abuse CP unit's cohort."""
    rng = ctx.rng
    case = np.flatnonzero(R["path"] != cw.NFA)
    in_unit = R["team"][case] == org.CP_PA
    # the child's first referral in the unit if any, else the child's first non-NFA referral
    order = np.lexsort((R["ref"][case], ~in_unit, R["child"][case]))
    case = case[order]
    first = np.r_[True, R["child"][case][1:] != R["child"][case][:-1]]
    row = case[first]
    cohort = R["team"][row] == org.CP_PA
    out = {"row": [], "code": [], "date": [], "source": []}
    for code, _label, _subject, p_unit, p_rest in LOCAL_FACTORS:
        hit = np.concatenate([exactly(rng, row[cohort], p_unit), exactly(rng, row[~cohort], p_rest)])
        assessed = (R["a_auth"][hit] <= ctx.as_of) & (rng.random(len(hit)) < 0.6)
        out["row"].append(hit)
        out["code"].append(np.full(len(hit), code, dtype=object))
        out["date"].append(np.where(assessed, R["a_auth"][hit], file_date(ctx, R, hit)))
        out["source"].append(np.where(assessed, "assessment", "case_file").astype(object))
    return {k: np.concatenate(v) for k, v in out.items()}


def exactly(rng: np.random.Generator, items: np.ndarray, share: float) -> np.ndarray:
    """A random subset of exactly round(share * n) items, so a planted rate is met without sampling noise."""
    return np.sort(items[rng.permutation(len(items))[: round(share * len(items))]])


def care_episodes(ctx, R: dict, birth: np.ndarray) -> dict[str, np.ndarray]:
    """SSDA903-style episodes (legal status and placement) splitting each period in care."""
    rng = ctx.rng
    row = np.flatnonzero(R["lac"] & (R["lac_start"] <= ctx.as_of))
    start, end = R["lac_start"][row], R["lac_end"][row]
    span = end - start
    n_ep = 1 + (rng.random(len(row)) < 0.45) + (rng.random(len(row)) < 0.2)
    n_ep = np.minimum(n_ep, np.maximum(span // 30, 1))
    emergency = R["lac_emergency"][row] & (span > 20)
    n_ep = n_ep + emergency
    grp, pos = groups(n_ep)
    w = rng.exponential(1.0, len(grp))
    frac = segment_cumsum(w, n_ep) / np.repeat(segment_cumsum(w, n_ep)[np.cumsum(n_ep) - 1], n_ep)
    first_len = np.where(emergency, rng.integers(1, 8, len(row)), 0)
    body0 = start + first_len
    ep_end = np.repeat(body0, n_ep) + np.rint(frac * np.repeat(end - body0, n_ep)).astype(np.int64)
    is_em = np.repeat(emergency, n_ep) & (pos == 0)
    ep_end = np.where(is_em, np.repeat(body0, n_ep), ep_end)
    ep_start = np.where(pos == 0, np.repeat(start, n_ep), np.r_[0, ep_end[:-1]])
    keep = (ep_end > ep_start) | (pos == np.repeat(n_ep, n_ep) - 1)
    m = len(grp)
    age = ep_start - birth[R["child"][row][grp]]
    legal = np.where(pos == 0, cw.pick(rng, *LEGAL_FIRST, m), cw.pick(rng, *LEGAL_LATER, m))
    legal = np.where(is_em, cw.pick(rng, *LEGAL_EMERGENCY, m), legal)
    legal = np.where((legal == PLACEMENT_ORDER) & (age >= 6 * 365), FULL_CARE_ORDER, legal)
    place = np.where(age < 11 * 365, cw.pick(rng, *PLACE_YOUNG, m), cw.pick(rng, *PLACE_OLD, m))
    place = np.where((place == SEMI_INDEPENDENT) & (age < 16 * 365), FOSTER_LONG_TERM, place)
    place = np.where(legal == PLACEMENT_ORDER, PLACED_FOR_ADOPTION, place)
    cost = weekly_cost(rng, place)
    sel = keep & (ep_start <= ctx.as_of)
    return {
        "row": row[grp][sel],
        "start": ep_start[sel],
        "end": ep_end[sel],
        "legal": legal[sel],
        "place": place[sel],
        "cost": cost[sel],
    }


def weekly_cost(rng: np.random.Generator, place: np.ndarray) -> np.ndarray:
    """Weekly cost by placement type: foster ~£585-665, children's home £3,000-5,000, a few unknown."""
    m = len(place)
    foster = np.isin(place, FOSTER)
    cost = np.select(
        [foster, place == CHILDRENS_HOME, place == SEMI_INDEPENDENT],
        [rng.uniform(585, 665, m), rng.uniform(3000, 5000, m), rng.uniform(850, 1600, m)],
        0.0,
    )
    return np.where(rng.random(m) < 0.04, np.nan, np.round(cost, 2))


def visit_periods(ctx, R: dict) -> dict[str, np.ndarray]:
    """Periods during which statutory visits are due: CP plans, CIN plans, periods in care."""
    parts = {"row": [], "start": [], "end": [], "type": []}
    for kind, flag, s, e in (
        ("cp", "cp", "cp_start", "cp_end"),
        ("cin", "cin", "cin_start", "cin_end"),
        ("cla", "lac", "lac_start", "lac_end"),
    ):
        row = np.flatnonzero(R[flag] & (R[s] <= ctx.as_of))
        parts["row"].append(row)
        parts["start"].append(R[s][row])
        parts["end"].append(R[e][row])
        parts["type"].append(np.full(len(row), kind, dtype=object))
    return {k: np.concatenate(v) for k, v in parts.items()}


def visits(ctx, R: dict, slots: dict, workers: dict) -> dict[str, np.ndarray]:
    """Visits at (mostly) the standard frequency; late ones and stalled cases more often in traditional teams."""
    rng, cal = ctx.rng, ctx.cal
    P = visit_periods(ctx, R)
    n = len(P["row"])
    trad = org.TEAM_TRAD[R["team"][P["row"]]]
    is_cla = P["type"] == "cla"
    std = np.where(P["type"] == "cp", 10, np.where(P["type"] == "cin", 20, 42))
    open_now = P["end"] > ctx.as_of
    stall = open_now & (rng.random(n) < np.where(trad, 0.10, 0.03))
    lag = std + rng.integers(1, 20, n)
    # positions: working-day counts for cp/cin, day numbers for cla
    p0 = np.where(is_cla, P["start"], cal.count_to(P["start"]))
    end_pos = np.where(is_cla, np.minimum(P["end"], ctx.as_of), cal.count_to(np.minimum(P["end"], ctx.as_of)))
    end_pos = np.where(stall, end_pos - lag, end_pos)
    min_gap = np.where(is_cla, 21, std // 2)
    n_max = np.maximum((end_pos - p0) // min_gap + 2, 1)
    grp, pos = groups(n_max)
    m = len(grp)
    g_std, g_cla, g_trad = std[grp], is_cla[grp], trad[grp]
    late = rng.random(m) < np.where(g_trad, 0.10, 0.04)
    on_time = np.where(
        g_cla, rng.integers(21, 43, m), g_std // 2 + (rng.random(m) * (g_std - g_std // 2 + 1)).astype(int)
    )
    gap = np.where(late, g_std + rng.integers(1, 9, m), on_time)
    gap = np.where(g_cla & (pos == 0), rng.integers(1, 8, m), gap)  # first CLA visit within a week
    at = p0[grp] + segment_cumsum(gap, n_max)
    keep = at <= end_pos[grp]
    grp, at = grp[keep], at[keep]
    date = np.where(is_cla[grp], at, cal.from_count(np.where(is_cla[grp], 1, at)))
    row = P["row"][grp]
    worker = org.worker_at(slots, workers, R["slot"][row], date)
    seen = rng.random(len(grp)) < np.select([P["type"][grp] == "cp", P["type"][grp] == "cin"], [0.7, 0.5], 0.6)
    out = {
        "row": row,
        "date": date,
        "type": P["type"][grp],
        "worker": worker,
        "seen_alone": np.where(rng.random(len(grp)) < 0.05, None, seen).astype(object),
    }
    merge(out, assessment_visits(ctx, R, slots, workers))
    return out


def assessment_visits(ctx, R: dict, slots: dict, workers: dict) -> dict[str, np.ndarray]:
    """An 'other' home visit during about half of the assessments."""
    rng = ctx.rng
    row = np.flatnonzero(R["has_assessment"] & (R["a_start"] <= ctx.as_of) & (rng.random(len(R["ref"])) < 0.5))
    last = np.minimum(np.minimum(R["a_auth"][row], ctx.as_of), R["closure"][row])
    date = R["a_start"][row] + (rng.random(len(row)) * np.maximum(last - R["a_start"][row] + 1, 1)).astype(np.int64)
    date = np.minimum(date, ctx.as_of)
    worker = org.worker_at(slots, workers, R["slot"][row], date)
    seen = np.where(rng.random(len(row)) < 0.5, True, False).astype(object)
    return {
        "row": row,
        "date": date,
        "type": np.full(len(row), "other", dtype=object),
        "worker": worker,
        "seen_alone": seen,
    }


def cp_reviews(ctx, R: dict) -> dict[str, np.ndarray]:
    """Review conferences: first within 3 months of the plan start, then at most 6-monthly, mostly on time."""
    rng = ctx.rng
    row = np.flatnonzero(R["cp"] & (R["cp_start"] <= ctx.as_of))
    start = R["cp_start"][row]
    last = np.minimum(R["cp_end"][row], ctx.as_of)
    n_max = (last - start) // 55 + 1
    grp, pos = groups(n_max)
    m = len(grp)
    trad = org.TEAM_TRAD[R["team"][row][grp]]
    on_time = rng.random(m) < np.where(trad, 0.88, 0.95)
    first_gap = np.where(on_time, rng.integers(55, 89, m), rng.integers(92, 126, m))
    later_gap = np.where(on_time, rng.integers(120, 181, m), rng.integers(185, 231, m))
    at = start[grp] + segment_cumsum(np.where(pos == 0, first_gap, later_gap), n_max)
    keep = at <= last[grp]
    return {"row": row[grp][keep], "date": at[keep]}


def service_costs(ctx, R: dict, row: np.ndarray) -> np.ndarray:
    """Explicit episode cost for ~60% of service episodes (null, i.e. derived, for the rest)."""
    rng = ctx.rng
    svc = R["svc"][row]
    unit = np.array([s[4] for s in org.SERVICES])[svc]
    per = np.array([s[5] for s in org.SERVICES], dtype=object)[svc]
    start, end = R["svc_start"][row], R["svc_end"][row]
    closed = end <= ctx.as_of
    cost = np.select(
        [per == "family", per == "week"],
        [unit * rng.uniform(0.9, 1.1, len(row)), unit * (end - start) / 7],
        unit * rng.integers(6, 13, len(row)),
    )
    explicit = (rng.random(len(row)) < 0.6) & (closed | (per == "family"))
    return np.where(explicit, np.round(cost, 2), np.nan)
