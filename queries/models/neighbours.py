"""Statistical neighbours: the published average of the council's statistical neighbours, as the council enters it.

ChildStat ships no neighbour figures: each council has its own ten neighbours, and their averages are
published by DfE (the children's services statistical neighbour benchmarking tool, and LAIT, the LA
interactive tool). An analyst types them into the council's reference file (the template
queries/reference/statistical_neighbours.toml; settings `[reference] statistical_neighbours_file` names
another) with the neighbour list, source and year. docs/reports.md says how.

The file is checked whole before any figure is used: a rule broken anywhere raises
NeighbourFileError naming the file, the entry and the rule, and the board summary leaves out only
its neighbour column (with that message), never the board.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import polars as pl

from queries.engine import QueryError
from queries.registry import python_query
from queries.settings import setting

TEMPLATE = Path(__file__).resolve().parent.parent / "reference" / "statistical_neighbours.toml"
# The measures the board summary sets beside England's (queries/reference/england.toml), and what each is
MEASURES = {
    "rereferral_rate": "share",
    "cases_per_fte": "caseload",
    "assessment_45wd_rate": "share",
    "icpc_15wd_rate": "share",
}
FIGURE_KEYS = {"measure", "value", "year", "source"}
YEAR = re.compile(r"^\d{4}(?:[-/]\d{2})?$")  # 2024, or a reporting year such as 2023-24
COLUMNS = {"measure": pl.String, "value": pl.Float64, "year": pl.String, "source": pl.String, "neighbours": pl.String}


class NeighbourFileError(QueryError):
    """The statistical-neighbour file breaks a rule (the message names the file, the entry and the rule)."""


def neighbour_file() -> Path:
    """The council's file: settings `[reference] statistical_neighbours_file`, else the shipped template."""
    configured = setting("statistical_neighbours_file")
    return Path(configured) if configured else TEMPLATE


def _figure(path: Path, number: int, entry) -> dict:
    """One [[figure]] entry, checked; its measure, value, year and source."""
    where = f"{path}: figure {number}"
    if not isinstance(entry, dict):
        raise NeighbourFileError(f"{where}: each figure is a [[figure]] table")
    measure = entry.get("measure")
    if measure not in MEASURES:
        raise NeighbourFileError(f"{where}: measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    where = f"{where} ({measure})"
    unknown = sorted(set(entry) - FIGURE_KEYS)
    missing = sorted(FIGURE_KEYS - set(entry))
    if unknown:
        raise NeighbourFileError(f"{where}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(FIGURE_KEYS))})")
    if missing:
        raise NeighbourFileError(
            f"{where}: {missing[0]} is missing (every figure has {', '.join(sorted(FIGURE_KEYS))})"
        )
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise NeighbourFileError(f"{where}: value must be a number, got {value!r}")
    if MEASURES[measure] == "share" and not 0 <= value <= 1:
        raise NeighbourFileError(f"{where}: value is a share, a fraction from 0 to 1 (22% is 0.22), got {value!r}")
    if MEASURES[measure] == "caseload" and not 0 < value < 100:
        raise NeighbourFileError(f"{where}: value is cases per FTE, above 0 and below 100, got {value!r}")
    year = str(entry["year"])
    if not YEAR.match(year):
        raise NeighbourFileError(f'{where}: year must be a year such as "2024" or "2023-24", got {entry["year"]!r}')
    source = entry["source"]
    if not isinstance(source, str) or not source.strip():
        raise NeighbourFileError(f"{where}: source must say where the figure was published (the tool and its date)")
    return {"measure": measure, "value": float(value), "year": year, "source": source.strip()}


def read_neighbours(path: Path) -> pl.DataFrame:
    """Every figure in the file, checked (NeighbourFileError at the first broken rule); none for the template."""
    try:
        with path.open("rb") as f:
            content = tomllib.load(f)
    except FileNotFoundError:
        raise NeighbourFileError(f"{path}: no such file (settings [reference] statistical_neighbours_file)") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise NeighbourFileError(f"{path}: cannot be read as TOML: {exc}") from None
    unknown = sorted(set(content) - {"neighbours", "figure"})
    if unknown:
        raise NeighbourFileError(f"{path}: unknown entry {unknown[0]!r} (the file holds neighbours and [[figure]]s)")
    entries = content.get("figure", [])
    if not isinstance(entries, list):
        raise NeighbourFileError(f"{path}: figures are [[figure]] tables")
    figures = [_figure(path, number, entry) for number, entry in enumerate(entries, start=1)]
    seen = set()
    for number, figure in enumerate(figures, start=1):
        if figure["measure"] in seen:
            raise NeighbourFileError(f"{path}: figure {number} ({figure['measure']}): this measure is given twice")
        seen.add(figure["measure"])
    neighbours = content.get("neighbours", [])
    names_ok = isinstance(neighbours, list) and all(isinstance(n, str) and n.strip() for n in neighbours)
    if not names_ok or len(set(neighbours)) != len(neighbours):
        raise NeighbourFileError(f"{path}: neighbours must be a list of the neighbouring councils' names, each once")
    if figures and not neighbours:
        raise NeighbourFileError(f"{path}: neighbours is empty: name the councils whose average the figures are")
    listed = ", ".join(n.strip() for n in neighbours)
    return pl.DataFrame([figure | {"neighbours": listed} for figure in figures], schema=COLUMNS)


@python_query(
    "statistical_neighbours",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager", "social_worker"),
    title="Statistical neighbours' published figures",
    description="The average of the council's statistical neighbours for each measure the board summary sets "
    "beside England's (re-referral rate, caseload per case-holding FTE, assessments within 45 working days, ICPCs "
    "within 15 working days), as the council entered them from DfE's children's services statistical neighbour "
    "benchmarking tool or LAIT, with the neighbours, year and source (queries/reference/statistical_neighbours.toml "
    "or the file settings [reference] names). None until the council enters them; a file that breaks a rule is "
    "refused with a message naming the file, the entry and the rule.",
    tables=[],
    params=[],
)
def statistical_neighbours(cursor) -> pl.DataFrame:
    return read_neighbours(neighbour_file())


def neighbour_file_problem() -> str | None:
    """Why the neighbour file cannot be used, in words; None when it can (for a report's note)."""
    try:
        read_neighbours(neighbour_file())
    except NeighbourFileError as exc:
        return str(exc)
    return None
