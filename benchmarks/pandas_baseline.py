"""ChildStat against a straightforward pandas version of its three heaviest questions, in one run.

    python -m benchmarks.pandas_baseline --data /tmp/national [--team T0001] [--repeat 2]

The three questions: factor prevalence (a team's cohort against every other child, per factor),
caseload by worker (every worker's open cases, cases on CP / CIN / CLA plans and overdue visits
on as_of) and team outcomes (re-referrals and time to close per practice model over the 12
months to as_of). Each pandas version reads the Parquet it needs with `pandas.read_parquet`
(string IDs, as written), and computes the same figures the way an analyst would in a notebook:
boolean masks, merges and group-bys. The working-day calendar and the Kaplan-Meier median are
ChildStat's own (queries.calendar, queries.stats), so only the data handling is compared.

Every measurement runs in a fresh Python process (so its peak memory is its own and nothing is
warm but the operating system's file cache):
- pandas: read + compute once (*cold*), then `--repeat` more times in the same process (*warm*: the
  imports and the file cache are warm, but a script keeps no data between runs, so it rereads);
- ChildStat: `Engine(open_extract(data))` (engine start-up) then `engine.run(name)` once (*cold*)
  and `--repeat` more times (*warm*, median). The speed-up compares cold with cold (pandas'
  read + compute against ChildStat's start-up + first answer) and warm with warm.
Each side also returns a small digest of its answer (totals per group), and the table says
whether the two agree, so the comparison is between equal answers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.run import ROOT, last_error, machine, ms_since, peak_mb

QUESTIONS = ("factor_prevalence", "caseload_by_worker", "team_outcomes")


# --- pandas ---------------------------------------------------------------------------------------------------


def read(data: Path, table: str, columns: list[str]):
    """One table as a pandas DataFrame (a file or a folder of part files), only the columns asked for."""
    import pandas as pd

    path = data / f"{table}.parquet"
    if not path.exists():
        path = data / table
    return pd.read_parquet(path, columns=columns)


def pandas_factor_prevalence(data: Path, as_of: dt.date, team_id: str) -> dict:
    """Per factor: children of the team's cohort and of everyone else who had it (recorded by as_of)."""
    import pandas as pd

    as_of = pd.Timestamp(as_of)
    referrals = read(data, "referrals", ["child_id", "team_id", "referral_date", "nfa"])
    children = read(data, "children", ["child_id"])
    teams = read(data, "teams", ["team_id"])
    factors = read(data, "factors", ["child_id", "factor_code", "recorded_date"])
    qualifying = referrals[(referrals["nfa"] == False) & (pd.to_datetime(referrals["referral_date"]) <= as_of)]  # noqa: E712
    population = pd.DataFrame({"child_id": qualifying["child_id"].unique()})
    matching = qualifying[qualifying["team_id"] == team_id]
    matching = matching[matching["team_id"].isin(teams["team_id"]) & matching["child_id"].isin(children["child_id"])]
    population["grp"] = population["child_id"].isin(matching["child_id"]).map({True: "cohort", False: "rest"})
    recorded = factors[pd.to_datetime(factors["recorded_date"]) <= as_of]
    child_factors = recorded[["child_id", "factor_code"]].drop_duplicates().merge(population, on="child_id")
    counts = child_factors.groupby(["factor_code", "grp"]).size().unstack(fill_value=0)
    sizes = population["grp"].value_counts()
    counts = counts.reindex(columns=["cohort", "rest"], fill_value=0)
    return {
        "cohort_n": int(sizes.get("cohort", 0)),
        "rest_n": int(sizes.get("rest", 0)),
        "factors": {code: [int(row["cohort"]), int(row["rest"])] for code, row in counts.iterrows()},
    }


def pandas_caseload_by_worker(data: Path, as_of: dt.date, cp_wd: int, cin_wd: int, cla_days: int) -> dict:
    """worker_caseload: open cases, plan cases and overdue visits per worker on as_of."""
    import pandas as pd

    from queries.calendar import calendar_frame

    as_of = pd.Timestamp(as_of)
    referrals = read(
        data, "referrals", ["referral_id", "child_id", "referral_date", "nfa", "worker_id", "closure_date"]
    )
    for column in ("referral_date", "closure_date"):
        referrals[column] = pd.to_datetime(referrals[column])
    workers = read(data, "workers", ["worker_id", "team_id", "fte", "start_date", "end_date"])
    visits = read(data, "visits", ["child_id", "visit_date", "visit_type"])
    visits["visit_date"] = pd.to_datetime(visits["visit_date"])
    plans = []
    for table, plan_type in (("cp_plans", "cp"), ("cin_plans", "cin"), ("looked_after", "cla")):
        part = read(data, table, ["child_id", "start_date", "end_date"])
        plans.append(part.assign(plan_type=plan_type))
    plans = pd.concat(plans, ignore_index=True)
    for column in ("start_date", "end_date"):
        plans[column] = pd.to_datetime(plans[column])

    is_open = (referrals["referral_date"] <= as_of) & (referrals["nfa"] == False)  # noqa: E712
    is_open &= referrals["closure_date"].isna() | (referrals["closure_date"] > as_of)
    allocated = referrals[is_open & referrals["worker_id"].notna()][["worker_id", "child_id"]].drop_duplicates()

    # Visit status of every open plan on as_of.
    open_plans = plans[(plans["start_date"] <= as_of) & (plans["end_date"].isna() | (plans["end_date"] > as_of))]
    open_plans = open_plans.groupby(["child_id", "plan_type"], as_index=False)["start_date"].max()
    seen = visits[visits["visit_date"] <= as_of].groupby(["child_id", "visit_type"], as_index=False)["visit_date"].max()
    status = open_plans.merge(
        seen, how="left", left_on=["child_id", "plan_type"], right_on=["child_id", "visit_type"]
    ).drop(columns="visit_type")
    status["base"] = status[["start_date", "visit_date"]].max(axis=1)
    calendar = calendar_frame().to_pandas()
    calendar["d"] = pd.to_datetime(calendar["d"])
    wd_index = calendar.set_index("d")["wd_index"]
    working_day = calendar[calendar["is_working_day"]].set_index("wd_index")["d"]
    status = status[status["base"].isin(wd_index.index)]
    base_index = status["base"].map(wd_index)
    step = status["plan_type"].map({"cp": cp_wd, "cin": cin_wd, "cla": 0})
    status["due_date"] = (base_index + step).map(working_day)
    cla = status["plan_type"] == "cla"
    status.loc[cla, "due_date"] = status.loc[cla, "base"] + pd.Timedelta(days=cla_days)
    status = status[status["due_date"].isin(wd_index.index)]
    status["is_overdue"] = status["due_date"] < as_of

    # The holder of each child with an open plan: its latest open referral, else its latest referral.
    held = referrals[(referrals["referral_date"] <= as_of) & referrals["child_id"].isin(status["child_id"])].copy()
    held["open"] = is_open[held.index]
    held = held.sort_values(["child_id", "open", "referral_date", "referral_id"], ascending=[True, False, False, False])
    holders = held.drop_duplicates("child_id")[["child_id", "worker_id"]]
    status = status.merge(holders, on="child_id", how="left")

    per_worker = allocated.groupby("worker_id")["child_id"].nunique().rename("open_cases").to_frame()
    for plan_type in ("cp", "cin", "cla"):
        on_plan = allocated[allocated["child_id"].isin(status.loc[status["plan_type"] == plan_type, "child_id"])]
        per_worker[f"{plan_type}_cases"] = on_plan.groupby("worker_id")["child_id"].nunique()
    overdue = status[status["is_overdue"] & status["worker_id"].notna()].groupby("worker_id").size()
    answer = workers.set_index("worker_id").join(per_worker).join(overdue.rename("overdue_visits"))
    answer = answer.fillna({c: 0 for c in ("open_cases", "cp_cases", "cin_cases", "cla_cases", "overdue_visits")})
    start, end = pd.to_datetime(answer["start_date"]), pd.to_datetime(answer["end_date"])
    in_post = (start <= as_of) & (end.isna() | (end >= as_of))
    answer = answer[in_post | (answer["open_cases"] > 0)]
    answer["cases_per_fte"] = (answer["open_cases"] / answer["fte"]).round(1)
    return {
        "workers": len(answer),
        **{c: int(answer[c].sum()) for c in ("open_cases", "cp_cases", "cin_cases", "cla_cases", "overdue_visits")},
    }


def pandas_team_outcomes(data: Path, as_of: dt.date) -> dict:
    """Per practice model, referrals in the 12 months to as_of: re-referrals and median days to close."""
    import pandas as pd

    from queries.stats import kaplan_meier, km_median

    as_of = pd.Timestamp(as_of)
    referrals = read(data, "referrals", ["referral_id", "child_id", "referral_date", "team_id", "nfa", "closure_date"])
    referrals["referral_date"] = pd.to_datetime(referrals["referral_date"])
    referrals["closure_date"] = pd.to_datetime(referrals["closure_date"])
    teams = read(data, "teams", ["team_id", "practice_model"])
    window = referrals[
        (referrals["referral_date"] > as_of - pd.Timedelta(days=365)) & (referrals["referral_date"] <= as_of)
    ]
    window = window.merge(teams, on="team_id")
    # A re-referral: the same child had another referral 1 to 365 days before.
    pairs = window[["referral_id", "child_id", "referral_date"]].merge(
        referrals[["child_id", "referral_date"]].rename(columns={"referral_date": "earlier"}), on="child_id"
    )
    gap = pairs["referral_date"] - pairs["earlier"]
    repeated = pairs[(gap > pd.Timedelta(0)) & (gap <= pd.Timedelta(days=365))]["referral_id"].unique()
    window = window.assign(is_rereferral=window["referral_id"].isin(repeated))
    counts = window.groupby("practice_model").agg(
        referrals=("referral_id", "size"), rereferrals=("is_rereferral", "sum")
    )

    episodes = window[window["nfa"] == False].copy()  # noqa: E712
    closed_by = episodes["closure_date"].where(episodes["closure_date"] <= as_of, as_of).fillna(as_of)
    episodes["days"] = (closed_by - episodes["referral_date"]).dt.days
    episodes["closed"] = episodes["closure_date"].notna() & (episodes["closure_date"] <= as_of)
    medians = {}
    for group, part in episodes.groupby("practice_model"):
        grouped = part.groupby(["days", "closed"], as_index=False).size()
        medians[group] = km_median(kaplan_meier(grouped["days"], grouped["closed"], weights=grouped["size"]))[0]
    return {
        group: [int(row["referrals"]), int(row["rereferrals"]), float(medians.get(group, float("nan")))]
        for group, row in counts.iterrows()
    }


# --- ChildStat's answers, digested the same way ---------------------------------------------------------------


def digest(name: str, frame) -> dict:
    """The same small summary of ChildStat's answer as the pandas function returns."""
    if name == "factor_prevalence":
        first = frame.row(0, named=True) if frame.height else {"cohort_n": 0, "rest_n": 0}
        return {
            "cohort_n": int(first["cohort_n"]),
            "rest_n": int(first["rest_n"]),
            "factors": {
                r["factor_code"]: [int(r["cohort_with"]), int(r["rest_with"])] for r in frame.iter_rows(named=True)
            },
        }
    if name == "caseload_by_worker":
        columns = ("open_cases", "cp_cases", "cin_cases", "cla_cases", "overdue_visits")
        return {"workers": frame.height, **{c: int(frame[c].sum()) for c in columns}}
    return {
        r["group"]: [int(r["referrals"]), int(r["rereferrals"]), float(r["median_days_to_close"])]
        for r in frame.iter_rows(named=True)
    }


def question_params(name: str, team_id: str) -> dict:
    return {"team_id": team_id} if name == "factor_prevalence" else {}


def work_pandas(data: str, name: str, team_id: str, repeat: int) -> dict:
    import pandas  # noqa: F401 - imports are not what is timed, on either side

    import queries.calendar  # noqa: F401
    import queries.stats  # noqa: F401
    from queries.settings import setting
    from schemas.extract import open_extract

    as_of = open_extract(data).as_of
    path = Path(data)

    def compute():
        if name == "factor_prevalence":
            return pandas_factor_prevalence(path, as_of, team_id)
        if name == "caseload_by_worker":
            return pandas_caseload_by_worker(
                path,
                as_of,
                setting("cp_visit_working_days"),
                setting("cin_visit_working_days"),
                setting("cla_visit_days"),
            )
        return pandas_team_outcomes(path, as_of)

    start = time.perf_counter()
    answer = compute()
    cold = ms_since(start)
    warm = []
    for _ in range(repeat):  # pandas' reruns reread the Parquet too: a script has nothing else to keep
        start = time.perf_counter()
        compute()
        warm.append(ms_since(start))
    return {
        "cold_ms": cold,
        "warm_ms": statistics.median(warm) if warm else None,
        "peak_mb": peak_mb(),
        "digest": answer,
    }


def work_childstat(data: str, name: str, team_id: str, repeat: int) -> dict:
    from queries.engine import Engine
    from queries.libraries import import_all
    from queries.registry import all_queries
    from schemas.extract import open_extract

    all_queries()  # imports every question's module: not what is timed, on either side
    import_all()  # the modelling libraries a question imports when first asked (benchmarks/imports.py times that)
    start = time.perf_counter()
    engine = Engine(open_extract(data))
    engine_ms = ms_since(start)
    params = question_params(name, team_id)
    try:
        start = time.perf_counter()
        frame = engine.run(name, **params)
        cold = ms_since(start)
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            engine.run(name, **params)
            warm.append(ms_since(start))
    finally:
        engine.close()
    return {
        "engine_ms": engine_ms,
        "cold_ms": cold,
        "warm_ms": statistics.median(warm) if warm else None,
        "peak_mb": peak_mb(),
        "digest": digest(name, frame),
    }


def in_fresh_process(*args: str) -> dict:
    command = [sys.executable, "-m", "benchmarks.pandas_baseline", "--worker", *args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}: {last_error(done.stderr)}"}
    return json.loads(lines[-1])


def same(a, b) -> bool:
    """Digests agree: equal counts, and medians equal (or both missing)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or abs(a - b) < 1e-9
    return a == b


def first_team(data: str) -> str:
    from queries.engine import Engine
    from schemas.extract import open_extract

    engine = Engine(open_extract(data))
    try:
        return engine.run("team_list")["team_id"][0]
    finally:
        engine.close()


def fmt(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def table(label: str, rows: list[dict]) -> str:
    lines = [
        "| extract | question | pandas cold ms | ChildStat cold ms (start-up + first) | speed-up cold | "
        "pandas warm ms | ChildStat warm ms | speed-up warm | pandas peak MB | ChildStat peak MB | same answer |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        pd_, cs = row["pandas"], row["childstat"]
        if "error" in pd_ or "error" in cs:
            lines.append(f"| {label} | {row['name']} | {pd_.get('error', '')} | {cs.get('error', '')} | | | | | | | |")
            continue
        cs_cold = cs["engine_ms"] + cs["cold_ms"]
        warm_up = f"{pd_['warm_ms'] / cs['warm_ms']:,.0f}×" if pd_["warm_ms"] and cs["warm_ms"] else "–"
        lines.append(
            f"| {label} | {row['name']} | {fmt(pd_['cold_ms'])} | {fmt(cs_cold)} ({fmt(cs['engine_ms'])} + "
            f"{fmt(cs['cold_ms'])}) | {pd_['cold_ms'] / cs_cold:,.1f}× | {fmt(pd_['warm_ms'])} | "
            f"{fmt(cs['warm_ms'])} | {warm_up} | {fmt(pd_['peak_mb'])} | {fmt(cs['peak_mb'])} | "
            f"{'yes' if same(pd_['digest'], cs['digest']) else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pandas_baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="an extract folder (repeatable; default: sample_data/)")
    parser.add_argument("--team", help="the cohort's team for factor_prevalence (default: the first of team_list)")
    parser.add_argument("--repeat", type=int, default=2, help="warm runs (median shown; default 2)")
    parser.add_argument("--question", action="append", choices=QUESTIONS, help="only this question (repeatable)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures as JSON")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        side, data, name, team_id, repeat = args.worker
        work = work_pandas if side == "pandas" else work_childstat
        print(json.dumps(work(data, name, team_id, int(repeat)), default=str))
        return 0

    from schemas.extract import SAMPLE_DATA

    results = {}
    for data in args.data or [str(SAMPLE_DATA)]:
        team = args.team or first_team(data)
        rows = []
        for name in args.question or QUESTIONS:
            print(f"{Path(data).name} {name}: pandas…", file=sys.stderr)
            pandas_side = in_fresh_process("pandas", data, name, team, str(args.repeat))
            print(f"{Path(data).name} {name}: ChildStat…", file=sys.stderr)
            childstat_side = in_fresh_process("childstat", data, name, team, str(args.repeat))
            rows.append({"name": name, "pandas": pandas_side, "childstat": childstat_side})
        results[data] = rows
    print(f"Machine: {machine()}. Warm runs: {args.repeat}.\n")
    for data, rows in results.items():
        print(table(Path(data).name, rows))
        print()
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": results}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
