"""Time every named question, engine start-up and validation on one or more extracts.

    python -m benchmarks.run                              # the shipped sample_data/
    python -m benchmarks.run --data DIR [--data DIR2]     # your own extracts
    python -m benchmarks.run --generate 50000 --repeat 5  # also a generated extract of 50,000 children

For each extract and each query in `queries.registry.all_queries()`, a fresh
Python process opens the extract, builds an Engine (a new DuckDB connection:
nothing warm but the operating system's file cache), runs the query once (cold)
and then --repeat more times on the same engine (warm, the median is shown),
and reports its peak resident memory (getrusage ru_maxrss). Engine start-up
(`Engine(extract)`) and validation (`schemas.validate.validate_extract`) are
timed separately, each in its own fresh process too. The result is a markdown
table on stdout; --json FILE also writes the raw figures. A benchmark, not a
test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE_ROW = "(engine start-up)"
VALIDATION_ROW = "(validation)"


def peak_mb() -> float:
    """This process's peak resident set size in MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def ms_since(start: float) -> float:
    """Milliseconds since a time.perf_counter() reading."""
    return (time.perf_counter() - start) * 1000


# --- the workers: each runs in a fresh process and prints one JSON line ------------------------------------------


def work_query(data: str, name: str, params: dict, repeat: int) -> dict:
    """Open the extract, build an engine, run `name` once cold and `repeat` times warm."""
    from queries.engine import Engine
    from queries.libraries import import_all
    from queries.registry import all_queries
    from schemas.extract import open_extract

    all_queries()  # imports every question's module: start-up, not the question's time
    import_all()  # the modelling libraries a question imports when first asked (benchmarks/imports.py times that)
    start = time.perf_counter()
    engine = Engine(open_extract(data))
    engine_ms = ms_since(start)
    try:
        start = time.perf_counter()
        frame = engine.run(name, **params)
        cold_ms = ms_since(start)
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            engine.run(name, **params)
            warm.append(ms_since(start))
    finally:
        engine.close()
    return {
        "rows": frame.height,
        "engine_ms": engine_ms,
        "cold_ms": cold_ms,
        "warm_ms": statistics.median(warm) if warm else None,
        "peak_mb": peak_mb(),
    }


def work_engine(data: str, repeat: int) -> dict:
    """Build an Engine once in a fresh process (cold), then `repeat` more times (warm, median)."""
    from queries.engine import Engine
    from schemas.extract import open_extract

    extract = open_extract(data)
    times = []
    for _ in range(repeat + 1):
        start = time.perf_counter()
        engine = Engine(extract)
        times.append(ms_since(start))
        engine.close()
    return {
        "rows": None,
        "cold_ms": times[0],
        "warm_ms": statistics.median(times[1:]) if repeat else None,
        "peak_mb": peak_mb(),
    }


def work_validation(data: str) -> dict:
    """Validate the extract once in a fresh process; `failures` counts what the report found."""
    from schemas.extract import open_extract
    from schemas.validate import validate_extract

    extract = open_extract(data)
    start = time.perf_counter()
    report = validate_extract(extract)
    elapsed = ms_since(start)
    return {"rows": None, "failures": len(report.failures), "cold_ms": elapsed, "warm_ms": None, "peak_mb": peak_mb()}


def last_error(stderr: str) -> str:
    """The exception line of a traceback (not the ^^^ markers under it), shortened for a table cell."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and set(line.strip()) - set("^~ ")]
    errors = [line for line in lines if "Error" in line.split(":")[0] or "Exception" in line.split(":")[0]]
    text = (errors or lines or ["no output"])[-1].replace("|", "/")
    return text if len(text) <= 200 else text[:197] + "..."


def in_fresh_process(*worker_args: str) -> dict:
    """Run this module as a worker in a new interpreter and return its JSON answer (or the error)."""
    command = [sys.executable, "-m", "benchmarks.run", "--worker", *worker_args]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}: {last_error(done.stderr)}"}
    return json.loads(lines[-1])


# --- the driver ------------------------------------------------------------------------------------------------


def machine() -> str:
    """One line naming the machine: CPUs, memory, Python, DuckDB, polars, date."""
    import duckdb
    import polars

    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return (
        f"{dt.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()} {os.cpu_count()} CPUs, {memory} RAM, "
        f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, polars {polars.__version__}"
    )


def describe_extract(data: Path) -> str:
    """Children, referrals and total Parquet size of an extract, for the table's heading."""
    import duckdb

    from schemas.extract import open_extract

    extract = open_extract(data)
    con = duckdb.connect()
    counts = {}
    try:
        for table in ("children", "referrals"):
            if table in extract.tables:
                counts[table] = con.execute(f"SELECT count(*) FROM {extract.tables[table].read_sql()}").fetchone()[0]
    finally:
        con.close()
    size = sum(f.stat().st_size for f in data.rglob("*.parquet"))
    parts = [f"{count:,} {table}" for table, count in counts.items()]
    return f"{data} ({', '.join(parts)}; {size / 1024 / 1024:.2f} MB of Parquet; as_of {extract.as_of})"


# A value for each required parameter the benchmark knows how to fill: SQL over the engine's views.
PICKERS = {
    "team_id": None,  # the first team of the team_list question, as a page's team choice would give
    # The busiest worker and the child with the longest history: the heaviest realistic answers.
    "worker_id": "SELECT worker_id FROM referrals WHERE worker_id IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
    "child_id": "SELECT child_id FROM referrals GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
}


def query_params(data: Path, query) -> tuple[dict | None, str | None]:
    """Parameters to run `query` with: defaults, plus a picked value for each required one; or a reason to skip."""
    params = {}
    from queries.models.patterns import COHORT_QUERIES

    if query.name in COHORT_QUERIES:
        # A cohort question needs one filter: a team, as the Patterns page starts with.
        params["team_id"] = pick(str(data), "team_id")
    for param in query.params:
        if param.default != "required":
            continue
        if param.name not in PICKERS:
            return None, f"required parameter {param.name} has no benchmark value"
        value = pick(str(data), param.name)
        if value is None:
            return None, f"required parameter {param.name}: the extract gave no value"
        params[param.name] = value
    return params, None


_PICKED: dict[tuple[str, str], str | None] = {}


def pick(data: str, name: str) -> str | None:
    """A value for required parameter `name` on this extract (asked once per extract, in this process)."""
    if (data, name) not in _PICKED:
        import duckdb

        from queries.engine import Engine, QueryError
        from schemas.extract import open_extract

        engine = Engine(open_extract(data))
        try:
            if name == "team_id":
                found = engine.run("team_list")["team_id"].head(1).to_list()
            else:
                found = [row[0] for row in engine.con.execute(PICKERS[name]).fetchall()]
            _PICKED[data, name] = str(found[0]) if found else None
        except (duckdb.Error, QueryError):  # the table it needs is missing or unusable
            _PICKED[data, name] = None
        finally:
            engine.close()
    return _PICKED[data, name]


def generate(children: int, into: Path) -> Path | None:
    """Write a generated extract of `children` children with sample_data.generate; None (said why) if it fails."""
    out = into / f"generated_{children}"
    command = [sys.executable, "-m", "sample_data.generate", "--out", str(out), "--children", str(children)]
    print(f"Generating {children:,} children: {' '.join(command[1:])}", file=sys.stderr)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  skipped: the generator failed (exit {done.returncode}): {last_error(done.stderr)}", file=sys.stderr)
        return None
    print(f"  generated in {ms_since(start) / 1000:.1f} s", file=sys.stderr)
    return out


def bench_extract(data: Path, repeat: int, only: list[str] | None, validate: bool = True) -> list[dict]:
    """Every row of the table for one extract: engine start-up, validation, then each query."""
    from queries.registry import all_queries

    startup = {"query": ENGINE_ROW, **in_fresh_process("engine", str(data), str(repeat))}
    rows = [startup]
    if validate:
        validation = in_fresh_process("validation", str(data))
        label = VALIDATION_ROW
        if "failures" in validation:
            label = f"(validation: {validation['failures']:,} failures found)"
        rows.append({"query": label, **validation})
    for name, query in all_queries().items():
        if only and name not in only:
            continue
        params, reason = query_params(data, query)
        if reason:
            print(f"  {name}: skipped, {reason}", file=sys.stderr)
            rows.append({"query": name, "skipped": reason})
            continue
        result = in_fresh_process("query", str(data), name, json.dumps(params), str(repeat))
        rows.append({"query": name, "params": params, **result})
        said = result.get("error") or f"{result['rows']:,} rows, {result['cold_ms']:.0f} ms cold"
        print(f"  {name}: {said}", file=sys.stderr)
    return rows


def number(value, digits: int = 1) -> str:
    """A figure for the table: '–' when there is none."""
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def markdown(results: list[tuple[str, list[dict]]]) -> str:
    """The markdown table: extract, query, rows, cold ms, warm ms (median), peak MB."""
    lines = ["| extract | query | rows | cold ms | warm ms (median) | peak MB |", "|---|---|---:|---:|---:|---:|"]
    for label, rows in results:
        for row in rows:
            if "skipped" in row or "error" in row:
                why = row.get("skipped") or row.get("error")
                lines.append(f"| {label} | {row['query']} | {why} | | | |")
                continue
            lines.append(
                f"| {label} | {row['query']} | {number(row['rows'])} | {number(row['cold_ms'])} | "
                f"{number(row['warm_ms'])} | {number(row['peak_mb'], 0)} |"
            )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --worker is internal (one measurement in a fresh process)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="an extract folder (repeatable; default: sample_data/)")
    parser.add_argument("--generate", type=int, metavar="N", help="also benchmark a generated extract of N children")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per query (median shown; default 5)")
    parser.add_argument("--query", action="append", help="only this query (repeatable)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the generated extract (its path is printed)")
    parser.add_argument("--no-validation", action="store_true", help="leave out the (validation) row")
    parser.add_argument(
        "--storage",
        choices=("memory", "database", "views"),
        help="where the engine keeps the tables (default: by size, as the app does; sets CHILDSTAT_STORAGE)",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Benchmark the extracts asked for and print the table; 2 when there is nothing to benchmark."""
    args = parse_args(argv)
    if args.storage:
        os.environ["CHILDSTAT_STORAGE"] = args.storage  # read by every worker's Engine
    if args.worker:
        kind, *rest = args.worker
        if kind == "query":
            data, name, params, repeat = rest
            print(json.dumps(work_query(data, name, json.loads(params), int(repeat))))
        elif kind == "engine":
            print(json.dumps(work_engine(rest[0], int(rest[1]))))
        else:
            print(json.dumps(work_validation(rest[0])))
        return 0

    from schemas.extract import SAMPLE_DATA

    extracts = [Path(d) for d in args.data or []]
    if not args.data:
        if (SAMPLE_DATA / "children.parquet").exists():
            extracts.append(SAMPLE_DATA)
        else:
            print(f"No shipped sample at {SAMPLE_DATA}: generate it or pass --data DIR.", file=sys.stderr)
    scratch = Path(tempfile.mkdtemp(prefix="childstat-bench-")) if args.generate else None
    try:
        if args.generate:
            generated = generate(args.generate, scratch)
            if generated:
                extracts.append(generated)
        if not extracts:
            return 2
        results = []
        for data in extracts:
            label = data.name
            print(f"Benchmarking {describe_extract(data)}", file=sys.stderr)
            results.append((label, bench_extract(data, args.repeat, args.query, not args.no_validation)))
        storage = os.environ.get("CHILDSTAT_STORAGE") or "by size (memory up to 64 MB of Parquet, else database)"
        print(f"Machine: {machine()}. Warm runs per query: {args.repeat}. Storage: {storage}.\n")
        for data in extracts:
            print(f"- `{data.name}`: {describe_extract(data)}")
        print()
        print(markdown(results))
        if args.json:
            Path(args.json).write_text(
                json.dumps({"machine": machine(), "results": dict(results)}, indent=1, default=str), encoding="utf-8"
            )
    finally:
        if scratch and not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        elif scratch:
            print(f"Generated extract kept in {scratch}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
