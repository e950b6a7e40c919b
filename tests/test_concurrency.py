"""Pages drawn by many sessions at once must not deadlock the server, nor fail in page discovery.

Streamlit runs every session's script in its own thread of one process. Under the load benchmark
(benchmarks/load.py, 20 sessions) the whole server hung: a page formatted a table column with
polars' `map_elements`, which runs the Python function on polars' worker threads (they must take
the interpreter lock), while another session's thread converted a polars frame to pandas for
`st.dataframe`, which waits for those same workers *holding* the interpreter lock. Neither could go
on. Pages now format text in their own thread (`pages._frame.formatted`) and hand tables to
Streamlit as Arrow (`pages._frame.table_data`), so neither half of that cycle is in a page.

Each check runs in a fresh process with polars limited to 2 worker threads (the benchmark
machine's), drawing the Caseload page's table from many threads while other threads do the other
half of the cycle; before the fix each of these hung every time.
"""

from __future__ import annotations

import ast
import gc
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from app import page_files, page_meta

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(
    """
    import json, sys, threading
    import polars as pl
    import pyarrow as pa
    import streamlit as st
    from pages import caseload
    from queries.engine import Engine
    from schemas.extract import SAMPLE_DATA, open_extract

    other = sys.argv[1]
    engine = Engine(open_extract(SAMPLE_DATA))
    workers = engine.run("caseload_by_worker").sort("open_cases", descending=True)
    cases = engine.run("worker_cases", worker_id=workers["worker_id"][0])
    engine.close()
    drawn, lock = [], threading.Lock()

    class Container:
        # What a page draws into: a table goes through Streamlit's own st.dataframe (bare mode).
        def dataframe(self, data, **kwargs):
            st.dataframe(data, **kwargs)
            with lock:
                drawn.append(data)

        def html(self, body, **kwargs):  # the table as it prints (pages/_print.py), made in this thread too
            st.html(body, **kwargs)

        def download_button(self, *args, **kwargs):
            pass

    def page():
        for _ in range(15):
            caseload.cases_table(Container(), cases, {"worker": workers["worker_id"][0]}, key="cases")

    def to_pandas():  # another session's library converting a polars frame to pandas
        for _ in range(15):
            pl.concat([cases] * 4, rechunk=False).to_pandas()

    def python_in_polars():  # a question that runs a Python function inside polars
        for _ in range(15):
            cases.select(pl.col("child_id").map_elements(len, return_dtype=pl.Int64))

    threads = [threading.Thread(target=page) for _ in range(8)]
    threads += [threading.Thread(target=globals()[other]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first = drawn[0]
    print(json.dumps({
        "tables": len(drawn),
        "arrow": all(isinstance(d, pa.Table) for d in drawn),
        "rows": first.num_rows,
        "cases": cases.height,
        "status": first.column("Visit status").to_pylist(),
        "expected": [caseload.visit_status_text(r, d) for r, d in zip(cases["rag"], cases["working_days_to_due"])],
    }))
    """
)


def draw_concurrently(other: str) -> dict:
    env = {**os.environ, "POLARS_MAX_THREADS": "2", "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, other], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"drawing the Caseload table from 8 threads alongside {other} deadlocked (no end in 120 s)")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("other", ["to_pandas", "python_in_polars"])
def test_caseload_table_drawn_from_many_threads_does_not_deadlock(other):
    result = draw_concurrently(other)
    assert result["tables"] == 8 * 15
    assert result["arrow"], "st.dataframe was given a polars frame, which Streamlit converts to pandas"
    assert result["rows"] == result["cases"] > 10
    assert result["status"] == result["expected"]
    assert any(s.startswith(("🟢", "🟠", "🔴")) for s in result["status"])


def test_no_page_runs_python_inside_polars():
    """map_elements / map_batches / map_rows put a Python function on polars' worker threads (see above)."""
    offenders = []
    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("map_elements", "map_batches", "map_rows", "apply"):
                offenders.append(f"{path.name}:{node.lineno} {node.attr}")
    assert offenders == []


# Page discovery. Every script run (every page load of every session, each in its own thread) lists
# the pages with their PAGE declarations. It used to parse each page file with `ast.parse` every
# time; on Python 3.11 building syntax trees in two threads at once can raise "SystemError: AST
# constructor recursion depth mismatch", which reached a user as an exception box on the Caseload
# page with 20 sessions (benchmarks/load.py now logs it). Discovery now builds no syntax tree.


def test_page_discovery_builds_no_syntax_tree(tmp_path, monkeypatch):
    copy = tmp_path / "caseload.py"
    shutil.copy(ROOT / "pages" / "caseload.py", copy)

    trees, parse = [], ast.parse

    def counted(*args, **kwargs):  # ast.literal_eval of a string goes through ast.parse too
        trees.append(args[0][:40] if args and isinstance(args[0], str) else type(args[0]).__name__)
        return parse(*args, **kwargs)

    monkeypatch.setattr(ast, "parse", counted)
    meta = page_meta(copy)
    monkeypatch.undo()
    assert trees == [], "page discovery built a Python syntax tree"
    assert meta["title"] == "Caseload"
    assert meta["order"] == 10
    assert meta["roles"] == ["social_worker", "team_manager", "analyst", "admin"]
    assert meta["description"].startswith("For a social worker: my open cases")


class _Garbage:
    """Cyclic garbage whose finalizer runs Python code: the collector can then switch threads mid-parse."""

    def __init__(self):
        self.me = self

    def __del__(self):
        time.sleep(0)


def test_page_discovery_from_many_threads_at_once(tmp_path):
    sources = {p.stem: p for p in page_files()}
    expected = {stem: page_meta(path) for stem, path in sources.items()}
    copies = []
    for i in range(30):  # fresh files, so every call reads one (nothing is served from the cache)
        for stem, path in sources.items():
            copy = tmp_path / f"{stem}_{i}.py"
            shutil.copy(path, copy)
            copies.append((stem, copy))
    failures, results = [], []

    def discover(share):
        for stem, copy in share:
            _Garbage()
            try:
                results.append(page_meta(copy) == expected[stem])
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(f"{type(exc).__name__}: {exc}")

    thresholds = gc.get_threshold()
    gc.set_threshold(50, 5, 5)
    try:
        threads = [threading.Thread(target=discover, args=(copies[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        gc.set_threshold(*thresholds)
    assert failures == []
    assert len(results) == len(copies) and all(results)
