"""The modelling libraries are imported when a question first needs them, safely from many threads.

Importing scipy.stats, statsmodels, scikit-learn or pandas costs 0.3 to 2.5 s each, so `import queries`
(and the command line's `list`, and any SQL question) must import none of them: a budget checked on
sys.modules in a fresh process, not by timing. They are imported through queries/libraries.py, one
thread at a time (statsmodels imported by two Streamlit script threads at once once hung the server),
and the last test has many threads ask their first modelling questions at the same moment.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from queries.libraries import HEAVY, MODELLING, library

ROOT = Path(__file__).resolve().parent.parent
BUDGET = ("statsmodels", "sklearn", "scipy.stats", "scipy.special", "pandas")


def child(code: str, *args: str, timeout: int = 120) -> dict:
    """Run `code` in a fresh Python (with `heavy_loaded()`); it prints one JSON line last."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    try:
        done = subprocess.run(
            [sys.executable, "-c", PRELUDE + textwrap.dedent(code), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child process did not end in {timeout} s (a deadlock?)")
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


PRELUDE = f"""
import sys


def heavy_loaded():
    return sorted(m for m in {BUDGET!r} if m in sys.modules or any(k.startswith(m + ".") for k in sys.modules))
"""


@pytest.mark.parametrize(
    "statement",
    [
        "import queries",
        "import queries.engine",
        # the command line's `list`: the registry imports every question's module
        "from queries.__main__ import list_queries; list_queries()",
    ],
)
def test_importing_queries_imports_no_modelling_library(statement):
    result = child(
        f"""
        import io, json, sys
        from contextlib import redirect_stdout
        with redirect_stdout(io.StringIO()) as listing:
            {statement}
        print(json.dumps({{"heavy": heavy_loaded(), "listed": listing.getvalue().count(chr(10))}}))
        """
    )
    assert result["heavy"] == []
    if "list_queries" in statement:
        from queries.registry import all_queries

        assert result["listed"] == len(all_queries()) > 50


def test_a_sql_question_imports_no_modelling_library(tiny_dir):
    result = child(
        """
        import json, sys
        from queries.__main__ import main
        code = main(["run", "open_cases", "--data", sys.argv[1], "--format", "json"])
        print(json.dumps({"code": code, "heavy": heavy_loaded()}))
        """,
        str(tiny_dir),
    )
    assert result == {"code": 0, "heavy": []}


def test_a_cohort_question_imports_scipy_special_only(tiny_dir):
    """Wilson intervals (standard library), Fisher's test (scipy.special's betaln): no scipy.stats."""
    result = child(
        """
        import json, sys
        from queries.__main__ import main
        code = main(["run", "factor_prevalence", "--data", sys.argv[1], "--param", "team_id=T2"])
        print(json.dumps({"code": code, "heavy": heavy_loaded()}))
        """,
        str(tiny_dir),
    )
    assert result == {"code": 0, "heavy": ["scipy.special"]}


# Questions that test or bound but fit no model: their tails and quantiles come from scipy.special
# (queries/stats/distributions.py, the same numbers as scipy.stats: tests/test_distributions.py).
NO_MODEL = [
    ("rereferral_funnel", {}),  # exact binomial funnel limits, overdispersion's chi-square test
    ("rereferral_funnel_limits", {}),
    ("team_outcomes", {}),  # funnel limits, Poisson rate intervals (gamma quantiles)
    ("time_to_close_logrank", {}),  # log-rank chi-square tail
    ("factor_replication", {"team_id": "T02"}),  # one-sided Fisher (hypergeometric tail)
    ("factor_cooccurrence", {"team_id": "T02"}),
    ("neet_risk_factors", {}),  # its own logistic fit; Wald p-values from the normal tail
]


def test_questions_fitting_no_model_import_scipy_special_but_not_scipy_stats():
    """Each in turn in one fresh process on the sample: after each, nothing heavier than scipy.special."""
    result = child(
        f"""
        import json
        from queries.engine import Engine
        from schemas.extract import SAMPLE_DATA, open_extract

        engine = Engine(open_extract(SAMPLE_DATA))
        after = {{}}
        for name, params in {NO_MODEL!r}:
            rows = engine.run(name, **params).height
            after[name] = [rows, heavy_loaded()]
        print(json.dumps(after))
        """,
        timeout=300,
    )
    assert list(result) == [name for name, _ in NO_MODEL]
    for name, (rows, heavy) in result.items():
        assert rows > 0, name
        assert heavy == ["scipy.special"], (name, heavy)


def test_no_module_imports_a_modelling_library_but_through_the_lock():
    """Every import of scipy, statsmodels, scikit-learn or pandas by the engine, the workbench, the reports and
    the pages (all run in a server's script threads) is `library("...")`."""
    offenders, named = [], set()
    modules = [p for folder in ("queries", "workbench", "reports", "pages") for p in (ROOT / folder).rglob("*.py")]
    for path in sorted(modules):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in HEAVY]
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "library"
                and path.name != "libraries.py"
            ):
                named.add(node.args[0].value)
    assert offenders == [], "name them with queries.libraries.library(...), imported when first used"
    # import_all (what the benchmarks import before timing) covers every library a question names
    assert named and named <= set(MODELLING), named - set(MODELLING)


def test_a_library_is_refused_unless_it_is_a_modelling_library():
    with pytest.raises(ValueError, match="not one of the modelling libraries"):
        library("polars")
    assert "not yet imported" in repr(library("statsmodels.api"))


# Several sessions' first modelling questions at once, each needing libraries nobody has imported yet:
# ETS (statsmodels and pandas), GLM (statsmodels.api), the log-rank test, funnel limits and Fisher's test
# (scipy.special; statsmodels brings scipy.stats). Every answer must arrive, and equal the same questions asked one at a time.
FIRST_AT_ONCE = """
import json, sys, threading
from queries.engine import Engine
from schemas.extract import SAMPLE_DATA, open_extract

QUESTIONS = [
    ("demand_forecast", {}),
    ("neet_calibration", {}),
    ("time_to_close_logrank", {}),
    ("rereferral_funnel_limits", {}),
    ("factor_prevalence", {"team_id": "T02"}),
]
before = heavy_loaded()
engine = Engine(open_extract(SAMPLE_DATA))
barrier = threading.Barrier(2 * len(QUESTIONS))
answers, failures = {}, []

def ask(i, name, params):
    barrier.wait()
    try:
        answers[i, name] = engine.run(name, **params)
    except Exception as exc:
        failures.append(f"{name}: {type(exc).__name__}: {exc}")

threads = [threading.Thread(target=ask, args=(i, n, p)) for i in range(2) for n, p in QUESTIONS]
for t in threads:
    t.start()
for t in threads:
    t.join()
after = heavy_loaded()
again = Engine(open_extract(SAMPLE_DATA))  # a new engine: nothing kept from the first
same = {
    name: all(answers[i, name].equals(again.run(name, **params)) for i in range(2) if (i, name) in answers)
    for name, params in QUESTIONS
}
print(json.dumps({
    "before": before, "after": after, "failures": failures, "answered": len(answers), "same": same,
    "rows": {name: answers[0, name].height for name, _ in QUESTIONS if (0, name) in answers},
}))
"""


def test_first_modelling_questions_from_many_threads_at_once():
    result = child(FIRST_AT_ONCE, timeout=300)
    assert result["before"] == []
    assert result["failures"] == []
    assert result["answered"] == 10
    assert all(result["same"].values()), result["same"]
    assert all(rows > 0 for rows in result["rows"].values()), result["rows"]
    assert {"statsmodels", "scipy.stats", "scipy.special", "pandas"} <= set(result["after"])
