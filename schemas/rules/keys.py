"""Unique keys over a whole table, when its rows are checked a batch at a time.

Pandera's unique checks (`unique=True` on a column, `unique=[...]` on the frame) need every row
at once, so a table checked in batches has them here instead, with the same result: the
failure counts every row whose key is repeated (nulls count as equal values, as in Pandera)
and shows the first MAX_EXAMPLES of them in the table's row order.

`KeyHashes` keeps one 64-bit hash per row while the batches go by; only when two hashes are
equal (a repeated key, or, very rarely, two keys with the same hash) does `key_failure` ask
DuckDB for the exact count and examples with `GROUP BY key HAVING count(*) > 1`.
"""

from __future__ import annotations

import duckdb
import polars as pl

from schemas.rules.base import ERROR, MAX_EXAMPLES, Failure, example_columns, example_row
from schemas.rules.table_schema import KeyCheck


class KeyHashes:
    """The hash of one key of every row seen, to tell cheaply whether any key may repeat."""

    def __init__(self, check: KeyCheck):
        self.check = check
        self._chunks: list[pl.Series] = []

    def add(self, frame: pl.DataFrame) -> None:
        """Remember the key hashes of one batch of rows."""
        self._chunks.append(frame.select(self.check.key).hash_rows())

    def may_repeat(self) -> bool:
        """False only when no key repeats; True when one may (`key_failure` then says for sure)."""
        if not self._chunks:
            return False
        hashes = pl.concat(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = []
        return hashes.len() != hashes.n_unique()


def key_failure(con: duckdb.DuckDBPyConnection, relation: str, table: str, check: KeyCheck) -> Failure | None:
    """The unique-key failure of `relation` (a view of `table` in row order), or None."""
    key = ", ".join(f'"{c}"' for c in check.key)
    repeated = f"SELECT {key} FROM {relation} GROUP BY ALL HAVING count(*) > 1"
    count_sql = (
        f"SELECT coalesce(sum(n), 0)::BIGINT FROM (SELECT count(*) AS n FROM {relation} GROUP BY {key} HAVING n > 1)"
    )
    count = con.sql(count_sql).fetchall()[0][0]
    if not count:
        return None
    shown = example_columns(table, *check.key)
    same = " AND ".join(f't."{c}" IS NOT DISTINCT FROM d."{c}"' for c in check.key)
    examples_sql = (
        f"SELECT {', '.join(f't.{chr(34)}{c}{chr(34)}' for c in shown)} "
        f"FROM (SELECT row_number() OVER () AS __row, * FROM {relation}) t "
        f"WHERE EXISTS (SELECT 1 FROM ({repeated}) d WHERE {same}) ORDER BY t.__row LIMIT {MAX_EXAMPLES}"
    )
    result = con.sql(examples_sql)
    names, rows = result.columns, result.fetchall()
    examples = [example_row(dict(zip(names, row, strict=True))) for row in rows]
    return Failure(table, check.column, check.check, ERROR, int(count), examples)
