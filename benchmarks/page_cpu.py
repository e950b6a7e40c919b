"""CPU seconds per warm page view, and per widget change in a section, in one process, without browsers.

    python -m benchmarks.page_cpu [--data DIR] [--passes 3] [--per-page] [--interactions] [--profile N]

Runs app.py through Streamlit's AppTest over every page (Import apart) once to warm it (extract
opened, models fitted, answers cached), then `--passes` more times, and prints the process's CPU
time (`time.process_time`, every thread) per page view of those passes. A quick before/after
measure of a change to the pages' own work; the load benchmark (benchmarks/load.py) measures the
same thing in real servers under concurrent sessions.

`--per-page` adds each page's own CPU per view; `--fresh-figures` drops the figures kept per reader
(pages/_frame.py `cached_chart`) before every view, as for a reader's first view of each page (their
answers are still cached: the warm-up asked the same questions). `--interactions` measures a widget change in one
section of a page (INTERACTIONS: the caseload's chronology picker, the compliance measure switch,
the NEET and Services selectors), each alternated between two values `--passes` x 4 times after a
warm-up. A section drawn as a fragment (pages/_frame.py `section`) reruns alone, as it does in a
browser: AppTest itself reruns the whole script on any widget change, so the run is asked for as a
fragment rerun of the section's fragment, the way the browser asks. `--profile N` prints the N
functions with the most cumulative time over the page-view passes (cProfile, script thread only).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (page, widget kind, widget key, two values, the section's fragment key): a widget change that redraws
# one section. No values: the widget's first two options.
INTERACTIONS = [
    ("caseload", "selectbox", "drill_worker_child", None, "caseload_drill_worker"),
    ("caseload", "selectbox", "measure", ("visits_in_timescale", "assessment_45wd"), "caseload_drill_measure"),
    ("neet", "selectbox", "neet_team", (None, "first team"), "neet_risk_list"),
    ("services", "radio", "spend_period", ("Last 12 months", "Last 24 months"), "services_spend"),
]


@contextlib.contextmanager
def fragment_rerun(app, fragment_key: str | None):
    """Make AppTest's next run a rerun of one fragment only (what a browser sends for a widget in it)."""
    from streamlit.runtime.scriptrunner_utils import script_requests
    from streamlit.testing.v1 import local_script_runner

    ids = list(app._fragment_storage._ids_by_target_key.get(fragment_key, {})) if fragment_key else []
    if not ids:  # not a fragment: AppTest's own full rerun
        yield False
        return
    plain = local_script_runner.RerunData

    def as_fragment(**kwargs):
        return plain(**kwargs, fragment_id_queue=list(ids), is_fragment_scoped_rerun=False)

    local_script_runner.RerunData = as_fragment
    try:
        yield True
    finally:
        local_script_runner.RerunData = plain
        assert script_requests.RerunData is plain


@contextlib.contextmanager
def profiled(wanted: bool):
    """cProfile over every script run (app.py's main, in AppTest's script thread) while in the block."""
    from pages import _frame

    if not wanted:
        yield None
        return
    profile = cProfile.Profile()
    begin, end = _frame.begin_run, _frame.end_run

    def begin_profiled():
        profile.enable()
        begin()

    def end_profiled(outcome: str = "done"):
        end(outcome)
        profile.disable()

    _frame.begin_run, _frame.end_run = begin_profiled, end_profiled
    try:
        yield profile
    finally:
        _frame.begin_run, _frame.end_run = begin, end


def page_views(app, pages: list[Path], passes: int, per_page: dict[str, float], fresh: bool = False) -> float:
    """CPU seconds per page view over `passes` passes of every page; each page's own total in per_page.
    `fresh`: the kept figures are dropped before every view, as for a reader's first view of a page."""
    from pages import _frame

    started = time.process_time()
    for _ in range(passes):
        for page in pages:
            if fresh:
                _frame._kept_chart.clear()
            before = time.process_time()
            app.switch_page(f"pages/{page.name}").run()
            per_page[page.stem] = per_page.get(page.stem, 0.0) + time.process_time() - before
    return (time.process_time() - started) / (passes * len(pages))


def choose(app, kind: str, key: str, values: tuple | None, index: int):
    """The widget set to values[index], else to its index-th option."""
    widget = getattr(app, kind)(key=key)
    if values is not None:
        return widget.set_value(values[index])
    return widget.select_index(index) if kind == "selectbox" else widget.set_value(widget.options[index])


def first_team() -> str:
    """The extract's first team (team IDs differ between extracts)."""
    from queries.engine import Engine
    from schemas.extract import data_dir, open_extract

    return Engine(open_extract(data_dir())).run("team_list")["team_id"][0]


def interactions(app, passes: int) -> list[tuple[str, str, float, bool]]:
    """CPU seconds per widget change of each INTERACTIONS entry, and whether it ran as a fragment."""
    results = []
    for page, kind, key, values, fragment_key in INTERACTIONS:
        if values is not None and "first team" in values:
            values = tuple(first_team() if v == "first team" else v for v in values)
        app.switch_page(f"pages/{page}.py").run()
        if page == "caseload":  # the sections are on the manager's view
            app.radio(key="caseload_view").set_value("My team").run()
        if len(getattr(app, kind)(key=key).options) < 2:
            results.append((page, key, float("nan"), False))
            continue
        for index in (1, 0):  # warm: both answers cached
            choose(app, kind, key, values, index).run()
        changes = passes * 4
        started = time.process_time()
        for n in range(changes):
            with fragment_rerun(app, fragment_key) as alone:
                choose(app, kind, key, values, (n + 1) % 2).run()
            assert not app.exception, app.exception
        results.append((page, key, (time.process_time() - started) / changes, alone))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "sample_data"))
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--per-page", action="store_true", help="each page's CPU per view")
    parser.add_argument("--interactions", action="store_true", help="CPU per widget change in a section")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="the top N functions, cumulative")
    parser.add_argument("--fresh-figures", action="store_true", help="no kept figures: a reader's first views")
    args = parser.parse_args(argv)
    os.environ["CHILDSTAT_DATA"] = str(Path(args.data).resolve())
    sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    from app import page_files

    pages = [p for p in page_files() if p.stem != "import_data"]
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    app.run()
    for page in pages:
        app.switch_page(f"pages/{page.name}").run()
    per_page: dict[str, float] = {}
    with profiled(args.profile) as profile:
        per_view = page_views(app, pages, args.passes, per_page, args.fresh_figures)
    print(f"{per_view:.3f} s CPU per warm page view ({len(pages)} pages x {args.passes} passes, {args.data})")
    if args.per_page:
        for stem, seconds in sorted(per_page.items(), key=lambda item: -item[1]):
            print(f"  {stem:<20} {seconds / args.passes:.3f} s")
    if args.interactions:
        print("CPU per widget change in a section:")
        for page, key, seconds, alone in interactions(app, args.passes):
            print(f"  {page:<10} {key:<22} {seconds:.3f} s ({'the section alone' if alone else 'whole page'})")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
