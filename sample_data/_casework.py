"""Episodes of need: each child's chain of referrals and what happened on each one.

A child's first referral date is drawn with the family; each referral then takes a pathway
(no further action, assessment only, child in need, section 47, looked after) that fixes its
team, assessment, S47 enquiry, CP/CIN plan, care period, commissioned service and closure.
After a closure the child comes back within a year with a probability set by the closing
team's practice model, or by the service used, which is how the re-referral and service
success patterns are planted. All of it is vectorised over children, looping only over the
referral number (a child rarely has more than six referrals).
"""

from __future__ import annotations

import numpy as np

from sample_data import _org as org

NFA, ASSESS_ONLY, CIN, S47, LAC = range(5)
PATH_P = np.array([0.175, 0.32, 0.425, 0.045, 0.03])  # pathway shares of all referrals
DATA_LED_SPEED = 0.60  # data-led teams' plan durations as a share of traditional ones
P_QUICK = {  # chance of a new referral within 365 days of closure, by (pathway kind, traditional?)
    ("nfa", False): 0.28,
    ("nfa", True): 0.40,
    ("case", False): 0.18,
    ("case", True): 0.31,
}
P_LATER = 0.34  # chance of a later new referral (more than 365 days after closure)
P_REPEAT_S47 = 0.3  # chance that a child who had a CP plan comes back to a S47 enquiry
BURN_IN_DAYS = 3 * 365  # first referrals may start this long before the window
CP_CAT_PA = (("PHY", "MUL"), (0.85, 0.15))
CP_CAT_B = (("NEG", "EMO", "SAB", "MUL"), (0.52, 0.34, 0.09, 0.05))
# closure reasons by pathway (RC8/RC9 only after an assessment that found no need for services)
REASONS = {
    CIN: (("RC7", "RC5", "RC3", "RC9", "RC2"), (0.79, 0.09, 0.04, 0.075, 0.005)),
    S47: (("RC7", "RC5", "RC3", "RC4"), (0.84, 0.08, 0.05, 0.03)),
    LAC: (("RC7", "RC4", "RC3", "RC1", "RC5"), (0.55, 0.16, 0.09, 0.12, 0.08)),
}
NEEDS = {  # primary need weights by pathway over N0..N9
    NFA: (0.05, 0.15, 0.02, 0.03, 0.2, 0.2, 0.05, 0.03, 0.02, 0.25),
    ASSESS_ONLY: (0.01, 0.3, 0.05, 0.05, 0.18, 0.18, 0.04, 0.02, 0.02, 0.15),
    CIN: (0.005, 0.45, 0.12, 0.05, 0.12, 0.16, 0.04, 0.005, 0.025, 0.03),
    S47: (0.0, 0.93, 0.0, 0.0, 0.03, 0.04, 0.0, 0.0, 0.0, 0.0),
    LAC: (0.0, 0.66, 0.03, 0.02, 0.08, 0.09, 0.02, 0.0, 0.1, 0.0),
}
SOURCE_W = {
    "1A": 0.02,
    "1B": 0.025,
    "1C": 0.01,
    "1D": 0.02,
    "2A": 0.19,
    "2B": 0.01,
    "3A": 0.045,
    "3B": 0.03,
    "3C": 0.02,
    "3D": 0.02,
    "3E": 0.01,
    "3F": 0.03,
    "4": 0.015,
    "5A": 0.03,
    "5B": 0.03,
    "5C": 0.02,
    "5D": 0.015,
    "6": 0.29,
    "7": 0.02,
    "8": 0.07,
    "9": 0.02,
    "10": 0.045,
}


def pick(rng: np.random.Generator, options: tuple, weights: tuple, n: int) -> np.ndarray:
    """n draws from options with the given weights (an object array)."""
    w = np.asarray(weights, dtype=float)
    return np.array(options, dtype=object)[rng.choice(len(options), size=n, p=w / w.sum())]


def lognormal(rng: np.random.Generator, median: np.ndarray, sigma: float) -> np.ndarray:
    """Whole days from a lognormal with the given median(s)."""
    return np.rint(median * np.exp(sigma * rng.standard_normal(np.shape(median)))).astype(np.int64)


def simulate(ctx, kids: dict) -> dict[str, np.ndarray]:
    """Every referral of every child in the chunk, sorted by child and date.

    First referrals start up to BURN_IN_DAYS before the window so that demand is steady across
    it; referrals that ended before the window are dropped, and a child left with none is
    given a fresh first referral inside the window (keeping the child's age at that referral).
    """
    R = keep_in_window(ctx, chains(ctx, kids, np.arange(len(kids["birth"]))))
    missing = np.setdiff1d(np.arange(len(kids["birth"])), R["child"])
    # a falling density, so that these children's later returns do not make demand climb
    tri = 1 - np.sqrt(ctx.rng.random(len(missing)))
    new_first = ctx.start + (tri * (ctx.as_of - ctx.start)).astype(np.int64)
    shift = new_first - kids["first_ref"][missing]
    for key in ("birth", "bday18", "first_ref"):
        kids[key][missing] += shift
    R2 = chains(ctx, kids, missing)
    out = {k: np.concatenate([R[k], R2[k]]) for k in R}
    order = np.lexsort((out["ref"], out["child"]))
    return {k: v[order] for k, v in out.items()}


def keep_in_window(ctx, R: dict) -> dict[str, np.ndarray]:
    """Referrals made in the window, or cases still open when it began."""
    keep = (R["ref"] >= ctx.start) | ((R["path"] != NFA) & (R["closure"] >= ctx.start))
    return {k: v[keep] for k, v in R.items()}


def chains(ctx, kids: dict, idx: np.ndarray) -> dict[str, np.ndarray]:
    """The referral chains of the children idx, from their first referral date."""
    rng = ctx.rng
    batches = []
    date = kids["first_ref"].copy()
    prior_cp = np.zeros(len(date), dtype=bool)  # child has had a CP plan: a repeat plan is likelier
    while len(idx):
        ok = (date[idx] <= ctx.as_of) & (date[idx] <= kids["bday18"][idx] - 180)
        idx = idx[ok]
        if not len(idx):
            break
        b = referral_batch(ctx, kids, idx, date[idx], prior_cp[idx])
        batches.append(b)
        prior_cp[idx[b["cp"]]] = True
        p_quick, p_later = next_referral_chance(b, kids["locality"][idx]), P_LATER
        if ctx.return_boost:  # only when a referral rate was asked for: the default run is untouched
            p_quick, p_later = boosted(p_quick, p_later, ctx.return_boost)
        u = rng.random(len(idx))
        gap = np.where(
            u < p_quick, rng.integers(1, 366, len(idx)), 366 + rng.exponential(420, len(idx)).astype(np.int64)
        )
        back = (b["closure"] <= ctx.as_of) & (u < p_quick + p_later)
        date[idx] = b["closure"] + gap
        idx = idx[back]
    if not batches:
        return referral_batch(ctx, kids, idx, date[idx], prior_cp[idx])  # empty columns
    return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def boosted(p_quick: np.ndarray, p_later: float, boost: float) -> tuple[np.ndarray, np.ndarray | float]:
    """Return chances moved by `boost` in [-1, 1]: towards coming back within a year (boost > 0, at 1 every
    child comes back within 365 days of each closure) or towards never coming back (boost < 0, at -1 never)."""
    if boost >= 0:
        return p_quick + boost * (1 - p_quick), p_later * (1 - boost)
    return p_quick * (1 + boost), p_later * (1 + boost)


def next_referral_chance(b: dict, locality: np.ndarray) -> np.ndarray:
    """Chance of a new referral within 365 days of this one's closure."""
    trad = org.TEAM_TRAD[b["team"]]
    trad = np.where(b["team"] == org.FRONT, locality == 1, trad)
    p = np.where(
        b["path"] == NFA,
        np.where(trad, P_QUICK["nfa", True], P_QUICK["nfa", False]),
        np.where(trad, P_QUICK["case", True], P_QUICK["case", False]),
    )
    return np.where(b["svc"] >= 0, 1 - org.SERVICE_SUCCESS[np.maximum(b["svc"], 0)], p)


def referral_batch(ctx, kids: dict, idx: np.ndarray, ref: np.ndarray, prior_cp: np.ndarray) -> dict[str, np.ndarray]:
    """One referral for each child in idx, dated ref, with everything that followed it."""
    rng, m = ctx.rng, len(idx)
    birth, loc = kids["birth"][idx], kids["locality"][idx]
    path = np.searchsorted(np.cumsum(PATH_P), rng.random(m) * PATH_P.sum())
    path = np.where(prior_cp & (path != NFA) & (rng.random(m) < P_REPEAT_S47), S47, path)
    path = np.where((path == LAC) & (birth > ref - 30), CIN, path)  # unborn babies: plans, not care
    b = {"child": idx, "ref": ref, "path": path}
    b["team"] = choose_team(rng, path, loc, kids["disabled"][idx])
    trad = org.TEAM_TRAD[b["team"]]
    speed = np.where(trad, 1.0, DATA_LED_SPEED)
    assessment(ctx, b, trad)
    section47(ctx, b, trad)
    plans(ctx, b, speed)
    care(ctx, b, speed, birth)
    close(ctx, b, kids["bday18"][idx], birth)
    service(ctx, b, trad, ref - birth)
    b["need"] = np.empty(m, dtype=object)
    for p, w in NEEDS.items():
        sel = path == p
        b["need"][sel] = pick(rng, tuple(f"N{i}" for i in range(10)), w, int(sel.sum()))
    b["need"][(path == NFA) & (rng.random(m) < 0.3)] = None
    b["source"] = pick(rng, tuple(SOURCE_W), tuple(SOURCE_W.values()), m)
    return b


def choose_team(rng: np.random.Generator, path: np.ndarray, loc: np.ndarray, disabled: np.ndarray) -> np.ndarray:
    """The team that holds (or last held) the case, by pathway and the child's locality."""
    u = rng.random(len(path))
    team = np.select(
        [path == NFA, path == ASSESS_ONLY, path == CIN, path == S47],
        [
            np.where(u < 0.35, org.FRONT, org.ASSESS + loc),
            org.ASSESS + loc,
            np.where(disabled & (u < 0.6), org.DISABLED, org.CIN + loc),
            np.where(u < 0.4, org.CP_PA, org.CP_B),
        ],
        org.CIC + loc,
    )
    return team.astype(np.int64)


def assessment(ctx, b: dict, trad: np.ndarray) -> None:
    """Child and family assessment: started within 2 working days, authorised ~85% within 45."""
    rng, cal, m = ctx.rng, ctx.cal, len(b["ref"])
    b["has_assessment"] = b["path"] != NFA
    b["a_start"] = cal.add(b["ref"], rng.integers(0, 3, m))
    wd = np.clip(lognormal(rng, np.where(trad, 31.0, 24.0), 0.42), 2, 110)
    b["a_auth"] = np.maximum(cal.add(b["ref"], wd), b["a_start"])
    b["in_need"] = np.where(b["path"] == ASSESS_ONLY, rng.random(m) < 0.08, True)


def section47(ctx, b: dict, trad: np.ndarray) -> None:
    """S47 enquiries for the S47 pathway; ICPC within 15 working days of the strategy discussion ~80%."""
    rng, cal, m = ctx.rng, ctx.cal, len(b["ref"])
    b["s47"] = b["path"] == S47
    b["strategy"] = cal.add(b["ref"], rng.integers(0, 4, m))
    wd = np.clip(lognormal(rng, np.where(trad, 11.5, 10.0), 0.33), 3, 60)
    b["icpc_held"] = b["s47"] & (rng.random(m) < 0.55)
    b["icpc"] = cal.add(b["strategy"], wd)
    b["cp"] = b["icpc_held"] & (rng.random(m) < 0.9)
    pa = b["team"] == org.CP_PA
    b["cp_cat"] = np.where(pa, pick(rng, *CP_CAT_PA, m), pick(rng, *CP_CAT_B, m))
    b["cp_cat_latest"] = np.where(rng.random(m) < 0.85, b["cp_cat"], "MUL")


def plans(ctx, b: dict, speed: np.ndarray) -> None:
    """CP plans from the ICPC; CIN plans after assessment, or as a step-down when a CP plan ends."""
    rng, m = ctx.rng, len(b["ref"])
    b["cp_start"] = b["icpc"]
    stuck = rng.random(m) < 0.03  # a few plans drift past two years
    b["cp_end"] = b["cp_start"] + 30 + lognormal(rng, 130.0 * speed, 0.6) + stuck * rng.integers(500, 800, m)
    no_cp_cin = (b["path"] == CIN) | ((b["path"] == S47) & ~b["cp"] & (rng.random(m) < 0.7))
    step_down = b["cp"] & (rng.random(m) < 0.55)
    b["cin"] = no_cp_cin | step_down
    fresh_start = b["a_auth"] + rng.integers(0, 11, m)
    b["cin_start"] = np.where(step_down, b["cp_end"], fresh_start)
    median = np.where(step_down, 50.0, 55.0) * speed
    b["cin_end"] = b["cin_start"] + 7 + lognormal(rng, median, 0.7)


def care(ctx, b: dict, speed: np.ndarray, birth: np.ndarray) -> None:
    """The period in care for the looked-after pathway (split into 903 episodes later)."""
    rng, m = ctx.rng, len(b["ref"])
    b["lac"] = b["path"] == LAC
    emergency = rng.random(m) < 0.25
    b["lac_emergency"] = emergency
    b["lac_start"] = np.maximum(
        np.where(emergency, b["ref"] + rng.integers(0, 3, m), b["a_auth"] + rng.integers(0, 30, m)), birth
    )
    b["lac_end"] = b["lac_start"] + 20 + lognormal(rng, 280.0 * (0.5 + speed / 2), 0.9)


def close(ctx, b: dict, bday18: np.ndarray, birth: np.ndarray) -> None:
    """Closure date and reason; plans and care end by the 18th birthday."""
    rng, m, path = ctx.rng, len(b["ref"]), b["path"]
    last = np.select(
        [b["lac"], b["cin"] & b["cp"], b["cin"], b["cp"]],
        [b["lac_end"], np.maximum(b["cin_end"], b["cp_end"]), b["cin_end"], b["cp_end"]],
        b["a_auth"],
    )
    closure = np.where(path == NFA, b["ref"] + (rng.random(m) < 0.2), last + rng.integers(0, 15, m))
    reason = np.full(m, "RC8", dtype=object)
    reason[(path == ASSESS_ONLY) & (rng.random(m) < 0.3)] = "RC9"
    no_plan = (path == S47) & ~b["cp"] & ~b["cin"]
    for p, (codes, w) in REASONS.items():
        sel = (path == p) & ~no_plan
        reason[sel] = pick(rng, codes, w, int(sel.sum()))
    young_at_entry = b["lac_start"] - birth < 5 * 365
    reason[(reason == "RC1") & ~young_at_entry] = "RC7"
    capped = closure > bday18
    closure = np.where(capped, bday18, closure)
    reason[capped] = np.where(b["team"][capped] == org.DISABLED, "RC6", "RC7")
    for col in ("cp_end", "cin_end", "lac_end"):
        b[col] = np.minimum(b[col], closure)
    b["cp"] &= b["cp_start"] < closure
    b["cin"] &= b["cin_start"] < closure
    b["lac"] &= b["lac_start"] < closure
    b["closure"], b["reason"] = closure, reason
    b["team"] = np.where((reason == "RC9") & (rng.random(m) < 0.4), org.EARLY, b["team"])
    leaving = b["lac"] & (bday18 - np.minimum(closure, ctx.as_of) < 2 * 365) & (rng.random(m) < 0.7)
    b["team"] = np.where(leaving, org.LEAVING, b["team"])


def service(ctx, b: dict, trad: np.ndarray, age_days: np.ndarray) -> None:
    """A commissioned service for some cases with a plan or care period (fewer in data-led teams)."""
    rng, m = ctx.rng, len(b["ref"])
    case_start = np.select([b["lac"], b["cp"], b["cin"]], [b["lac_start"], b["cp_start"], b["cin_start"]], b["a_auth"])
    eligible = (b["lac"] | b["cp"] | b["cin"]) & (case_start < b["closure"])
    use = eligible & (rng.random(m) < np.where(trad, 0.30, 0.20))
    weights = np.where(
        (age_days < 730)[:, None],
        [2, 0, 0, 3, 2, 1.5, 1, 0, 3, 2],
        np.where(
            (age_days < 11 * 365)[:, None], [3, 0, 0, 3, 3, 2, 1.2, 0, 0, 1], [2, 2.5, 2, 2, 0.5, 1.2, 1, 2, 0, 0.3]
        ),
    )
    cum = np.cumsum(weights, axis=1)
    svc = (rng.random(m)[:, None] * cum[:, -1:] > cum).sum(axis=1)
    span = np.maximum(np.minimum(b["closure"], ctx.as_of) - case_start, 1)
    start = case_start + (rng.random(m) * np.minimum(span, 120)).astype(np.int64)
    lo, hi = org.SERVICE_DAYS[svc, 0], org.SERVICE_DAYS[svc, 1]
    end = start + lo + (rng.random(m) * (hi - lo)).astype(np.int64)
    cut = end > b["closure"]
    end = np.minimum(end, b["closure"])
    exit_reason = pick(rng, ("completed", "disengaged", "other"), (0.72, 0.2, 0.08), m)
    exit_reason = np.where(cut & (exit_reason == "completed"), "other", exit_reason)
    b["svc"] = np.where(use & (start <= ctx.as_of) & (start <= end), svc, -1)
    b["svc_start"], b["svc_end"], b["svc_exit"] = start, end, exit_reason
