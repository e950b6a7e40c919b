"""Turning column arrays into contract-typed Polars frames and writing them as Parquet.

Column order and types come from schemas/contract.py. Day numbers become DATE; a nullable
date after as_of (an end not reached yet) becomes null; NaN in a float column becomes null.
Only table files and manifest.json are ever written or replaced in the output folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from schemas.contract import TABLES

POLARS_TYPE = {"str": pl.String, "date": pl.Date, "bool": pl.Boolean, "float": pl.Float64, "int": pl.Int64}
BIG_TABLES = (
    "children",
    "referrals",
    "assessments",
    "factors",
    "section47",
    "cp_plans",
    "cp_reviews",
    "cin_plans",
    "looked_after",
    "visits",
    "service_episodes",
    "education",
    "neet_status",
    "contacts",
    "early_help",
    "cla_reviews",
    "missing_episodes",
    "care_leavers",
    "uasc",
)


def str_ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """IDs such as C0000123 from integers, built column-wise."""
    s = pl.Series("n", np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str([pl.lit(prefix), s])).to_series()


def column(values, typ: str, nullable: bool, as_of: int) -> pl.Series:
    """One contract-typed column from a numpy array, list or Series."""
    if isinstance(values, pl.Series):
        return values.cast(POLARS_TYPE[typ])
    if typ == "date":
        days = np.asarray(values, dtype=np.int64)
        s = pl.Series(days.astype(np.int32)).cast(pl.Date)
        return s.set(pl.Series(days > as_of), None) if nullable else s  # type: ignore[arg-type]
    if typ == "float":
        return pl.Series(np.asarray(values, dtype=np.float64)).fill_nan(None)
    if typ == "int":
        return pl.Series(np.asarray(values, dtype=np.int64))
    if typ == "bool" and not isinstance(values, list) and np.asarray(values).dtype == bool:
        return pl.Series(np.asarray(values))
    if isinstance(values, np.ndarray):
        values = values.tolist()  # object arrays (strings with None) go through Python objects
    return pl.Series(values, dtype=POLARS_TYPE[typ])


def frame(table: str, cols: dict, as_of: int) -> pl.DataFrame:
    """A frame with exactly the contract's columns, in order, with the contract's types."""
    spec = TABLES[table]
    missing = set(spec.column_names) ^ set(cols)
    assert not missing, f"{table}: column mismatch {missing}"
    return pl.DataFrame([column(cols[c.name], c.type, c.nullable, as_of).alias(c.name) for c in spec.columns])


def clear_table(out: Path, table: str) -> None:
    """Remove an earlier copy of one table (its file, or the part files of its folder)."""
    single = out / f"{table}.parquet"
    if single.is_file():
        single.unlink()
    folder = out / table
    if folder.is_dir():
        for part in folder.glob("part-*.parquet"):
            part.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()


def write_table(out: Path, table: str, df: pl.DataFrame, part: int | None) -> Path:
    """Write one table, or one part of a table folder when part is given."""
    if part is None:
        path = out / f"{table}.parquet"
    else:
        (out / table).mkdir(exist_ok=True)
        path = out / table / f"part-{part:04d}.parquet"
    df.write_parquet(path, compression="zstd", compression_level=9, statistics=True)
    return path


def write_manifest(out: Path, manifest: dict) -> None:
    """manifest.json beside the tables."""
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
