"""The benchmark still runs: on the tiny extract, once per query, one table row per named question."""

from __future__ import annotations

from benchmarks.run import main
from queries.registry import all_queries


def test_benchmark_runs_on_the_tiny_extract(tiny_dir, capsys):
    """`python -m benchmarks.run --data tiny --repeat 1` prints a row for every query, none failed."""
    assert main(["--data", str(tiny_dir), "--repeat", "1"]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| tiny |")]
    cells = {line.split("|")[2].strip(): [c.strip() for c in line.split("|")[3:-1]] for line in table}
    assert set(all_queries()) <= set(cells), table
    assert "(engine start-up)" in cells
    assert any(name.startswith("(validation") for name in cells)
    for name in all_queries():
        rows, cold, _warm, peak = cells[name]
        if rows.startswith("required parameter"):  # skipped, with the reason: a parameter it cannot pick
            continue
        assert rows.replace(",", "").isdigit(), (name, cells[name])  # answered, not an error
        assert float(cold.replace(",", "")) > 0 and float(peak.replace(",", "")) > 0
