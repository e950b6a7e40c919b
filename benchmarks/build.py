"""Time the cached database's build, step by step: every table copied and every summary computed.

    python -m benchmarks.build --data /tmp/national                # a full build in a fresh cache folder
    python -m benchmarks.build --data /tmp/national --change visits # then a rebuild after one table's file changed

Builds the extract's database (queries/database.py) in a new temporary cache folder, in a fresh
process, and prints a markdown table of its steps (seconds, and whether each was read from the
Parquet or kept from the previous version), the total, and the process's peak memory. `--change
TABLE` builds a linked copy of the extract instead, then rewrites that table's file there (the same
bytes in a new file) and builds again in the same cache folder: the steps that do not depend on it
are copied from the first database.
A benchmark, not a test: nothing is asserted. The extract itself is never written to.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import peak_mb

ROOT = Path(__file__).resolve().parent.parent


def work_build(data: str, cache: str) -> dict:
    """In a fresh process: build the database and report each step."""
    from queries.engine import Engine
    from schemas.extract import open_extract

    start = time.perf_counter()
    engine = Engine(open_extract(data), storage="database", cache_dir=cache, progress=lambda _: None)
    total = time.perf_counter() - start
    steps = [(s.label, s.seconds, s.how) for s in engine.build_steps]
    size = engine.database_path.stat().st_size
    engine.close()
    return {"steps": steps, "total": total, "peak_mb": peak_mb(), "database_mb": size / 1e6}


def run_worker(data: Path, cache: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = f"import json; from benchmarks.build import work_build; print(json.dumps(work_build({str(data)!r}, {str(cache)!r})))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def linked_copy(data: Path, into: Path) -> Path:
    """A copy of the extract made of hard links where it can (no data copied)."""
    copy = into / data.name
    shutil.copytree(data, copy, copy_function=_link_or_copy)
    return copy


def rewrite(copy: Path, table: str) -> None:
    """The table's file(s) written anew: the same bytes in a new file (never the extract's own, which is linked)."""
    for file in [copy / f"{table}.parquet", *sorted((copy / table).rglob("*.parquet"))]:
        if file.is_file():
            content = file.read_bytes()
            file.unlink()
            file.write_bytes(content)


def _link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def table(result: dict, title: str) -> str:
    lines = [f"**{title}**: {result['total']:.1f} s in all, peak {result['peak_mb']:,.0f} MB, "
             f"database {result['database_mb']:,.0f} MB", "", "| step | seconds | how |", "|---|---:|---|"]  # fmt: skip
    lines += [f"| {label} | {seconds:.2f} | {how} |" for label, seconds, how in result["steps"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="extract folder")
    parser.add_argument("--change", metavar="TABLE", help="then rebuild after this table's file changed")
    args = parser.parse_args(argv)
    data = Path(args.data).resolve()
    with tempfile.TemporaryDirectory(prefix="childstat-build-") as tmp:
        cache = Path(tmp) / "cache"
        if args.change:
            data = linked_copy(data, Path(tmp))  # its table is rewritten below; the extract itself never is
        print(f"building {data} in {cache}", file=sys.stderr)
        print(table(run_worker(data, cache), f"Full build of {data.name}"))
        if args.change:
            rewrite(data, args.change)
            print(f"rebuilding after {args.change} changed", file=sys.stderr)
            print()
            print(table(run_worker(data, cache), f"Rebuild after {args.change} changed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
