"""Writing an import into an extract folder, merging with what is already there.

`--out` may be a new folder or an existing extract. Rows are merged by each table's key
(children by child_id, referrals by referral_id, ...), so importing several years, or a CIN
census and then the SSDA903 return, gives one row per child and per episode:

1. rows an earlier run of the same source (same format and reference date) wrote are
   replaced: re-importing a corrected file leaves no stale rows;
2. a row whose key is already there is updated: the new value wins, and a value the new
   source does not hold (empty, or the team UNKNOWN) keeps the one already there;
3. looked_after: SSDA903 and SSD episodes are more detailed than Annex A's one row per period of
   care, so Annex A care rows give way to episode rows for the same child (in either order of import).

Each table is written to a temporary file and renamed into place; manifest.json gets the
latest as_of of the two and the LA code and name when known. A table stored as a folder of
Parquet files is never rewritten (its new rows are not written, and the report says so).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import polars as pl

from ingest import privacy
from ingest.orgs import UNKNOWN_TEAM
from ingest.report import RunReport, SourceError
from ingest.rows import IMPORTED_FROM, Imported, table_key
from schemas.contract import CONTRACT_VERSION, TABLES, readable_version


def check_out(out: Path) -> dict:
    """The existing manifest of `out` ({} if new); SourceError if `out` is a non-empty non-extract."""
    if out.exists() and not out.is_dir():
        raise SourceError(f"--out {out} is a file; give a folder (new, or an existing extract)")
    if not out.exists():
        return {}
    entries = [p for p in out.iterdir() if not p.name.startswith(".")]
    is_extract = (out / "manifest.json").exists() or any(
        p.stem in TABLES and (p.suffix == ".parquet" or p.is_dir()) for p in entries
    )
    if entries and not is_extract:
        raise SourceError(f"--out {out} is not empty and is not an extract; give a new folder or an extract")
    manifest_file = out / "manifest.json"
    if not manifest_file.exists():
        return {}
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SourceError(f"{manifest_file} is not valid JSON; fix or remove it before importing into {out}") from None
    if not isinstance(manifest, dict) or not readable_version(manifest.get("contract", 1)):
        raise SourceError(f"{manifest_file} is not a ChildStat extract manifest of format 1 or 1.1")
    return manifest


def write(imported: Imported, out: Path, report: RunReport, private: bool, la_name=None, la_code=None) -> None:
    """Merge the imported frames into the extract at `out` and write the manifest."""
    manifest = check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    if manifest.get("privacy") and not private:
        report.note("the extract was written with the privacy option on, so it stays on for this import")
        private = True
    for table, new in imported.frames.items():
        target = out / f"{table}.parquet"
        if (out / table).is_dir():
            report.note(f"{table}: the extract keeps it as a folder of Parquet files, which is never rewritten; "
                        f"its {new.height} new rows were not written")  # fmt: skip
            continue
        merged = new
        if target.exists():
            try:
                merged = merge_table(table, pl.read_parquet(target), new, imported.label, report)
            except (pl.exceptions.PolarsError, OSError) as exc:
                report.note(f"{table}: the existing table could not be merged ({type(exc).__name__}); left unchanged")
                continue
        elif table == "looked_after":
            merged = merge_table(table, new.clear(), new, imported.label, report)
        if private:
            merged = privacy.degrade(table, merged)
        _write_atomic(merged, target)
        report.written.append(table)
    report.left_out = [t for t in TABLES if t not in report.written and not _present(out, t)]
    report.out = str(out)
    report.as_of = _write_manifest(out, manifest, imported, private, la_name, la_code)


def _present(out: Path, table: str) -> bool:
    return (out / f"{table}.parquet").exists() or (out / table).is_dir()


def merge_table(table: str, old: pl.DataFrame, new: pl.DataFrame, label: str, report: RunReport) -> pl.DataFrame:
    """`new` upserted into `old` by the table's key (see the module docstring)."""
    key = list(table_key(table))
    if IMPORTED_FROM in old.columns:
        same = old[IMPORTED_FROM] == label
        if same.any():
            report.note(f"{table}: {int(same.sum())} rows from an earlier import of the same source were replaced")
            old = old.filter(~same.fill_null(False))
    if table == "looked_after":
        old, new = _care_precedence(old, new, report)
    old = old.with_columns(pl.col(c).cast(new.schema[c]) for c in old.columns if c in new.columns)
    if old.height == 0:
        return pl.concat([old, new], how="diagonal_relaxed") if old.width else new
    shared = [c for c in new.columns if c in old.columns and c not in key]
    renamed = old.select(key + shared).rename({c: f"{c}__old" for c in shared})
    matched = new.join(renamed, on=key, how="left", nulls_equal=True)
    updates = []
    for c in shared:
        fresh = pl.col(c)
        if c == "team_id":
            fresh = pl.when(fresh == UNKNOWN_TEAM).then(None).otherwise(fresh)
        updates.append(pl.coalesce(fresh, pl.col(f"{c}__old"), pl.col(c)).alias(c))
    matched = matched.with_columns(updates).drop([f"{c}__old" for c in shared])
    only_old = [c for c in old.columns if c not in new.columns]
    if only_old:  # extra columns the new source does not have: carry them over
        matched = matched.join(old.select(key + only_old), on=key, how="left", nulls_equal=True)
    rest = old.join(new.select(key), on=key, how="anti", nulls_equal=True)
    return pl.concat([rest, matched], how="diagonal_relaxed")


EPISODE_SOURCES = r"^(ssda903|ssd) "  # labels of sources whose looked_after rows are episodes


def _care_precedence(old: pl.DataFrame, new: pl.DataFrame, report: RunReport) -> tuple[pl.DataFrame, pl.DataFrame]:
    """SSDA903 and SSD episodes win over Annex A periods of care for the same child."""
    if IMPORTED_FROM not in old.columns or old.height == 0:
        return old, new
    if new[IMPORTED_FROM].str.contains(EPISODE_SOURCES).any():
        source = "SSD" if new[IMPORTED_FROM].str.starts_with("ssd ").any() else "SSDA903"
        children = new["child_id"].unique().implode()
        mask = old[IMPORTED_FROM].str.starts_with("annex_a").fill_null(False) & old["child_id"].is_in(children)
        if mask.any():
            report.note(
                f"looked_after: {int(mask.sum())} Annex A care rows replaced by the children's {source} episodes"
            )
            old = old.filter(~mask)
    elif new[IMPORTED_FROM].str.starts_with("annex_a").any():
        episodes = old.filter(old[IMPORTED_FROM].str.contains(EPISODE_SOURCES).fill_null(False))["child_id"].unique()
        mask = new["child_id"].is_in(episodes.implode())
        if mask.any():
            report.note(
                f"looked_after: {int(mask.sum())} Annex A care rows not written: those children have SSDA903 or SSD episodes"
            )
            new = new.filter(~mask)
    return old, new


def _write_atomic(frame: pl.DataFrame, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, target)


def _write_manifest(out: Path, manifest: dict, imported: Imported, private: bool, la_name, la_code) -> str:
    dates = [d for d in (_iso(manifest.get("as_of")), imported.as_of) if d]
    as_of = max(dates) if dates else dt.date.today()
    manifest = {
        **manifest,
        "contract": CONTRACT_VERSION,
        "as_of": as_of.isoformat(),
        "privacy": private,
        "imported": sorted({*manifest.get("imported", []), imported.label}),
    }
    for key, value in (("la_name", la_name or imported.la_name), ("la_code", la_code or imported.la_code)):
        if value:
            manifest[key] = str(value)
    tmp = out / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(tmp, out / "manifest.json")
    return manifest["as_of"]


def _iso(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
