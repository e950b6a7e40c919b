"""Looked-after children's other returns (format 1.1): CLA reviews, missing episodes, care leavers, UASC.

Built from the periods in care (per referral) and their SSDA903 episodes, with the chunk's format-1.1
random stream, so the format-1 tables are unchanged:

- CLA reviews: the first within 20 working days of entering care, the second within 3 months of
  it, then every 6 months while the child stays in care; each interval late with chance
  REVIEW_LATE (more in traditional teams, as for CP reviews). Participation PN0 under 4.
- Missing episodes: mostly adolescents in children's homes and semi-independent placements.
- Care leavers: an OC3-like row around each 17th to 21st birthday of a young person who left care at
  16 or over (in touch, main activity, accommodation and whether it is suitable).
- UASC: one in eight (at least one) of the children who entered care aged 14 to 17; the status ends at 18.
"""

from __future__ import annotations

import numpy as np

from sample_data import _org as org
from sample_data._calendar import add_years, age_years
from sample_data._casework import pick
from sample_data._front_door import previous
from sample_data._records import CHILDRENS_HOME, SEMI_INDEPENDENT, groups, segment_cumsum

REVIEW_LATE = {False: 0.06, True: 0.14}  # chance an interval runs late, by "is the team traditional?"
PARTICIPATION = (("PN1", "PN2", "PN3", "PN4", "PN5", "PN6", "PN7"), (0.58, 0.08, 0.05, 0.05, 0.08, 0.11, 0.05))
RESIDENTIAL = (CHILDRENS_HOME, SEMI_INDEPENDENT)
# Chance that a 903 episode has any missing episode, and the mean days in placement per further one.
MISSING_ANY = {"residential_teen": 0.6, "teen": 0.15, "child": 0.01}
MISSING_EVERY = {"residential_teen": 45.0, "teen": 150.0, "child": 365.0}
MISSING_DAYS = ((0, 1, 2, 3, 5, 9), (0.4, 0.33, 0.12, 0.08, 0.05, 0.02))
IN_TOUCH = (("YES", "NO", "REFU", "NREQ", "RHOM"), (0.86, 0.06, 0.03, 0.03, 0.02))
ACTIVITY = (
    ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6"),
    (0.07, 0.01, 0.22, 0.04, 0.14, 0.08, 0.05, 0.01, 0.08, 0.25, 0.05),
)
ACTIVITY_AT_17 = (("F2", "P2", "F5", "F4", "G4", "G5"), (0.55, 0.05, 0.08, 0.05, 0.05, 0.22))
ACCOMMODATION = (
    ("U", "D", "Z", "E", "B", "T", "C", "K", "S", "V", "W", "X", "R", "Y"),
    (0.3, 0.2, 0.08, 0.08, 0.12, 0.05, 0.03, 0.03, 0.01, 0.01, 0.01, 0.02, 0.02, 0.04),
)
UNSUITABLE = {"S": 0.95, "V": 0.8, "W": 0.9, "X": 0.9}  # chance the accommodation is not suitable; else 0.05
UASC_SHARE = 0.12


def cla_reviews(ctx, R: dict, birth: np.ndarray) -> dict[str, np.ndarray]:
    """Looked-after reviews of each period in care, up to its end or as_of."""
    rng, cal = ctx.rng, ctx.cal
    row = np.flatnonzero(R["lac"] & (R["lac_start"] <= ctx.as_of))
    start, last = R["lac_start"][row], np.minimum(R["lac_end"][row], ctx.as_of)
    late_p = np.where(org.TEAM_TRAD[R["team"][row]], REVIEW_LATE[True], REVIEW_LATE[False])
    first_late = rng.random(len(row)) < late_p
    first = cal.add(start, np.where(first_late, rng.integers(21, 36, len(row)), rng.integers(8, 21, len(row))))
    n_max = np.maximum((last - first) // 90 + 2, 1)
    grp, pos = groups(n_max)
    m = len(grp)
    late = rng.random(m) < late_p[grp]
    second = np.where(late, rng.integers(95, 131, m), rng.integers(56, 92, m))
    later = np.where(late, rng.integers(186, 231, m), rng.integers(150, 183, m))
    gap = np.select([pos == 0, pos == 1], [0, second], later)
    at = first[grp] + segment_cumsum(gap, n_max)
    keep = at <= last[grp]
    grp, at = grp[keep], at[keep]
    child = R["child"][row][grp]
    under_four = age_years(birth[child], at) < 4
    participation = np.where(under_four, "PN0", pick(rng, *PARTICIPATION, len(at))).astype(object)
    participation[rng.random(len(at)) < 0.03] = None
    return {"child": child, "date": at, "participation": participation}


def missing_episodes(ctx, episodes: dict, R: dict, birth: np.ndarray) -> dict[str, np.ndarray]:
    """Times a looked-after child went missing (M) or was away without authorisation (A), by placement and age."""
    rng = ctx.rng
    child = R["child"][episodes["row"]]
    start, end = episodes["start"], np.minimum(episodes["end"], ctx.as_of)
    teen = age_years(birth[child], start) >= 12
    kind = np.where(teen & np.isin(episodes["place"], RESIDENTIAL), "residential_teen", np.where(teen, "teen", "child"))
    any_p = np.select([kind == k for k in MISSING_ANY], list(MISSING_ANY.values()))
    every = np.select([kind == k for k in MISSING_EVERY], list(MISSING_EVERY.values()))
    span = np.maximum(end - start, 0)
    n = (rng.random(len(child)) < any_p) * np.minimum(1 + rng.poisson(span / every), 25)
    grp, _ = groups(n)
    k = len(grp)
    went = start[grp] + (rng.random(k) * (span[grp] + 1)).astype(np.int64)
    back = went + np.asarray(MISSING_DAYS[0])[rng.choice(len(MISSING_DAYS[0]), size=k, p=MISSING_DAYS[1])]
    who = child[grp]
    order = np.lexsort((went, who))
    who, went, back = who[order], went[order], back[order]
    first_of_day = (who != previous(who, -1)) | (went != previous(went, -1))
    who, went, back = who[first_of_day], went[first_of_day], back[first_of_day]
    following = np.concatenate([went[1:], [np.iinfo(np.int64).max]])[: len(went)]
    same_child_next = np.concatenate([who[1:] == who[:-1], [False]])[: len(who)]
    back = np.where(same_child_next, np.minimum(back, following), back)  # back before (or as) the next one starts
    k = len(who)
    kind_type = np.where(rng.random(k) < 0.75, "M", "A").astype(object)
    offered = np.where(rng.random(k) < 0.75, True, False).astype(object)
    offered[rng.random(k) < np.where(kind_type == "A", 0.5, 0.1)] = None
    return {"child": who, "start": went, "end": back, "type": kind_type, "offered": offered}


def care_leavers(ctx, R: dict, birth: np.ndarray) -> dict[str, np.ndarray]:
    """OC3-like rows around the 17th to 21st birthdays of young people who left care aged 16 or over."""
    rng = ctx.rng
    row = np.flatnonzero(R["lac"] & (R["lac_end"] <= ctx.as_of))
    child, left = R["child"][row], R["lac_end"][row]
    care_rows = np.flatnonzero(R["lac"] & (R["lac_start"] <= ctx.as_of))
    last_start = np.full(len(birth), -1)
    np.maximum.at(last_start, R["child"][care_rows], R["lac_start"][care_rows])
    later_care = last_start[child] > left  # back in care later: not a care leaver of this period
    row_ok = (age_years(birth[child], left) >= 16) & ~later_care
    child, left = child[row_ok], left[row_ok]
    parts = {"child": [], "date": []}
    for age in range(17, 22):
        birthday = add_years(birth[child], age)
        date = birthday + rng.integers(-20, 61, len(child))
        keep = (date >= left) & (date >= ctx.start) & (date <= ctx.as_of)
        parts["child"].append(child[keep])
        parts["date"].append(date[keep])
    who, date = np.concatenate(parts["child"]), np.concatenate(parts["date"])
    n = len(who)
    at_17 = age_years(birth[who], date) < 18
    in_touch = pick(rng, *IN_TOUCH, n)
    touching = in_touch == "YES"
    activity = np.where(at_17, pick(rng, *ACTIVITY_AT_17, n), pick(rng, *ACTIVITY, n))
    place = pick(rng, *ACCOMMODATION, n)
    place = np.where(at_17 & (place == "Z"), "D", place)  # staying put begins at 18
    unsuitable = rng.random(n) < np.select([place == p for p in UNSUITABLE], list(UNSUITABLE.values()), 0.05)
    suitable = np.where(place == "R", None, ~unsuitable).astype(object)
    order = np.lexsort((date, who))
    return {
        "child": who[order],
        "date": date[order],
        "in_touch": in_touch[order],
        "activity": np.where(touching, activity, None)[order],
        "accommodation": np.where(touching, place, None)[order],
        "suitable": np.where(touching, suitable, None)[order],
    }


def uasc(ctx, R: dict, kids: dict) -> dict[str, np.ndarray]:
    """A few unaccompanied asylum-seeking children among those who entered care aged 14 to 17."""
    rng = ctx.rng
    care = np.flatnonzero(R["lac"] & (R["lac_start"] <= ctx.as_of))
    first = np.full(len(kids["birth"]), np.iinfo(np.int64).max)
    np.minimum.at(first, R["child"][care], R["lac_start"][care])
    child = np.flatnonzero(first < np.iinfo(np.int64).max)
    age = age_years(kids["birth"][child], first[child])
    eligible = child[age >= 14]
    wanted = max(round(UASC_SHARE * len(eligible)), 1) if len(eligible) else 0  # at least one where any could be
    child = np.sort(eligible[rng.permutation(len(eligible))[:wanted]])
    eighteen = kids["bday18"][child]
    early = rng.random(len(child)) < 0.1  # status ended before 18 (leave to remain granted, age reassessed)
    span = np.maximum(np.minimum(eighteen, ctx.as_of) - first[child], 1)
    ceased = np.where(early, first[child] + (rng.random(len(child)) * span).astype(np.int64), eighteen)
    return {"child": child, "ceased": ceased}
