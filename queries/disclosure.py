"""Disclosure control: what of an answer may leave the engine, for whom.

Every question declares which of its columns are counts of children (or of their records), which
of those are about children outside the cohort asked for (`comparison_counts`), which columns are
derived from counts, and how its counts are protected (queries/registry.py). The engine calls
`protect` on every answer for a signed-in user (and for `python -m queries run --as ROLE`):

- A count is **in the user's scope** when it is about the user's own children: a team manager's
  own team (a row of their team, or a question forced to their team) or a social worker's own
  caseload. Analysts and administrators see every child, so every count is in their scope. A count
  in scope is shown exactly; a comparison count never is (it is about other teams' children).
- Every other count is protected:
  * `cell-key` (questions whose cohort can be redrawn freely, as on Patterns): the ABS/ONS cell-key
    method. Each child has a secret record key (a keyed hash of its ID); a cell's key is a hash of
    the XOR of the record keys of the children it counts and of the children of its whole table
    (the cohort, or the comparison group), so it depends only on those sets of children. The
    perturbation (−2 to +2, zero-mean) is read from the cell key, so the same children always give
    the same figure, however the cohort was described, and the difference of two views that differ
    by one child is noise in every cell. Counts left at `threshold` or below after perturbation are hidden, and so
    are true zeros (a shown zero beside a hidden count would give the one child away). Derived columns (percentages, intervals, lift, p, q) are then recomputed from
    the protected counts by the question's own `restat`.
  * `suppression` (questions with fixed breakdowns: teams, months, services): counts from 1 to
    `threshold` are hidden, with secondary suppression so a hidden count cannot be worked back from
    the totals shown beside it.
- Whatever is derived from a hidden count is hidden.

`docs/disclosure.md` explains the choice, and what each role sees; tests/test_disclosure.py runs
the attacks.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

import duckdb
import polars as pl

from queries.settings import SettingsError, setting
from queries.suppress import is_small, secondary_mask, suppression_on
from schemas.cache import private_folder, tighten

log = logging.getLogger("childstat")

KEY_SUFFIX = "_ckey"
# The perturbation for each of the 256 cell keys (how many keys give each value): zero-mean, and a
# difference of two independent perturbations is 4 or more in magnitude only (13/256)^2 of the time.
PERTURBATION_WEIGHTS = ((-2, 13), (-1, 51), (0, 128), (1, 51), (2, 13))
PERTURBATION = tuple(p for p, weight in PERTURBATION_WEIGHTS for _ in range(weight))
assert len(PERTURBATION) == 256

ROLE_SEES = {
    "admin": "Exact figures for every child. Small numbers are not hidden: check before sharing outside the service.",
    "analyst": "Exact figures for every child. Small numbers are not hidden: check before sharing outside the service.",
    "team_manager": "Figures about your team's children are exact. Counts about other teams and the whole council are "
    "protected: small ones are hidden (c) and on Patterns each is moved by up to 2, so none can be worked back.",
    "social_worker": "Figures about your own caseload are exact. Counts about other children are protected: small "
    "ones are hidden (c), so none can be worked back.",
    "head_of_service": "Counts about children are protected: small ones are hidden (c) and on Patterns each is moved "
    "by up to 2, so no child can be picked out by comparing views.",
}


def protection_line(role: str) -> str:
    """One line for the top of every page: what the reader sees, exact or protected."""
    return ROLE_SEES[role]


def perturbation(cell_key: int) -> int:
    return PERTURBATION[int(cell_key) & 255]


def cell_key_secret(cache: Path) -> str:
    """The secret behind every record key: $CHILDSTAT_CELL_KEY, else one made once and kept (0600) in the cache.

    It must stay the same across restarts and server processes: a new secret would give every cell
    new noise, and averaging answers from several secrets would remove it. Where the cache folder
    cannot be used (shared, read-only), this process makes its own and says so in the log.
    """
    given = os.environ.get("CHILDSTAT_CELL_KEY")
    if given:
        return given
    path = cache / "cell-key"
    try:
        private_folder(cache)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:  # made before (or by another process just now): everyone uses that one
            tighten(path)
            return path.read_text(encoding="utf-8").strip()
        made = secrets.token_hex(32)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(made)
        return made
    except OSError as exc:
        if (os.environ.get("CHILDSTAT_MODE") or setting("mode")) != "local":
            # A secret made afresh at every start would let noise be averaged away across restarts.
            raise SettingsError(
                "a hosted instance needs a lasting cell-key secret: set CHILDSTAT_CELL_KEY or give ChildStat a "
                f"cache folder of its own ({type(exc).__name__} on {cache})"
            ) from None
        log.warning("no lasting cell-key secret (%s): set CHILDSTAT_CELL_KEY", type(exc).__name__)
        return secrets.token_hex(32)


def install_record_keys(con: duckdb.DuckDBPyConnection, secret: str) -> None:
    """`record_key(id)`: a child's secret 64-bit key; `cell_key(cell_set, table_set)`: a cell's key.

    A set's key is `bit_xor(record_key(child_id))` over its children (XOR, so a set's key can be taken
    out of a larger set's, as `rest = population - cohort`). A cell's key mixes the key of the children
    it counts with the key of the whole cohort (the table) it is part of: when one child joins the
    cohort, every cell of the table gets fresh noise, not only the cells that child is counted in, so
    which figures moved says nothing about the child.
    """
    literal = secret.replace("'", "''")
    con.execute(f"CREATE OR REPLACE MACRO record_key(x) AS hash(x::VARCHAR, '{literal}')")
    con.execute("CREATE OR REPLACE MACRO cell_key(cell_set, table_set) AS hash(cell_set::UBIGINT, table_set::UBIGINT)")


def in_scope_rows(frame: pl.DataFrame, query, scope) -> list[bool]:
    """Which rows are about the user's own children (exact) rather than about others (protected)."""
    if scope.sees_everything:
        return [True] * frame.height
    if scope.role == "team_manager":
        if "team_id" in frame.columns:
            return [team == scope.team_id for team in frame["team_id"].to_list()]
        return [query.param("team_id") is not None and scope.team_id is not None] * frame.height
    if scope.role == "social_worker":
        if "worker_id" in frame.columns:
            return [worker == scope.worker_id for worker in frame["worker_id"].to_list()]
        return [query.param("worker_id") is not None and scope.worker_id is not None] * frame.height
    return [False] * frame.height


def without_keys(frame: pl.DataFrame) -> pl.DataFrame:
    keys = [c for c in frame.columns if c.endswith(KEY_SUFFIX)]
    return frame.drop(keys) if keys else frame  # the same object when there is nothing to drop (kept answers)


def protect(frame: pl.DataFrame, query, scope) -> pl.DataFrame:
    """The answer as this user may see it: counts outside their scope protected, cell keys removed."""
    if scope is None or scope.sees_everything or not suppression_on() or frame.is_empty():
        return without_keys(frame)
    counts = [c for c in query.counts if c in frame.columns]
    inside = in_scope_rows(frame, query, scope)
    guarded = {c: [c in query.comparison_counts or not inside[r] for r in range(frame.height)] for c in counts}
    threshold = setting("threshold")
    values = {c: frame[c].to_list() for c in counts}
    if query.protection == "cell-key":
        protected = _perturbed(frame, values, guarded, threshold)
    else:
        protected = _suppressed(query, values, guarded, threshold, row_blocks(frame, query.suppress_within))
    out = frame.with_columns(
        pl.Series(c, protected[c], dtype=frame.schema[c], strict=False) for c in counts if protected[c] != values[c]
    )
    if query.restat is not None:
        out = query.restat(out)
    for column, sources in query.derived.items():
        if column in out.columns:
            lost = pl.any_horizontal([pl.col(s).is_null() for s in sources if s in out.columns] or [pl.lit(False)])
            out = out.with_columns(pl.when(lost).then(None).otherwise(pl.col(column)).alias(column))
    return without_keys(out)


def _perturbed(frame: pl.DataFrame, values: dict, guarded: dict, threshold: int) -> dict:
    out = {}
    for column, column_values in values.items():
        key_column = column + KEY_SUFFIX
        if key_column not in frame.columns:
            raise ValueError(f"cell-key question without {key_column} beside its count {column}")
        keys = frame[key_column].to_list()
        shown = []
        for value, key, protect_it in zip(column_values, keys, guarded[column], strict=True):
            if protect_it and value is not None:
                # A true zero is hidden like a small count: were zeros shown, a view with 0 beside one
                # with a hidden count would say for certain that the one child between them is counted.
                value = max(value + perturbation(key or 0), 0) if value else 0
                if value <= threshold:
                    value = None
            shown.append(value)
        out[column] = shown
    return out


def row_blocks(frame: pl.DataFrame, within: tuple[str, ...]) -> list[list[int]]:
    """The row numbers of each block of rows that is a table of its own (all rows when no `within`)."""
    if not within:
        return [list(range(frame.height))]
    numbered = frame.select(within).with_row_index("_row")
    return [part["_row"].to_list() for _, part in numbered.group_by(list(within), maintain_order=True)]


def _suppressed(query, values: dict, guarded: dict, threshold: int, blocks: list[list[int]]) -> dict:
    """Primary suppression of small guarded counts, then secondary within each declared group and block."""
    groups = [[c for c in group if c in values] for group in query.count_groups]
    loose = [c for c in query.comparison_counts if c in values and not any(c in g for g in groups)]
    out = {c: list(v) for c, v in values.items()}
    for group in [g for g in groups if g] + ([loose] if loose else []):
        for rows in blocks:
            grid = [[values[c][r] for c in group] for r in rows]
            eligible = [[guarded[c][r] for c in group] for r in rows]
            mask = [
                [ok and is_small(v, threshold) for ok, v in zip(e, g, strict=True)]
                for e, g in zip(eligible, grid, strict=True)
            ]
            secondary_mask(mask, grid, eligible)
            for i, column in enumerate(group):
                for j, r in enumerate(rows):
                    if mask[j][i]:
                        out[column][r] = None
    return out
