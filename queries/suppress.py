"""Small-number suppression for outputs that could be shared (DfE practice).

Counts from 1 to the threshold (setting, default 5) are hidden. Secondary
suppression then hides the next-smallest count in any row or column of a table
where exactly one cell is hidden, so a hidden count cannot be worked back from
a total. A rate or percentage computed from a hidden count is hidden too.
Hidden cells become null; pages show them with the setting's symbol.
"""

from __future__ import annotations

import polars as pl

from queries.settings import setting


def is_small(n, threshold: int | None = None) -> bool:
    threshold = setting("threshold") if threshold is None else threshold
    return n is not None and 1 <= n <= threshold


def suppression_on() -> bool:
    return bool(setting("enabled"))


def hidden(n) -> bool:
    """Whether a single count must be hidden under the current settings."""
    return suppression_on() and is_small(n)


def secondary_mask(mask: list[list[bool]], values: list[list], eligible: list[list[bool]] | None = None) -> None:
    """Hide one more cell wherever a line (row or column) has exactly one hidden cell.

    Greedy: prefer a cell whose crossing line also has exactly one hidden cell (one
    extra cell then protects both lines), then the smallest count. Only `eligible` cells
    (all, when not given) may be hidden: counts the user may see exactly are never hidden.
    """
    n_rows, n_cols = len(mask), len(mask[0])
    rows = [[(r, c) for c in range(n_cols)] for r in range(n_rows)]
    cols = [[(r, c) for r in range(n_rows)] for c in range(n_cols)]

    def hidden_in(line):
        return sum(mask[r][c] for r, c in line)

    changed = True
    while changed:
        changed = False
        for is_row, lines in ((True, rows), (False, cols)):
            for line in lines:
                if len(line) < 2 or hidden_in(line) != 1:
                    continue
                candidates = [
                    (r, c)
                    for r, c in line
                    if not mask[r][c] and values[r][c] not in (None, 0) and (eligible is None or eligible[r][c])
                ]
                if not candidates:
                    continue

                def preference(cell, is_row=is_row):
                    crossing = cols[cell[1]] if is_row else rows[cell[0]]
                    return (hidden_in(crossing) != 1 or len(crossing) < 2, values[cell[0]][cell[1]])

                r, c = min(candidates, key=preference)
                mask[r][c] = True
                changed = True


def suppress_frame(
    frame: pl.DataFrame,
    count_columns: list[str],
    derived: dict[str, list[str]] | None = None,
    secondary: bool = True,
    threshold: int | None = None,
) -> pl.DataFrame:
    """Null out small counts (and what derives from them); `derived` maps a rate column to its counts."""
    if not suppression_on() or frame.is_empty() or not count_columns:
        return frame
    threshold = setting("threshold") if threshold is None else threshold
    values = [[row[c] for c in count_columns] for row in frame.select(count_columns).iter_rows(named=True)]
    mask = [[is_small(v, threshold) for v in row] for row in values]
    if secondary:
        secondary_mask(mask, values)
    hidden = {c: pl.Series([mask[r][i] for r in range(len(mask))]) for i, c in enumerate(count_columns)}
    out = frame.with_columns(pl.when(hidden[c]).then(None).otherwise(pl.col(c)).alias(c) for c in count_columns)
    for rate, sources in (derived or {}).items():
        any_hidden = pl.Series([any(hidden[s][r] for s in sources) for r in range(frame.height)])
        out = out.with_columns(pl.when(any_hidden).then(None).otherwise(pl.col(rate)).alias(rate))
    return out
