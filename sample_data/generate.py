"""Generate a synthetic format-1.1 extract: `python -m sample_data.generate --out DIR`.

Children are generated in chunks of whole "areas" (12,000 children, 12 teams each), so memory
stays bounded at national scale: with more than one chunk the big tables are written as folders
of part files (`DIR/referrals/part-0000.parquet`), small tables as single files. The same seed and
number of children always give byte-identical files. `--children 12000` with the default seed is
the shipped sample in this folder (see README.md for what it contains and the planted patterns).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from sample_data import _casework as cw
from sample_data import _org as org
from sample_data import _people as people
from sample_data import _tables as tb
from sample_data._calendar import WorkingDays, day
from sample_data._output import BIG_TABLES, clear_table, str_ids, write_manifest, write_table
from schemas.contract import CONTRACT_VERSION, TABLES

AS_OF = dt.date(2026, 3, 31)
START = dt.date(2021, 4, 1)  # five years of referrals to as_of
AREA_SIZE = 12_000
CHUNK_AREAS = 16  # 192,000 children per chunk
DEFAULT_SEED = 20260331
SHIPPED_CHILDREN = 12_000
PILOT_CHILDREN = 48_000  # children simulated to find the return boost for --referrals-per-child
PILOT_STREAM = 2**31 - 1  # the pilot's random stream: never a chunk number
# The format-1.1 tables (contacts, early help, CLA reviews, missing, care leavers, UASC) draw from a stream of
# their own, [seed, chunk, LATER_STREAM], so adding them left every format-1 table byte-for-byte the same.
LATER_STREAM = 1101


class ReferralRateError(ValueError):
    """A --referrals-per-child the generator cannot reach."""


@dataclass
class Ctx:
    """What every generator step needs: the chunk's random generator, the calendar and the window."""

    rng: np.random.Generator
    cal: WorkingDays
    start: int
    as_of: int
    return_boost: float = 0.0  # 0 = the natural referral rate; see _casework.boosted and referral_boost


def simulate_chunk(ctx: Ctx, first: int, n: int, area_size: int) -> dict:
    """Children, their referrals and the chunk's workforce, as arrays."""
    first_area = first // area_size
    area = (first + np.arange(n)) // area_size - first_area
    n_area = int(area.max()) + 1
    kids = people.children(ctx, n, first, area)
    R = cw.simulate(ctx, kids)
    R["team_local"] = kids["area"][R["child"]] * org.N_TEAMS + R["team"]
    open_ = (R["path"] != cw.NFA) & (R["closure"] > ctx.as_of)
    open_by_team = np.bincount(R["team_local"][open_], minlength=n_area * org.N_TEAMS)
    years = (ctx.as_of - ctx.start) / 365.25
    refs_per_year = np.bincount(kids["area"][R["child"]], minlength=n_area) / years
    slots = org.build_slots(ctx.rng, open_by_team, refs_per_year, ctx.start, ctx.as_of)
    workers = org.worker_rows(ctx.rng, slots)
    R["slot"] = org.allocate(ctx.rng, slots, R["team_local"])
    R["worker"] = org.worker_at(slots, workers, R["slot"], np.minimum(R["closure"], ctx.as_of))
    return {"kids": kids, "R": R, "slots": slots, "workers": workers, "n_area": n_area}


def chunk_frames(
    ctx: Ctx, first: int, n: int, area_size: int, multi: bool, counters: tb.Counters, later_rng: np.random.Generator
) -> dict:
    """Every table's rows for one chunk of children; the format-1.1 tables from `later_rng`."""
    sim = simulate_chunk(ctx, first, n, area_size)
    first_area = first // area_size
    team_ids, worker_ids = tb.team_and_worker_ids(sim, first_area, multi)
    ids = {"child": str_ids("C", sim["kids"]["global"] + 1, 7), "team": team_ids, "worker": worker_ids}
    frames = tb.people_frames(ctx, sim, ids)
    frames |= tb.referral_frames(ctx, sim, ids, counters)
    frames |= tb.plan_frames(ctx, sim, ids, counters)
    frames |= tb.activity_frames(ctx, sim, ids, counters)
    frames |= tb.staff_frames(ctx, sim, ids, first_area, multi)
    later = replace(ctx, rng=later_rng)
    frames |= tb.front_door_frames(later, sim, ids, counters)
    frames |= tb.care_return_frames(later, sim, ids)
    return frames


def pilot_rate(seed: int, cal: WorkingDays, boost: float) -> float:
    """Referrals per child in a pilot simulation (referral chains only) with the given return boost."""
    ctx = Ctx(np.random.default_rng([seed, PILOT_STREAM]), cal, day(START), day(AS_OF), boost)
    kids = people.children(ctx, PILOT_CHILDREN, 0, np.zeros(PILOT_CHILDREN, dtype=np.int64))
    return len(cw.simulate(ctx, kids)["ref"]) / PILOT_CHILDREN


def referral_boost(referrals_per_child: float, seed: int, cal: WorkingDays) -> float:
    """The return boost (see _casework.boosted) giving about `referrals_per_child` referrals per child over the
    extract, found by bisection on a pilot of PILOT_CHILDREN children (the same seed gives the same boost)."""
    lo, hi = -1.0, 1.0
    low, high = pilot_rate(seed, cal, lo), pilot_rate(seed, cal, hi)
    if not low <= referrals_per_child <= high:
        raise ReferralRateError(f"--referrals-per-child must be between {low:.2f} and {high:.2f} for this generator")
    while hi - lo > 1e-3:
        mid = (lo + hi) / 2
        if pilot_rate(seed, cal, mid) < referrals_per_child:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def generate(
    out: Path,
    children: int = SHIPPED_CHILDREN,
    seed: int = DEFAULT_SEED,
    chunk_areas: int = CHUNK_AREAS,
    area_size: int = AREA_SIZE,
    referrals_per_child: float | None = None,
) -> dict:
    """Write a whole extract to `out`; returns the manifest. Only table files and manifest.json are touched.

    area_size children share one set of 12 teams; chunk_areas areas are generated at a time.
    referrals_per_child (None: the natural rate, about 1.6 over the five years) raises or lowers the chance
    that a child is referred again after each closure until the extract has about that many referrals per child.
    """
    cal, as_of = WorkingDays(), day(AS_OF)
    boost = 0.0 if referrals_per_child is None else referral_boost(referrals_per_child, seed, cal)
    out.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        clear_table(out, table)
    multi = children > area_size
    chunk = area_size * chunk_areas
    n_chunks = math.ceil(children / chunk)
    counters = tb.Counters()
    small: dict[str, list[pl.DataFrame]] = {}
    for c in range(n_chunks):
        ctx = Ctx(np.random.default_rng([seed, c]), cal, day(START), as_of, boost)
        first = c * chunk
        n = min(chunk, children - first)
        later_rng = np.random.default_rng([seed, c, LATER_STREAM])
        frames = chunk_frames(ctx, first, n, area_size, multi, counters, later_rng)
        for name, df in frames.items():
            if name in BIG_TABLES:
                write_table(out, name, df, c if n_chunks > 1 else None)
            else:
                small.setdefault(name, []).append(df)
        del frames
    for name, dfs in small.items():
        write_table(out, name, pl.concat(dfs), None)
    for name, df in tb.fixed_frames(as_of).items():
        write_table(out, name, df, None)
    manifest = {
        "contract": CONTRACT_VERSION,
        "as_of": AS_OF.isoformat(),
        "la_name": "Synthetic national extract" if multi else "Northfield Borough Council (synthetic)",
        "la_code": "000" if multi else "999",
    }
    write_manifest(out, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command line: --out DIR [--children N] [--seed S] [--referrals-per-child R]."""
    p = argparse.ArgumentParser(prog="python -m sample_data.generate", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, type=Path, help="folder to write the extract into")
    p.add_argument("--children", type=int, default=SHIPPED_CHILDREN, help="number of children (default 12000)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument(
        "--referrals-per-child",
        type=float,
        default=None,
        metavar="R",
        help="referrals per child over the five years (default: the natural rate, about 1.6; "
        "a national extract has about 2.6); more re-referrals make up the difference",
    )
    args = p.parse_args(argv)
    if args.children < 1:
        p.error("--children must be at least 1")
    try:
        generate(args.out, args.children, args.seed, referrals_per_child=args.referrals_per_child)
    except ReferralRateError as exc:
        p.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
