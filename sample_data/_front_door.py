"""The front door (format 1.1): contacts, and early help episodes.

Every referral came in as a contact a few days before it (same child, same source, outcome
`referral`). Other contacts went no further: no further action, advice, early help, or no outcome
recorded. How many there are is set per referral source by the share of its contacts that become a
referral: CONVERSION for every source but the police, POLICE_CONVERSION (half of it) for the police,
whose notifications mostly end in no further action or advice. That is the planted pattern for the
front door; overall it gives about 2.7 contacts per referral (England's ratio, about 4, is too many
for the sample's size). A contact that went no further is never dated within CONTACT_WINDOW_DAYS
before one of the child's referrals, so "became a referral" (a referral of the child on the contact
date or up to 30 days after) gives exactly the generating shares.

Early help episodes follow most contacts passed to early help (ending early, "Stepped up to social
care", if the child is referred meanwhile), and precede most referrals whose source is early help
(5D) and a few others.
"""

from __future__ import annotations

import numpy as np

from sample_data import _org as org
from sample_data._calendar import NEVER
from sample_data._casework import lognormal, pick

POLICE = "6"
CONVERSION = 0.48  # share of a source's contacts that become a referral (every source but the police)
POLICE_CONVERSION = CONVERSION / 2
CONTACT_WINDOW_DAYS = 30  # the query's default setting contact_referral_days
LAG_DAYS = (0, 1, 2, 3, 4, 5, 6, 7)  # contact date before its referral
LAG_P = (0.35, 0.4, 0.1, 0.05, 0.04, 0.03, 0.02, 0.01)
# Recorded outcomes of contacts that went no further (None: not recorded).
OUTCOMES_POLICE = (("no_further_action", "advice", "early_help", "other", None), (0.55, 0.3, 0.08, 0.02, 0.05))
OUTCOMES_OTHER = (("no_further_action", "advice", "early_help", "other", None), (0.35, 0.33, 0.22, 0.05, 0.05))
REFERRAL_OUTCOME_MISSING = 0.02  # contacts that became a referral with no outcome recorded
TEAM_MISSING = 0.03  # contacts with no team recorded
EXTRA_SPREAD_DAYS = 240  # mean distance (beyond CONTACT_WINDOW_DAYS) of other contacts from the child's referral
EARLIEST_BEFORE_BIRTH = 250  # days: contacts about unborn babies
EH_FROM_CONTACT = 0.75  # contacts passed to early help that start an episode
EH_BEFORE_REFERRAL = {"5D": 0.85}  # referrals from early help preceded by an episode; others EH_BEFORE_OTHER
EH_BEFORE_OTHER = 0.04
EH_REASONS = (
    ("Parenting support", "School attendance", "Family relationships", "Domestic abuse", "Emotional wellbeing",
     "Housing or money worries", "Behaviour"),
    (0.25, 0.15, 0.15, 0.12, 0.13, 0.1, 0.1),
)  # fmt: skip
EH_ENDINGS = (
    ("Needs met", "Family disengaged", "Moved away", "Stepped down to universal services"),
    (0.62, 0.18, 0.05, 0.15),
)
STEPPED_UP = "Stepped up to social care"
_SHIFT = np.int64(2**22)  # child * _SHIFT + day: one sortable key (day numbers stay far below it)


def next_referral(R: dict, child: np.ndarray, day: np.ndarray) -> np.ndarray:
    """The date of each child's first referral on or after `day` (NEVER if none); R is sorted by child and date."""
    keys = R["child"] * _SHIFT + R["ref"]
    at = np.searchsorted(keys, np.asarray(child, np.int64) * _SHIFT + day, side="left")
    inside = np.minimum(at, max(len(keys) - 1, 0))
    found = (at < len(keys)) & (R["child"][inside] == child) if len(keys) else np.zeros(len(at), bool)
    return np.where(found, R["ref"][inside] if len(keys) else NEVER, NEVER)


def conversion(source: np.ndarray) -> np.ndarray:
    """The generating share of contacts that become a referral, by source."""
    return np.where(source == POLICE, POLICE_CONVERSION, CONVERSION)


def contacts(ctx, kids: dict, R: dict) -> dict[str, np.ndarray]:
    """Every contact: one before each referral, and those that went no further (see the module's notes)."""
    rng, m = ctx.rng, len(R["ref"])
    lag = np.asarray(LAG_DAYS)[rng.choice(len(LAG_DAYS), size=m, p=LAG_P)]
    outcome = np.where(rng.random(m) < REFERRAL_OUTCOME_MISSING, None, "referral").astype(object)
    led = {"child": R["child"], "date": R["ref"] - lag, "source": R["source"], "outcome": outcome}
    extra = no_further(ctx, kids, R)
    out = {k: np.concatenate([led[k], extra[k]]) for k in led}
    n = len(out["child"])
    area = kids["area"][out["child"]]
    out["team"] = np.where(rng.random(n) < TEAM_MISSING, -1, area * org.N_TEAMS + org.FRONT)
    order = np.lexsort((out["child"], out["date"]))
    return {k: v[order] for k, v in out.items()}


def no_further(ctx, kids: dict, R: dict) -> dict[str, np.ndarray]:
    """Contacts that did not become a referral: for each source, enough to give it its generating conversion.

    Each is about the child of a random referral, dated a month or more (typically months) before or after
    it: families known to services come back to the front door. Dates are kept inside the extract's window
    and the child's childhood (reflected at its ends); never within CONTACT_WINDOW_DAYS before a referral of the child. Candidates are drawn with
    room to spare, and the first valid ones of each source kept.
    """
    rng, m = ctx.rng, len(R["ref"])
    sources, led = np.unique(R["source"].astype(str), return_counts=True)
    p = conversion(sources)
    wanted = np.rint(led * (1 - p) / p).astype(np.int64)
    draws = np.ceil(wanted * 1.5).astype(np.int64) + 5
    source = np.repeat(sources, draws).astype(object)
    k = len(source)
    if m == 0 or k == 0:
        return {
            "child": np.zeros(0, np.int64),
            "date": np.zeros(0, np.int64),
            "source": source[:0],
            "outcome": source[:0],
        }
    anchor = rng.integers(0, m, k)
    child = R["child"][anchor]
    away = CONTACT_WINDOW_DAYS + 1 + rng.exponential(EXTRA_SPREAD_DAYS, k).astype(np.int64)
    date = R["ref"][anchor] + np.where(rng.random(k) < 0.5, -away, away)
    lower = np.maximum(ctx.start, kids["birth"][child] - EARLIEST_BEFORE_BIRTH)
    upper = np.minimum(ctx.as_of, kids["bday18"][child] - 1)
    # Reflected at the window's ends, so contacts are as common near as_of as in the middle of the window.
    date = np.where(date > upper, 2 * upper - date, date)
    date = np.where(date < lower, 2 * lower - date, date)
    outside = (date < lower) | (date > upper)
    date = np.where(outside, lower + (rng.random(k) * (upper - lower + 1)).astype(np.int64), date)
    valid = (lower <= upper) & (next_referral(R, child, date) - date > CONTACT_WINDOW_DAYS)
    rank = valid_rank(valid, draws)
    keep = valid & (rank <= np.repeat(wanted, draws))
    police = source[keep] == POLICE
    n = int(keep.sum())
    outcome = np.where(police, pick(rng, *OUTCOMES_POLICE, n), pick(rng, *OUTCOMES_OTHER, n))
    return {"child": child[keep], "date": date[keep], "source": source[keep], "outcome": outcome}


def valid_rank(valid: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Within consecutive groups of the given sizes: how many valid items up to and including each one."""
    total = np.cumsum(valid)
    before = np.repeat(total[np.cumsum(sizes) - sizes] - valid[np.cumsum(sizes) - sizes], sizes)
    return total - before


def previous(values: np.ndarray, fill) -> np.ndarray:
    """Each element's predecessor (`fill` for the first)."""
    return np.concatenate([np.asarray([fill], dtype=values.dtype), values[:-1]])[: len(values)]


def early_help(ctx, kids: dict, R: dict, contact: dict) -> dict[str, np.ndarray]:
    """Early help episodes after contacts passed to early help, and before some referrals (stepped up)."""
    rng = ctx.rng
    after = after_contacts(ctx, kids, R, contact)
    before = before_referrals(ctx, kids, R)
    out = {k: np.concatenate([after[k], before[k]]) for k in after}
    order = np.lexsort((out["start"], out["child"]))
    out = {k: v[order] for k, v in out.items()}
    same = out["child"] == previous(out["child"], -1)
    overlaps = same & (out["start"] <= previous(out["end"], 0))  # keep the earlier of two overlapping episodes
    out = {k: v[~overlaps] for k, v in out.items()}
    n = len(out["child"])
    out["reason"] = np.where(rng.random(n) < 0.05, None, pick(rng, *EH_REASONS, n)).astype(object)
    out["outcome"] = np.where(out["end"] > ctx.as_of, None, out["outcome"]).astype(object)
    order = np.lexsort((out["child"], out["start"]))
    return {k: v[order] for k, v in out.items()}


def after_contacts(ctx, kids: dict, R: dict, contact: dict) -> dict[str, np.ndarray]:
    """An episode for most contacts passed to early help, ending early if the child is referred meanwhile."""
    rng = ctx.rng
    row = np.flatnonzero((contact["outcome"] == "early_help") & (rng.random(len(contact["child"])) < EH_FROM_CONTACT))
    child = contact["child"][row]
    start = contact["date"][row] + rng.integers(1, 22, len(row))
    end = start + 14 + lognormal(rng, np.full(len(row), 100.0), 0.5)
    end = np.minimum(end, kids["bday18"][child] - 1)
    referred = next_referral(R, child, start)
    stepped_up = referred <= end
    end = np.where(stepped_up, referred, end)
    outcome = np.where(stepped_up, STEPPED_UP, pick(rng, *EH_ENDINGS, len(row))).astype(object)
    keep = (start <= ctx.as_of) & (start < end)
    return {"child": child[keep], "start": start[keep], "end": end[keep], "outcome": outcome[keep]}


def before_referrals(ctx, kids: dict, R: dict) -> dict[str, np.ndarray]:
    """Episodes that ended in a referral: most referrals from early help (5D) and a few others."""
    rng, m = ctx.rng, len(R["ref"])
    chance = np.full(m, EH_BEFORE_OTHER)
    for source, p in EH_BEFORE_REFERRAL.items():
        chance[R["source"] == source] = p
    row = np.flatnonzero(rng.random(m) < chance)
    child, ref = R["child"][row], R["ref"][row]
    end = ref - rng.integers(0, 8, len(row))
    start = np.maximum(end - rng.integers(40, 301, len(row)), kids["birth"][child] - 200)
    keep = start < end
    outcome = np.full(int(keep.sum()), STEPPED_UP, dtype=object)
    return {"child": child[keep], "start": start[keep], "end": end[keep], "outcome": outcome}
