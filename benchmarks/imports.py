"""What each question costs in imports, from the command line, cold.

    python -m benchmarks.imports                    # every question on the shipped sample
    python -m benchmarks.imports --query open_cases --data /tmp/national

For `python -m queries list` and then each question, a fresh `python -X importtime -m queries run NAME`
(parameters as benchmarks/run.py picks them): the whole process's wall time, the time spent importing
(the sum of the top-level imports' cumulative times, as `-X importtime` reports them) and which
modelling libraries (scipy.stats, statsmodels, scikit-learn, pandas) it imported. Questions that fit a
model may import them; the others should stay under half a second of imports (issue 20). A benchmark,
not a test: nothing is asserted. Progress on stderr, a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.run import query_params

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("scipy.stats", "scipy.special", "statsmodels", "sklearn", "pandas")
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)$")


def import_profile(stderr: str) -> tuple[float, list[str]]:
    """(seconds importing, the modelling libraries imported) from `-X importtime` output."""
    total, seen = 0, []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        name = match.group(4)
        if len(match.group(3)) == 1:  # a top-level import: its cumulative time includes everything below it
            total += int(match.group(2))
        for library in LIBRARIES:
            if (name == library or name.startswith(library + ".")) and library not in seen:
                seen.append(library)
    return total / 1e6, seen


def measure(args: list[str], data: str | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if data:
        env["CHILDSTAT_DATA"] = data
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "queries", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    seconds, libraries = import_profile(done.stderr)
    return {"wall": wall, "imports": seconds, "libraries": libraries, "ok": done.returncode == 0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="extract folder (default: the shipped sample_data/)")
    parser.add_argument("--query", action="append", help="only this question; repeatable")
    args = parser.parse_args(argv)
    from queries.registry import all_queries

    data = Path(args.data) if args.data else ROOT / "sample_data"
    rows = [("(list)", measure(["list"], args.data))]
    for query in all_queries().values():
        if args.query and query.name not in args.query:
            continue
        params, skip = query_params(data, query)
        if skip:
            print(f"{query.name}: skipped ({skip})", file=sys.stderr)
            continue
        pairs = [item for key, value in params.items() for item in ("--param", f"{key}={value}")]
        rows.append((query.name, measure(["run", query.name, *pairs], args.data)))
        print(f"{query.name}: {rows[-1][1]['imports']:.2f} s of imports", file=sys.stderr)
    print("| command | wall s | imports s | modelling libraries imported |")
    print("|---|---:|---:|---|")
    for name, row in rows:
        failed = "" if row["ok"] else " (failed)"
        print(f"| {name}{failed} | {row['wall']:.2f} | {row['imports']:.2f} | {', '.join(row['libraries']) or '–'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
