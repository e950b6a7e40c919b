"""Finding an extract on disk: its folder, manifest, table files and as_of date.

Nothing here writes to the extract. Each table is `<dir>/<table>.parquet` or a
folder `<dir>/<table>/` of Parquet files (hive partitioning allowed).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from schemas.contract import TABLES, readable_version

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO_ROOT / "sample_data"


class ExtractError(Exception):
    """The extract cannot be used at all (exit status 2): not a folder, no Parquet, bad manifest."""


@dataclass
class TableSource:
    """Where one table's Parquet lives, as DuckDB reads it."""

    name: str
    path: Path
    is_folder: bool

    def read_sql(self) -> str:
        """A DuckDB table function over the file(s); the path is quoted, never user SQL."""
        if self.is_folder:
            glob = str(self.path / "**" / "*.parquet").replace("'", "''")
            return f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
        return f"read_parquet('{str(self.path).replace(chr(39), chr(39) * 2)}')"


@dataclass
class Extract:
    path: Path
    manifest: dict
    tables: dict[str, TableSource]
    as_of: dt.date
    as_of_source: str  # "manifest" or "latest event date"
    unknown_files: list[str] = field(default_factory=list)

    @property
    def la_name(self) -> str:
        return self.manifest.get("la_name") or self.path.name

    def files(self) -> list[Path]:
        """Every Parquet file of every table found."""
        found = []
        for src in sorted(self.tables.values(), key=lambda s: s.name):
            found += sorted(src.path.rglob("*.parquet")) if src.is_folder else [src.path]
        return found

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files())

    def signature(self) -> str:
        """Changes whenever any table file changes: a cache key for results."""
        parts = []
        for f in self.files():
            st = f.stat()
            parts.append(f"{f}:{st.st_size}:{st.st_mtime_ns}")
        manifest = self.path / "manifest.json"
        if manifest.exists():
            parts.append(f"manifest:{manifest.stat().st_mtime_ns}")
        return "|".join(parts)


def data_dir(cli_arg: str | os.PathLike | None = None) -> Path:
    """--data DIR, else $CHILDSTAT_DATA, else the shipped sample_data/."""
    if cli_arg:
        return Path(cli_arg)
    env = os.environ.get("CHILDSTAT_DATA")
    if env:
        return Path(env)
    return SAMPLE_DATA


def find_tables(path: Path) -> tuple[dict[str, TableSource], list[str]]:
    tables: dict[str, TableSource] = {}
    unknown: list[str] = []
    for entry in sorted(path.iterdir()):
        if entry.is_file() and entry.suffix == ".parquet":
            name, is_folder = entry.stem, False
        elif entry.is_dir() and any(entry.rglob("*.parquet")):
            name, is_folder = entry.name, True
        else:
            continue
        if name in TABLES:
            tables[name] = TableSource(name, entry, is_folder)
        else:
            unknown.append(entry.name)
    return tables, unknown


def read_manifest(path: Path) -> dict:
    manifest_file = path / "manifest.json"
    if not manifest_file.exists():
        return {}
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ExtractError(f"manifest.json in {path} is not valid JSON: {exc}") from None
    if not isinstance(manifest, dict):
        raise ExtractError(f"manifest.json in {path} must hold a JSON object")
    if not readable_version(manifest.get("contract", 1)):
        raise ExtractError(
            f"manifest.json says contract {manifest.get('contract')!r}; this ChildStat reads contract 1 and 1.1"
        )
    return manifest


def latest_event_date(tables: dict[str, TableSource]) -> dt.date | None:
    """The latest date in any date column of any readable table (as_of without a manifest)."""
    latest = None
    con = duckdb.connect()
    for name, src in tables.items():
        date_cols = [c.name for c in TABLES[name].columns if c.type == "date" and c.name != "birth_date"]
        if not date_cols:
            continue
        try:
            have = {r[0] for r in con.sql(f"DESCRIBE SELECT * FROM {src.read_sql()}").fetchall()}
            cols = [c for c in date_cols if c in have]
            if not cols:
                continue
            row = con.sql(
                f"SELECT max(greatest({', '.join(f'try_cast({c} AS DATE)' for c in cols)})) FROM {src.read_sql()}"
                if len(cols) > 1
                else f"SELECT max(try_cast({cols[0]} AS DATE)) FROM {src.read_sql()}"
            ).fetchall()
        except duckdb.Error:
            continue  # an unreadable table is reported by validation, not here
        if row and row[0][0] and (latest is None or row[0][0] > latest):
            latest = row[0][0]
    con.close()
    return latest


def open_extract(path: str | os.PathLike | None = None) -> Extract:
    """Find the extract's tables and as_of; raise ExtractError if it cannot be used at all."""
    folder = data_dir(path)
    if not folder.exists():
        raise ExtractError(f"the extract folder {folder} does not exist")
    if not folder.is_dir():
        raise ExtractError(f"{folder} is not a folder; an extract is a folder of Parquet files")
    manifest = read_manifest(folder)
    tables, unknown = find_tables(folder)
    if not tables:
        raise ExtractError(
            f"{folder} holds no extract tables: expected files such as children.parquet and referrals.parquet"
        )
    if manifest.get("as_of"):
        try:
            as_of = dt.date.fromisoformat(str(manifest["as_of"]))
        except ValueError:
            raise ExtractError(f"manifest.json as_of {manifest['as_of']!r} is not a date (YYYY-MM-DD)") from None
        source = "manifest"
    else:
        as_of = latest_event_date(tables) or dt.date.today()
        source = "latest event date"
    return Extract(folder, manifest, tables, as_of, source, unknown)
