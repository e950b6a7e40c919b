"""Children and young people: demographics, school records and NEET status at 16-18.

Children come in families (siblings share a family_id, ethnicity, locality and the date of
their first referral). School traits are fixed per child (free school meals, SEN, EAL, a
typical attendance and suspension rate) and vary a little year to year. NEET status is drawn
from a known logistic model (see NEET_MODEL) so the NEET page has a true answer to find.
"""

from __future__ import annotations

import numpy as np

from sample_data import _casework as cw
from sample_data._calendar import add_years, age_years
from sample_data._casework import pick
from schemas.codes import codes

ETHNICITY_W = {
    "WBRI": 0.655,
    "WIRI": 0.003,
    "WIRT": 0.002,
    "WOTH": 0.04,
    "WROM": 0.005,
    "MWBC": 0.03,
    "MWBA": 0.012,
    "MWAS": 0.015,
    "MOTH": 0.02,
    "AIND": 0.02,
    "APKN": 0.03,
    "ABAN": 0.01,
    "AOTH": 0.015,
    "BCRB": 0.01,
    "BAFR": 0.035,
    "BOTH": 0.01,
    "CHNE": 0.003,
    "OOTH": 0.02,
    "REFU": 0.01,
    "NOBT": 0.02,
}
WHITE_BRITISH_OR_IRISH = ("WBRI", "WIRI")
# NEET at 16-18: logit = intercept + sum(coef * feature); eal and young_carer deliberately absent.
NEET_MODEL = {
    "intercept": -3.3,
    "attendance_below_85": 1.6,  # child's typical attendance < 85%
    "attendance_85_to_90": 0.8,  # 85% <= typical attendance < 90%
    "suspensions_per_year": 0.45,  # expected suspensions per school year (capped at 4)
    "looked_after": 1.1,  # in care at any time on or before the recorded date
    "fsm": 0.7,  # eligible for free school meals
}
NEET_DATES = ("2022-01-31", "2023-01-31", "2024-01-31", "2025-01-31", "2026-01-31")


def children(ctx, n: int, first_global: int, area: np.ndarray) -> dict[str, np.ndarray]:
    """Demographics and first referral date of n children numbered from first_global."""
    rng = ctx.rng
    sizes = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.5, 0.27, 0.14, 0.06, 0.03])
    family = np.repeat(np.arange(n), sizes)[:n]
    first_of_family = np.searchsorted(family, np.arange(family[-1] + 1)) if n else np.array([], int)
    fam_date = rng.integers(ctx.start - cw.BURN_IN_DAYS, ctx.as_of + 1, len(first_of_family))
    first_ref = fam_date[family]
    u = rng.random(n)
    age_days = np.where(
        u < 0.13,
        rng.integers(0, 365, n),
        np.where(u < 0.58, rng.integers(365, 11 * 365, n), rng.integers(11 * 365, 6209, n)),
    )
    unborn = rng.random(n) < 0.03
    birth = np.where(unborn, first_ref + rng.integers(30, 260, n), first_ref - age_days)
    eth_codes = codes("ethnicity")
    assert set(ETHNICITY_W) <= set(eth_codes)
    ethnicity = pick(rng, tuple(ETHNICITY_W), tuple(ETHNICITY_W.values()), len(first_of_family))[family]
    ethnicity[rng.random(n) < 0.01] = None
    sex = pick(rng, ("M", "F", "U"), (0.512, 0.485, 0.003), n)
    sex[birth > ctx.as_of] = "U"
    disability = rng.random(n) < 0.085
    return {
        "global": first_global + np.arange(n),
        "family": first_global + first_of_family[family],
        "area": area,
        "locality": (rng.random(len(first_of_family)) < 0.5).astype(np.int64)[family],
        "birth": birth,
        "bday18": add_years(birth, 18),
        "first_ref": first_ref,
        "sex": sex,
        "ethnicity": ethnicity,
        "disabled": disability,
        "disability_known": rng.random(n) >= 0.03,
    }


def school_traits(ctx, kids: dict) -> dict[str, np.ndarray]:
    """Per-child school traits that persist across academic years."""
    rng, n = ctx.rng, len(kids["birth"])
    eth = kids["ethnicity"]
    not_wb = ~np.isin(eth.astype(str), [*WHITE_BRITISH_OR_IRISH, "None"])  # None (not known) counts as white British
    sen = pick(rng, tuple(codes("sen")), (0.58, 0.28, 0.14), n)
    sen[kids["disabled"] & (rng.random(n) < 0.55)] = "ehcp"
    return {
        "fsm": rng.random(n) < 0.46,
        "sen": sen,
        "eal": rng.random(n) < np.where(not_wb, 0.4, 0.03),
        "young_carer": rng.random(n) < 0.07,
        "attendance": 100 - rng.gamma(1.6, 6.8, n),
        "suspension_rate": np.where(rng.random(n) < 0.22, rng.gamma(1.2, 1.2, n), 0.0),
        "ap": rng.random(n) < 0.06,
        "yot": rng.random(n) < 0.05,
        "young_parent": rng.random(n) < 0.03,
    }


def education(ctx, kids: dict, traits: dict, years: range) -> dict[str, np.ndarray]:
    """One row per child and academic year for children of school age (reception to year 13)."""
    rng = ctx.rng
    n = len(kids["birth"])
    rows_child, rows_year, rows_age = [], [], []
    for y in years:
        aug31 = np.full(n, np.datetime64(f"{y}-08-31", "D").astype(np.int64))
        age = age_years(kids["birth"], aug31)
        sel = np.flatnonzero((age >= 4) & (age <= 17) & (kids["birth"] <= aug31))
        rows_child.append(sel)
        rows_year.append(np.full(len(sel), y))
        rows_age.append(age[sel])
    child = np.concatenate(rows_child)
    order = np.lexsort((np.concatenate(rows_year), child))
    child, year, age = child[order], np.concatenate(rows_year)[order], np.concatenate(rows_age)[order]
    m = len(child)
    secondary = age >= 11
    att = np.clip(traits["attendance"][child] + rng.normal(0, 3.5, m), 0, 100).round(1)
    susp = rng.poisson(traits["suspension_rate"][child] * np.where(secondary, 1.0, 0.25))
    perm = secondary & (rng.random(m) < 0.002 + 0.015 * (susp >= 3))
    return {
        "child": child,
        "academic_year": year,
        "attendance_pct": np.where(rng.random(m) < 0.02, np.nan, att),
        "suspensions": susp,
        "permanent_exclusion": perm,
        "sen": traits["sen"][child],
        "fsm": traits["fsm"][child],
        "eal": traits["eal"][child],
        "alternative_provision": (traits["ap"][child] & secondary) | perm,
        "young_carer": traits["young_carer"][child] & (age >= 8),
        "young_parent": traits["young_parent"][child] & (age >= 15),
        "yot": traits["yot"][child] & (age >= 10),
    }


def neet_probability(traits: dict, child: np.ndarray, looked_after: np.ndarray) -> np.ndarray:
    """The true NEET probability of NEET_MODEL for each (child, looked-after-yet) row."""
    att = traits["attendance"][child]
    c = NEET_MODEL
    logit = (
        c["intercept"]
        + c["attendance_below_85"] * (att < 85)
        + c["attendance_85_to_90"] * ((att >= 85) & (att < 90))
        + c["suspensions_per_year"] * np.minimum(traits["suspension_rate"][child], 4)
        + c["looked_after"] * looked_after
        + c["fsm"] * traits["fsm"][child]
    )
    return 1 / (1 + np.exp(-logit))


def neet(ctx, kids: dict, traits: dict, first_care: np.ndarray) -> dict[str, np.ndarray]:
    """Annual NEET/EET status for young people aged 16-18 on each recorded date up to as_of."""
    rng = ctx.rng
    n = len(kids["birth"])
    out_child, out_date = [], []
    for iso in NEET_DATES:
        d = int(np.datetime64(iso, "D").astype(np.int64))
        if d > ctx.as_of:
            continue
        age = age_years(kids["birth"], np.full(n, d))
        sel = np.flatnonzero((age >= 16) & (age <= 18))
        out_child.append(sel)
        out_date.append(np.full(len(sel), d))
    child, date = np.concatenate(out_child), np.concatenate(out_date)
    order = np.lexsort((date, child))
    child, date = child[order], date[order]
    p = neet_probability(traits, child, first_care[child] <= date)
    status = np.where(rng.random(len(child)) < p, "NEET", "EET").astype(object)
    status[rng.random(len(child)) < 0.06] = "unknown"
    return {"child": child, "recorded_date": date, "status": status}
